// libFuzzer harness of semantic routing's inputs from outside: the path-events file parser and
// the header rewrite of an arbitrary frame.
//
// The first input byte picks the rewrite (VLAN keep/set/strip, L3 or not) and the headroom (0–7
// bytes); the rest is the frame, in an exactly-sized heap buffer with that headroom in front, so
// ASan sees any access outside it. Invariants (trap otherwise): the shift is −4, 0 or +4 and
// stays inside the buffer; a kept-VLAN, non-L3 rewrite changes only the first 12 bytes; a TTL
// drop changes nothing. The same bytes are also parsed as a path-events file against two paths:
// every accepted event names one of them and times are sorted.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "tcpr/route/rewrite.hpp"
#include "tcpr/route/route_table.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tcpr::route;
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::size_t head = mode >> 5;
  const std::size_t len = size - 1;
  auto buf = std::make_unique<std::uint8_t[]>(head + len + 1);
  std::memcpy(buf.get() + head, data + 1, len);
  const std::vector<std::uint8_t> before(buf.get(), buf.get() + head + len);
  RewriteSpec spec;
  spec.dst_mac = {2, 0, 0, 0, 0, 1};
  spec.src_mac = {2, 0, 0, 0, 0, 2};
  spec.vlan = static_cast<VlanAction>(mode % 3);
  spec.vlan_id = static_cast<std::uint16_t>(mode * 37 % 4095 + 1);
  spec.l3 = (mode & 4) != 0;
  const RewriteResult r = rewrite(buf.get() + head, static_cast<std::uint32_t>(len), static_cast<std::uint32_t>(head), spec);
  check(r.shift == -4 || r.shift == 0 || r.shift == 4);
  check(r.shift >= -static_cast<int>(head) && (r.shift <= 0 || static_cast<std::size_t>(r.shift) <= len));
  if (r.drop != TCPR_DROP_NONE) {
    check(std::memcmp(before.data(), buf.get(), before.size()) == 0);
  } else if (spec.vlan == VlanAction::kKeep && !spec.l3 && len >= 14) {
    check(std::memcmp(before.data() + head + 12, buf.get() + head + 12, len - 12) == 0);
  }
  RoutingConfig cfg;
  cfg.paths.resize(2);
  cfg.paths[0].name = "a";
  cfg.paths[1].name = "b";
  auto ev = parse_path_events(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", cfg, 1'000'000'000);
  if (ev.ok()) {
    const auto& e = ev.value();
    for (std::size_t i = 0; i < e.size(); ++i) {
      check(e[i].path < 2);
      if (i != 0) check(e[i - 1].ts_ns <= e[i].ts_ns);
    }
  }
  return 0;
}
