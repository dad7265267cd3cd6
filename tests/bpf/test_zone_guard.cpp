// The XDP zone guard in the kernel, through BPF_PROG_TEST_RUN: for every zone × direction ×
// frame shape (IPv4, IPv6 with extension headers, 802.1Q, QinQ, ARP, truncated) the verdict, the
// output bytes (the guard never rewrites) and the counter that moved, against the semantics of
// bpf/zone_guard.h written out per row. Then the map side: reconcile() leaves exactly the given
// agents, apply() batches, pinned maps are reused by a second load.
//
// Needs root and BPF; where BPF is unavailable each test says why and passes without checking.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <filesystem>
#include <string>

#include "../unit/support/frames.hpp"
#include "tcpr/enforce/zone_guard.hpp"

using namespace tcpr;
using namespace tcpr::enforce;

namespace {

const std::uint8_t kAgent4[4] = {10, 1, 0, 5};
const std::uint8_t kServer4[4] = {10, 2, 0, 9};
const std::uint8_t kRemedy4[4] = {10, 99, 0, 7};
const std::uint8_t kDns4[4] = {10, 53, 0, 53};

packet::IpAddr v4(const std::uint8_t* a) { return packet::IpAddr::from_v4(a); }
packet::IpAddr v6(std::uint8_t last) {
  std::uint8_t b[16] = {0xfd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
  return packet::IpAddr::from_v6(b);
}

// A unique pin directory per test process, removed at the end.
struct PinDir {
  std::string path = "/sys/fs/bpf/tcpr-test-" + std::to_string(::getpid());
  ~PinDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

GuardConfig guard_config(const std::string& dir) {
  GuardConfig c;
  c.bpffs = dir;
  c.remediation = {{v4(kRemedy4), 96 + 16}};   // 10.99.0.0/16
  c.services = {v4(kDns4)};
  return c;
}

// What tcpr_agents holds, read back from the kernel.
std::vector<std::pair<tcpr_addr, tcpr_agent_value>> agents_in_map(int fd) {
  std::vector<std::pair<tcpr_addr, tcpr_agent_value>> out;
  tcpr_addr k{}, prev{};
  bool first = true;
  while (bpf_map_get_next_key(fd, first ? nullptr : &prev, &k) == 0) {
    first = false;
    prev = k;
    tcpr_agent_value v{};
    REQUIRE(bpf_map_lookup_elem(fd, &k, &v) == 0);
    out.emplace_back(k, v);
  }
  return out;
}

// One packet through the guard: the XDP verdict, the output, and the counters' deltas.
struct Run {
  int verdict = -1;
  std::vector<std::uint8_t> out;
  std::vector<std::uint64_t> delta;
};

Run run(ZoneGuard& g, const std::vector<std::uint8_t>& frame) {
  const auto before = read_counters(g.counters_fd());
  REQUIRE(before.ok());
  Run r;
  r.out.resize(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame.data(), .data_out = r.out.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .data_size_out = static_cast<std::uint32_t>(r.out.size()), .repeat = 1);
  REQUIRE(bpf_prog_test_run_opts(g.prog_fd(), &o) == 0);
  r.verdict = static_cast<int>(o.retval);
  r.out.resize(o.data_size_out);
  const auto after = read_counters(g.counters_fd());
  REQUIRE(after.ok());
  r.delta.resize(after.value().size());
  for (std::size_t i = 0; i < r.delta.size(); ++i) r.delta[i] = after.value()[i] - before.value()[i];
  return r;
}

// Exactly one counter moved, by one.
void check_counter(const Run& r, std::uint32_t slot) {
  std::uint64_t total = 0;
  for (auto d : r.delta) total += d;
  CHECK(total == 1);
  REQUIRE(slot < r.delta.size());
  CHECK(r.delta[slot] == 1);
}

std::vector<std::uint8_t> with_tags(std::vector<std::uint8_t> f, std::initializer_list<std::uint16_t> tpids) {
  std::vector<std::uint8_t> tags;
  std::uint16_t vid = 10;
  for (auto t : tpids) {
    tags.push_back(static_cast<std::uint8_t>(t >> 8));
    tags.push_back(static_cast<std::uint8_t>(t));
    tags.push_back(0);
    tags.push_back(static_cast<std::uint8_t>(vid++));
  }
  f.insert(f.begin() + 12, tags.begin(), tags.end());
  return f;
}

// Ethernet + IPv6 + hop-by-hop (8) + destination options (16) + TCP header.
std::vector<std::uint8_t> tcp6_ext(const packet::IpAddr& src, const packet::IpAddr& dst, std::uint16_t sport,
                                   std::uint16_t dport) {
  std::vector<std::uint8_t> b;
  test::eth(b, 0x86dd);
  const std::uint16_t plen = 8 + 16 + 20;
  const std::uint8_t hdr[8] = {0x60, 0, 0, 0, static_cast<std::uint8_t>(plen >> 8), static_cast<std::uint8_t>(plen), 0 /* HBH */, 64};
  b.insert(b.end(), hdr, hdr + 8);
  b.insert(b.end(), src.b, src.b + 16);
  b.insert(b.end(), dst.b, dst.b + 16);
  const std::uint8_t hbh[8] = {60 /* dest opts next */, 0, 1, 4, 0, 0, 0, 0};
  b.insert(b.end(), hbh, hbh + 8);
  const std::uint8_t dst_opts[16] = {6 /* TCP */, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  b.insert(b.end(), dst_opts, dst_opts + 16);
  test::put16(b, sport);
  test::put16(b, dport);
  for (int i = 0; i < 8; ++i) b.push_back(0);
  b.push_back(0x50);
  b.push_back(0x02);
  for (int i = 0; i < 6; ++i) b.push_back(0);
  return b;
}

std::vector<std::uint8_t> tcp4(const std::uint8_t* s, std::uint16_t sp, const std::uint8_t* d, std::uint16_t dp) {
  return test::tcp4({s[0], s[1], s[2], s[3]}, sp, {d[0], d[1], d[2], d[3]}, dp, 0x02);
}

std::vector<std::uint8_t> udp4(const std::uint8_t* s, std::uint16_t sp, const std::uint8_t* d, std::uint16_t dp) {
  auto b = tcp4(s, sp, d, dp);
  b[14 + 9] = 17;
  b.resize(14 + 20 + 8);
  b[16] = 0, b[17] = 28;   // total length
  return b;
}

bool bpf_available(std::unique_ptr<ZoneGuard>& g, const std::string& dir) {
  auto r = ZoneGuard::open(guard_config(dir));
  if (!r) {
    WARN("BPF unavailable, [bpf] not checked: " << r.error());
    return false;
  }
  g = std::move(r.value());
  return true;
}

constexpr int kPass = 2, kDrop = 1;   // XDP_PASS, XDP_DROP

}  // namespace

TEST_CASE("every zone, both directions, every frame shape", "[bpf]") {
  PinDir dir;
  std::unique_ptr<ZoneGuard> g;
  if (!bpf_available(g, dir.path)) return;
  const std::uint8_t zones[] = {TCPR_ZONE_TRUSTED, TCPR_ZONE_MONITORED, TCPR_ZONE_QUARANTINED, TCPR_ZONE_ISOLATED};
  for (const std::uint8_t zone : zones) {
    REQUIRE(g->reconcile({{v4(kAgent4), zone, 0}, {v6(5), zone, 0}}).ok());
    // What an ordinary peer (a server, not in remediation) sees of this zone.
    const int verdict = zone >= TCPR_ZONE_QUARANTINED ? kDrop : kPass;
    const std::uint32_t action = zone == TCPR_ZONE_TRUSTED     ? TCPR_XDP_PASS
                                 : zone == TCPR_ZONE_MONITORED ? TCPR_XDP_COUNTED
                                                               : TCPR_XDP_DROPPED;
    struct Shape {
      const char* name;
      std::vector<std::uint8_t> from_agent, to_agent;
    };
    const Shape shapes[] = {
        {"IPv4", tcp4(kAgent4, 40000, kServer4, 443), tcp4(kServer4, 443, kAgent4, 40000)},
        {"IPv6 + hop-by-hop + destination options", tcp6_ext(v6(5), v6(9), 40000, 443), tcp6_ext(v6(9), v6(5), 443, 40000)},
        {"802.1Q", with_tags(tcp4(kAgent4, 40000, kServer4, 443), {0x8100}), with_tags(tcp4(kServer4, 443, kAgent4, 40000), {0x8100})},
        {"QinQ", with_tags(tcp4(kAgent4, 40000, kServer4, 443), {0x88a8, 0x8100}),
         with_tags(tcp4(kServer4, 443, kAgent4, 40000), {0x88a8, 0x8100})},
    };
    for (const auto& sh : shapes) {
      for (int dir_i = 0; dir_i < 2; ++dir_i) {
        const auto& frame = dir_i == 0 ? sh.from_agent : sh.to_agent;
        INFO("zone " << int(zone) << ", " << sh.name << (dir_i == 0 ? ", from the agent" : ", to the agent"));
        const Run r = run(*g, frame);
        CHECK(r.verdict == verdict);
        CHECK(r.out == frame);
        check_counter(r, tcpr_counter_index(zone, action));
      }
    }
    // Non-IP passes whatever the zones; a truncated IP header is dropped by reason.
    {
      INFO("zone " << int(zone) << ", ARP");
      const auto arp = test::arp_request();
      const Run r = run(*g, arp);
      CHECK(r.verdict == kPass);
      check_counter(r, tcpr_counter_index(TCPR_ZONE_TRUSTED, TCPR_XDP_PASS));
    }
    {
      auto cut = tcp4(kAgent4, 40000, kServer4, 443);
      cut.resize(14 + 12);
      const Run r = run(*g, cut);
      CHECK(r.verdict == kDrop);
      check_counter(r, tcpr_drop_counter_index(TCPR_DROP_IPV4_TRUNCATED));
      auto cut6 = tcp6_ext(v6(5), v6(9), 1, 2);
      cut6.resize(14 + 40 + 4);   // the hop-by-hop header cut
      const Run r6 = run(*g, cut6);
      CHECK(r6.verdict == kDrop);
      check_counter(r6, tcpr_drop_counter_index(TCPR_DROP_IPV6_EXT_TRUNCATED));
    }
  }
}

TEST_CASE("a QUARANTINED agent: remediation, DNS to a service, DHCP pass; nothing else", "[bpf]") {
  PinDir dir;
  std::unique_ptr<ZoneGuard> g;
  if (!bpf_available(g, dir.path)) return;
  REQUIRE(g->reconcile({{v4(kAgent4), TCPR_ZONE_QUARANTINED, 0}}).ok());
  const std::uint8_t other_dns[4] = {8, 8, 8, 8};
  const std::uint8_t bcast[4] = {255, 255, 255, 255};
  struct Row {
    const char* name;
    std::vector<std::uint8_t> frame;
    int verdict;
  };
  const Row rows[] = {
      {"to remediation", tcp4(kAgent4, 40000, kRemedy4, 443), kPass},
      {"from remediation", tcp4(kRemedy4, 443, kAgent4, 40000), kPass},
      {"DNS to the configured server", udp4(kAgent4, 5353, kDns4, 53), kPass},
      {"DNS answer from it", udp4(kDns4, 53, kAgent4, 5353), kPass},
      {"DNS to another server", udp4(kAgent4, 5353, other_dns, 53), kDrop},
      {"DHCP discover", udp4(kAgent4, 68, bcast, 67), kPass},
      {"HTTPS to a server", tcp4(kAgent4, 40000, kServer4, 443), kDrop},
      {"port 53 from the agent's side only", udp4(kAgent4, 53, kDns4, 5353), kDrop},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const Run r = run(*g, row.frame);
    CHECK(r.verdict == row.verdict);
    check_counter(r, tcpr_counter_index(TCPR_ZONE_QUARANTINED, row.verdict == kPass ? TCPR_XDP_ALLOWED : TCPR_XDP_DROPPED));
  }
  // ISOLATED: not even remediation.
  REQUIRE(g->reconcile({{v4(kAgent4), TCPR_ZONE_ISOLATED, 0}}).ok());
  CHECK(run(*g, tcp4(kAgent4, 40000, kRemedy4, 443)).verdict == kDrop);
  // Two agents: the more severe zone decides.
  const std::uint8_t agent2[4] = {10, 1, 0, 6};
  REQUIRE(g->reconcile({{v4(kAgent4), TCPR_ZONE_MONITORED, 0}, {v4(agent2), TCPR_ZONE_ISOLATED, 0}}).ok());
  const Run r = run(*g, tcp4(kAgent4, 1, agent2, 2));
  CHECK(r.verdict == kDrop);
  check_counter(r, tcpr_counter_index(TCPR_ZONE_ISOLATED, TCPR_XDP_DROPPED));
}

TEST_CASE("the IPv4 summary of the remediation prefixes, one bit per /24", "[bpf]") {
  // Word a >> 14, bit (a >> 8) & 63 (include/tcpr/abi/xdp.h), worked by hand:
  //   10.99.0.0/16: /24s 0x0a6300..0x0a63ff = 680704..680959, words 10636..10639, every bit;
  //   10.98.16.0/20: /24s 680464..680479, word 10632 (680464 = 10632·64 + 16), bits 16..31;
  //   192.0.2.10/32: /24 0xc00002 = 12582914 = 196608·64 + 2, word 196608, bit 2;
  //   2001:db8::/32 lies outside ::ffff:0:0/96: nothing; ::ffff:0:0/96 and ::/0 cover all of it.
  const std::uint8_t subnet[4] = {10, 99, 7, 7}, slash20[4] = {10, 98, 16, 0}, host[4] = {192, 0, 2, 10};
  std::uint8_t doc6[16] = {0x20, 0x01, 0x0d, 0xb8};
  const auto w = remedy4_words({{v4(subnet), 96 + 16}, {v4(slash20), 96 + 20}, {v4(host), 128},
                                {packet::IpAddr::from_v6(doc6), 32}});
  REQUIRE(w.size() == (1u << 18));
  std::map<std::uint32_t, std::uint64_t> nonzero;
  for (std::uint32_t i = 0; i < w.size(); ++i)
    if (w[i] != 0) nonzero[i] = w[i];
  const std::map<std::uint32_t, std::uint64_t> expect = {{10632, 0xffff0000ull}, {10636, ~0ull}, {10637, ~0ull},
                                                          {10638, ~0ull}, {10639, ~0ull}, {196608, 1ull << 2}};
  CHECK(nonzero == expect);
  const std::uint8_t zero16[16] = {};
  for (const auto& all : {remedy4_words({{v4(host), 96}}), remedy4_words({{packet::IpAddr::from_v6(zero16), 0}})})
    CHECK(std::all_of(all.begin(), all.end(), [](std::uint64_t x) { return x == ~0ull; }));

  // In the kernel: a marked /24 sends the guard to the trie, which decides within it.
  PinDir dir;
  std::unique_ptr<ZoneGuard> g;
  if (!bpf_available(g, dir.path)) return;
  GuardConfig c = guard_config(dir.path);
  c.remediation = {{v4(subnet), 96 + 16}, {v4(host), 128}};
  REQUIRE(g->write_policy(c).ok());
  REQUIRE(g->reconcile({{v4(kAgent4), TCPR_ZONE_QUARANTINED, 0}}).ok());
  const std::uint8_t host_next[4] = {192, 0, 2, 11}, far_in_subnet[4] = {10, 99, 200, 1}, next_subnet[4] = {10, 100, 0, 1};
  CHECK(run(*g, tcp4(kAgent4, 40000, host, 443)).verdict == kPass);
  CHECK(run(*g, tcp4(kAgent4, 40000, host_next, 443)).verdict == kDrop);   // its /24 is marked; the trie says no
  CHECK(run(*g, tcp4(far_in_subnet, 443, kAgent4, 40000)).verdict == kPass);
  CHECK(run(*g, tcp4(kAgent4, 40000, next_subnet, 443)).verdict == kDrop);
  CHECK(run(*g, tcp4(kAgent4, 40000, kServer4, 443)).verdict == kDrop);
  // An IPv6 prefix over the mapped space lets every IPv4 peer through.
  std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  c.remediation = {{packet::IpAddr::from_v6(mapped), 96}};
  REQUIRE(g->write_policy(c).ok());
  CHECK(run(*g, tcp4(kAgent4, 40000, kServer4, 443)).verdict == kPass);
  // Rewritten without prefixes: the pinned summary is all zeros again, and nothing passes.
  c.remediation.clear();
  REQUIRE(g->write_policy(c).ok());
  CHECK(run(*g, tcp4(kAgent4, 40000, host, 443)).verdict == kDrop);
  CHECK(run(*g, tcp4(kAgent4, 40000, kServer4, 443)).verdict == kDrop);
  const int fd = bpf_obj_get((dir.path + "/tcpr_remedy4").c_str());
  REQUIRE(fd >= 0);
  for (const std::uint32_t word : {0u, 10636u, 196608u, (1u << 18) - 1}) {
    std::uint64_t bits = 1;
    CHECK(bpf_map_lookup_elem(fd, &word, &bits) == 0);
    CHECK(bits == 0);
  }
  ::close(fd);
}

TEST_CASE("reconcile leaves exactly the given agents; a second load reuses the pinned maps", "[bpf]") {
  PinDir dir;
  std::unique_ptr<ZoneGuard> g;
  if (!bpf_available(g, dir.path)) return;
  std::vector<AgentEntry> first;
  for (std::uint8_t i = 1; i <= 50; ++i) first.push_back({v6(i), TCPR_ZONE_QUARANTINED, 0});
  auto s1 = g->reconcile(first);
  REQUIRE(s1.ok());
  CHECK(s1.value().written == 50);
  CHECK(s1.value().removed == 0);
  // A restart: a new load over the same pins sees the old entries and reconciles them away.
  g.reset();
  auto again = ZoneGuard::open(guard_config(dir.path));
  REQUIRE(again.ok());
  g = std::move(again.value());
  std::vector<AgentEntry> second;
  for (std::uint8_t i = 41; i <= 60; ++i) second.push_back({v6(i), i <= 45 ? TCPR_ZONE_QUARANTINED : TCPR_ZONE_ISOLATED, 0});
  auto s2 = g->reconcile(second);
  REQUIRE(s2.ok());
  CHECK(s2.value().removed == 40);   // 1..40
  CHECK(s2.value().kept == 5);       // 41..45 unchanged
  CHECK(s2.value().written == 15);   // 46..50 changed, 51..60 new
  std::size_t n = 0;
  for (const auto& [k, v] : agents_in_map(g->agents_fd())) {
    CHECK(k.b[15] >= 41);
    CHECK(k.b[15] <= 60);
    CHECK(v.zone == (k.b[15] <= 45 ? TCPR_ZONE_QUARANTINED : TCPR_ZONE_ISOLATED));
    ++n;
  }
  CHECK(n == 20);
  // apply(): set and remove in one call.
  REQUIRE(g->apply({{v6(70), TCPR_ZONE_ISOLATED, 0}}, {v6(41), v6(200)}).ok());
  tcpr_addr k70{};
  std::memcpy(k70.b, v6(70).b, 16);
  tcpr_agent_value v70{};
  CHECK(bpf_map_lookup_elem(g->agents_fd(), &k70, &v70) == 0);
  CHECK(v70.zone == TCPR_ZONE_ISOLATED);
  tcpr_addr k41{};
  std::memcpy(k41.b, v6(41).b, 16);
  CHECK(bpf_map_lookup_elem(g->agents_fd(), &k41, &v70) != 0);
  // The same address twice in one batch (two workers' local decisions) joins its index slot once:
  // after its removal the slot is as it was.
  const int index = bpf_obj_get((dir.path + "/tcpr_index").c_str());
  REQUIRE(index >= 0);
  std::uint32_t slot = tcpr_index_slot_of(v6(90).b);
  tcpr_index_slot before{}, during{}, after{};
  REQUIRE(bpf_map_lookup_elem(index, &slot, &before) == 0);
  REQUIRE(before.state == TCPR_INDEX_EMPTY);   // no other test address shares it (else say so here)
  REQUIRE(g->apply({{v6(90), TCPR_ZONE_QUARANTINED, 0}, {v6(90), TCPR_ZONE_QUARANTINED, 0}}, {}).ok());
  REQUIRE(bpf_map_lookup_elem(index, &slot, &during) == 0);
  CHECK(during.state == TCPR_INDEX_SINGLE);
  CHECK(std::memcmp(during.addr, v6(90).b, 16) == 0);
  CHECK(during.zone == TCPR_ZONE_QUARANTINED);
  REQUIRE(g->apply({}, {v6(90)}).ok());
  REQUIRE(bpf_map_lookup_elem(index, &slot, &after) == 0);
  CHECK(after.state == TCPR_INDEX_EMPTY);
  ::close(index);
}

// tcpr_index (include/tcpr/abi/xdp.h): addresses sharing a slot. Three agent addresses and one
// address that is not an agent, all in one slot (found by search), through every state the slot
// can be in; the guard's verdict for each address, and the slot's bytes, after every step.
TEST_CASE("index slots shared by several agents and by addresses that are not agents", "[bpf]") {
  PinDir dir;
  std::unique_ptr<ZoneGuard> g;
  if (!bpf_available(g, dir.path)) return;
  // 10.x.y.z addresses in the slot of 10.7.0.1 (a multiplicative hash spreads one /16 without a
  // collision: the search spans the /8).
  std::vector<std::array<std::uint8_t, 4>> same;
  const std::uint32_t target = tcpr_index_slot_of(v4(std::array<std::uint8_t, 4>{10, 7, 0, 1}.data()).b);
  for (std::uint32_t i = (7u << 16) | 1; i < (1u << 24) && same.size() < 4; ++i) {
    const std::array<std::uint8_t, 4> a{10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                                        static_cast<std::uint8_t>(i)};
    if (tcpr_index_slot_of(v4(a.data()).b) == target) same.push_back(a);
  }
  REQUIRE(same.size() == 4);
  const auto& a = same[0];
  const auto& b = same[1];
  const auto& c = same[2];
  const auto& n = same[3];   // never an agent
  const int index = bpf_obj_get((dir.path + "/tcpr_index").c_str());
  REQUIRE(index >= 0);
  auto slot = [&] {
    tcpr_index_slot s{};
    std::uint32_t k = target;
    REQUIRE(bpf_map_lookup_elem(index, &k, &s) == 0);
    return s;
  };
  // A frame from x to a server that is not an agent: dropped only when x is ISOLATED here.
  auto verdict = [&](const std::array<std::uint8_t, 4>& x) { return run(*g, tcp4(x.data(), 40000, kServer4, 443)).verdict; };

  REQUIRE(g->apply({{v4(a.data()), TCPR_ZONE_ISOLATED, 0}}, {}).ok());
  tcpr_index_slot s = slot();
  CHECK(s.state == TCPR_INDEX_SINGLE);
  CHECK(std::memcmp(s.addr, v4(a.data()).b, 16) == 0);
  CHECK(s.zone == TCPR_ZONE_ISOLATED);
  CHECK(s.other_zone == TCPR_ZONE_TRUSTED);
  CHECK(verdict(a) == kDrop);
  CHECK(verdict(n) == kPass);   // same slot, another address: not an agent
  // Two agents: the slot sends the guard to tcpr_agents.
  REQUIRE(g->apply({{v4(b.data()), TCPR_ZONE_ISOLATED, 0}}, {}).ok());
  CHECK(slot().state == TCPR_INDEX_SHARED);
  CHECK(verdict(a) == kDrop);
  CHECK(verdict(b) == kDrop);
  CHECK(verdict(n) == kPass);
  // Three, then a zone change inside a shared slot.
  REQUIRE(g->apply({{v4(c.data()), TCPR_ZONE_MONITORED, 0}, {v4(a.data()), TCPR_ZONE_MONITORED, 0}}, {}).ok());
  CHECK(slot().state == TCPR_INDEX_SHARED);
  CHECK(verdict(a) == kPass);
  CHECK(verdict(b) == kDrop);
  CHECK(run(*g, tcp4(c.data(), 40000, kServer4, 443)).delta[tcpr_counter_index(TCPR_ZONE_MONITORED, TCPR_XDP_COUNTED)] == 1);
  // Back to one agent, b: the slot answers by itself again, with b's address.
  REQUIRE(g->apply({}, {v4(a.data()), v4(c.data())}).ok());
  s = slot();
  CHECK(s.state == TCPR_INDEX_SINGLE);
  CHECK(std::memcmp(s.addr, v4(b.data()).b, 16) == 0);
  CHECK(s.zone == TCPR_ZONE_ISOLATED);
  CHECK(verdict(a) == kPass);
  CHECK(verdict(b) == kDrop);
  // Another default zone: written into every slot, read for every address that is not an agent.
  GuardConfig monitored = guard_config(dir.path);
  monitored.default_zone = TCPR_ZONE_MONITORED;
  REQUIRE(g->write_policy(monitored).ok());
  CHECK(slot().other_zone == TCPR_ZONE_MONITORED);
  tcpr_index_slot far{};
  std::uint32_t far_key = (target + 1000) % TCPR_XDP_INDEX_SLOTS;
  REQUIRE(bpf_map_lookup_elem(index, &far_key, &far) == 0);
  CHECK(far.other_zone == TCPR_ZONE_MONITORED);
  // n is not an agent and the server is not one either: both in the default zone.
  const Run rn = run(*g, tcp4(n.data(), 40000, kServer4, 443));
  CHECK(rn.verdict == kPass);
  check_counter(rn, tcpr_counter_index(TCPR_ZONE_MONITORED, TCPR_XDP_COUNTED));
  CHECK(verdict(b) == kDrop);
  // A restart over the same pins finds the slot as it was and answers the same.
  g.reset();
  auto again = ZoneGuard::open(monitored);
  REQUIRE(again.ok());
  g = std::move(again.value());
  s = slot();
  CHECK(s.state == TCPR_INDEX_SINGLE);
  CHECK(std::memcmp(s.addr, v4(b.data()).b, 16) == 0);
  CHECK(verdict(b) == kDrop);
  CHECK(verdict(a) == kPass);
  // Empty again: the address bytes may stay, the state says nobody is there.
  REQUIRE(g->reconcile({}).ok());
  CHECK(slot().state == TCPR_INDEX_EMPTY);
  CHECK(verdict(b) == kPass);
  ::close(index);
}

// After any sequence of writes every slot says what tcpr_agents holds: its state is the number of
// entries hashing to it (0, 1, more), and a SINGLE slot holds that entry's address and zone.
TEST_CASE("the index agrees with tcpr_agents after random writes", "[bpf]") {
  PinDir dir;
  std::unique_ptr<ZoneGuard> g;
  if (!bpf_available(g, dir.path)) return;
  // 40 addresses in 4 slots (10 each), so slots go through every state many times.
  std::vector<packet::IpAddr> pool;
  std::vector<std::uint32_t> slots;
  for (std::uint32_t i = 1; i < (1u << 24) && pool.size() < 40; ++i) {
    const std::uint8_t a[4] = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                               static_cast<std::uint8_t>(i)};
    const std::uint32_t s = tcpr_index_slot_of(v4(a).b);
    const auto it = std::find(slots.begin(), slots.end(), s);
    if (it == slots.end() && slots.size() < 4) slots.push_back(s);
    if (std::find(slots.begin(), slots.end(), s) == slots.end()) continue;
    if (std::count_if(pool.begin(), pool.end(), [&](const packet::IpAddr& p) { return tcpr_index_slot_of(p.b) == s; }) < 10)
      pool.push_back(v4(a));
  }
  REQUIRE(pool.size() == 40);
  const int index = bpf_obj_get((dir.path + "/tcpr_index").c_str());
  REQUIRE(index >= 0);
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  auto rnd = [&x] { x ^= x << 13, x ^= x >> 7, x ^= x << 17; return x; };
  for (int step = 0; step < 300; ++step) {
    std::vector<AgentEntry> set;
    std::vector<packet::IpAddr> removed;
    for (int k = static_cast<int>(rnd() % 5); k >= 0; --k) {
      const auto& a = pool[rnd() % pool.size()];
      if (rnd() % 3 == 0) removed.push_back(a);
      else set.push_back({a, static_cast<std::uint8_t>(1 + rnd() % 3), 0});
    }
    REQUIRE(g->apply(set, removed).ok());
    // What tcpr_agents holds, read back from the kernel.
    std::map<std::uint32_t, std::vector<std::pair<tcpr_addr, tcpr_agent_value>>> by_slot;
    for (const auto& [k, v] : agents_in_map(g->agents_fd())) by_slot[tcpr_index_slot_of(k.b)].push_back({k, v});
    for (std::uint32_t s : slots) {
      tcpr_index_slot got{};
      REQUIRE(bpf_map_lookup_elem(index, &s, &got) == 0);
      const auto& members = by_slot[s];
      INFO("step " << step << " slot " << s << " entries " << members.size());
      CHECK(got.state == (members.empty() ? TCPR_INDEX_EMPTY : members.size() == 1 ? TCPR_INDEX_SINGLE : TCPR_INDEX_SHARED));
      if (members.size() == 1) {
        CHECK(std::memcmp(got.addr, members[0].first.b, 16) == 0);
        CHECK(got.zone == members[0].second.zone);
      }
    }
  }
  ::close(index);
}
