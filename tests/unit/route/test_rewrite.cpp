// Header rewrite: MACs, VLAN push/rewrite/strip, TTL and hop limit with the IPv4 checksum. The
// checksum is checked by summing the whole header again (RFC 1071), not by the incremental rule
// under test (RFC 1624).
#include <catch2/catch.hpp>

#include <cstring>

#include "../support/frames.hpp"
#include "tcpr/route/rewrite.hpp"

using namespace tcpr;
using namespace tcpr::route;

namespace {

constexpr std::size_t kHead = 64;   // headroom in front of every test frame

// RFC 1071: the one's-complement sum of the header's 16-bit words.
std::uint16_t ones_sum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

void set_ipv4_checksum(std::vector<std::uint8_t>& f, std::size_t ip) {
  f[ip + 10] = f[ip + 11] = 0;
  const std::uint16_t c = static_cast<std::uint16_t>(~ones_sum(f.data() + ip, 20));
  f[ip + 10] = static_cast<std::uint8_t>(c >> 8);
  f[ip + 11] = static_cast<std::uint8_t>(c);
}

// A buffer with headroom, the frame at kHead.
struct Buf {
  std::vector<std::uint8_t> b;
  // Out of line: GCC 12 inlines the copy and then warns about bounds it cannot see (a false positive).
  [[gnu::noinline]] explicit Buf(const std::vector<std::uint8_t>& frame) : b(kHead + frame.size(), 0xee) {
    std::copy(frame.begin(), frame.end(), b.begin() + static_cast<std::ptrdiff_t>(kHead));
  }
  std::uint8_t* frame() { return b.data() + kHead; }
  std::uint32_t len() const { return static_cast<std::uint32_t>(b.size() - kHead); }
  std::vector<std::uint8_t> after(const RewriteResult& r) const {
    return {b.begin() + static_cast<std::ptrdiff_t>(kHead) + r.shift, b.end()};
  }
};

RewriteSpec spec(VlanAction v = VlanAction::kKeep, std::uint16_t id = 0, bool l3 = false) {
  RewriteSpec s;
  s.dst_mac = {0x02, 0, 0, 0, 0x10, 0x01};
  s.src_mac = {0x02, 0, 0, 0, 0, 0x02};
  s.vlan = v;
  s.vlan_id = id;
  s.l3 = l3;
  return s;
}

std::vector<std::uint8_t> tagged(const std::vector<std::uint8_t>& f, std::uint16_t tpid, std::uint16_t tci) {
  std::vector<std::uint8_t> out(f.begin(), f.begin() + 12);
  out.push_back(static_cast<std::uint8_t>(tpid >> 8));
  out.push_back(static_cast<std::uint8_t>(tpid));
  out.push_back(static_cast<std::uint8_t>(tci >> 8));
  out.push_back(static_cast<std::uint8_t>(tci));
  out.insert(out.end(), f.begin() + 12, f.end());
  return out;
}

const std::vector<std::uint8_t> kMacs = {0x02, 0, 0, 0, 0x10, 0x01, 0x02, 0, 0, 0, 0, 0x02};

}  // namespace

TEST_CASE("MACs are rewritten, nothing else without VLAN or L3", "[rewrite]") {
  auto f = test::tcp4({10, 1, 0, 5}, 40000, {10, 2, 0, 9}, 443, 0x18, 10);
  set_ipv4_checksum(f, 14);
  Buf buf(f);
  const auto r = rewrite(buf.frame(), buf.len(), kHead, spec());
  CHECK(r.drop == TCPR_DROP_NONE);
  CHECK(r.shift == 0);
  auto expect = f;
  std::copy(kMacs.begin(), kMacs.end(), expect.begin());
  CHECK(buf.after(r) == expect);
}

TEST_CASE("VLAN push, rewrite of the outer tag, strip", "[rewrite]") {
  auto f = test::tcp4({10, 1, 0, 5}, 40000, {10, 2, 0, 9}, 443, 0x18, 10);
  SECTION("push onto an untagged frame") {
    Buf buf(f);
    const auto r = rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kSet, 20));
    CHECK(r.shift == -4);
    auto expect = tagged(f, 0x8100, 20);
    std::copy(kMacs.begin(), kMacs.end(), expect.begin());
    CHECK(buf.after(r) == expect);
  }
  SECTION("rewrite keeps PCP and DEI") {
    const auto t = tagged(f, 0x8100, 0xb00a);   // PCP 5, DEI 1, id 10
    Buf buf(t);
    const auto r = rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kSet, 0x123));
    CHECK(r.shift == 0);
    auto expect = tagged(f, 0x8100, 0xb123);
    std::copy(kMacs.begin(), kMacs.end(), expect.begin());
    CHECK(buf.after(r) == expect);
  }
  SECTION("strip removes the outer tag only (QinQ)") {
    const auto inner = tagged(f, 0x8100, 30);
    const auto t = tagged(inner, 0x88a8, 100);
    Buf buf(t);
    const auto r = rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kStrip));
    CHECK(r.shift == 4);
    auto expect = inner;
    std::copy(kMacs.begin(), kMacs.end(), expect.begin());
    CHECK(buf.after(r) == expect);
  }
  SECTION("strip of an untagged frame changes only the MACs") {
    Buf buf(f);
    const auto r = rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kStrip));
    CHECK(r.shift == 0);
  }
  SECTION("a push without headroom is a counted drop, and leaves the frame untouched") {
    Buf buf(f);
    const auto before = buf.b;
    CHECK(rewrite(buf.frame(), buf.len(), 3, spec(VlanAction::kSet, 20)).drop == TCPR_DROP_NO_HEADROOM);
    CHECK(rewrite(buf.frame(), buf.len(), 3, spec(VlanAction::kSet, 20, true)).drop == TCPR_DROP_NO_HEADROOM);
    CHECK(buf.b == before);   // found by fuzz_route: the TTL had been decremented before the check
  }
}

TEST_CASE("L3 paths decrement TTL with a correct checksum, and drop at 1", "[rewrite]") {
  auto f = test::tcp4({10, 1, 0, 5}, 40000, {10, 2, 0, 9}, 443, 0x18, 10);
  for (std::uint8_t ttl : {64, 2, 255, 128}) {
    f[14 + 8] = ttl;
    for (std::uint16_t id : {0x0000, 0xffff, 0x1234}) {   // checksums near the wrap-around
      f[14 + 4] = static_cast<std::uint8_t>(id >> 8);
      f[14 + 5] = static_cast<std::uint8_t>(id);
      set_ipv4_checksum(f, 14);
      Buf buf(f);
      const auto r = rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kKeep, 0, true));
      REQUIRE(r.drop == TCPR_DROP_NONE);
      const auto out = buf.after(r);
      CHECK(out[14 + 8] == ttl - 1);
      CHECK(ones_sum(out.data() + 14, 20) == 0xffff);   // a valid header sums to all ones
    }
  }
  // Behind a VLAN tag.
  f[14 + 8] = 9;
  set_ipv4_checksum(f, 14);
  const auto t = tagged(f, 0x8100, 7);
  Buf tb(t);
  const auto rt = rewrite(tb.frame(), tb.len(), kHead, spec(VlanAction::kStrip, 0, true));
  const auto out = tb.after(rt);
  CHECK(out[14 + 8] == 8);
  CHECK(ones_sum(out.data() + 14, 20) == 0xffff);
  // TTL 1 and 0: dropped, and the read-only check agrees.
  for (std::uint8_t ttl : {1, 0}) {
    f[14 + 8] = ttl;
    set_ipv4_checksum(f, 14);
    CHECK(ttl_expires(f.data(), static_cast<std::uint32_t>(f.size())));
    Buf buf(f);
    CHECK(rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kKeep, 0, true)).drop == TCPR_DROP_TTL_EXPIRED);
  }
  f[14 + 8] = 2;
  CHECK_FALSE(ttl_expires(f.data(), static_cast<std::uint32_t>(f.size())));
}

TEST_CASE("IPv6 hop limit", "[rewrite]") {
  std::vector<std::uint8_t> f;
  test::eth(f, 0x86dd);
  const std::uint8_t ip6[40] = {0x60, 0, 0, 0, 0, 0, 17, 5};   // payload 0, UDP, hop limit 5
  f.insert(f.end(), ip6, ip6 + 40);
  Buf buf(f);
  const auto r = rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kKeep, 0, true));
  CHECK(r.drop == TCPR_DROP_NONE);
  CHECK(buf.after(r)[14 + 7] == 4);
  f[14 + 7] = 1;
  CHECK(ttl_expires(f.data(), static_cast<std::uint32_t>(f.size())));
}

TEST_CASE("short and non-IP frames are left alone", "[rewrite]") {
  std::vector<std::uint8_t> arp;
  test::eth(arp, 0x0806);
  arp.resize(42, 0);
  Buf buf(arp);
  const auto r = rewrite(buf.frame(), buf.len(), kHead, spec(VlanAction::kKeep, 0, true));
  CHECK(r.drop == TCPR_DROP_NONE);
  std::vector<std::uint8_t> tiny = {1, 2, 3};
  Buf tb(tiny);
  CHECK(rewrite(tb.frame(), tb.len(), kHead, spec(VlanAction::kSet, 5, true)).drop == TCPR_DROP_NONE);
  CHECK(tb.after({}) == tiny);
  // A truncated IPv4 header behind the ethertype: no TTL to touch.
  std::vector<std::uint8_t> cut;
  test::eth(cut, 0x0800);
  cut.push_back(0x45);
  CHECK_FALSE(ttl_expires(cut.data(), static_cast<std::uint32_t>(cut.size())));
}

TEST_CASE("RFC 1624's worked example", "[rewrite]") {
  // RFC 1624 §4: HC = 0xdd2f, m = 0x5555 → m' = 0x3285 gives HC' = 0x0000.
  CHECK(checksum_update(0xdd2f, 0x5555, 0x3285) == 0x0000);
}
