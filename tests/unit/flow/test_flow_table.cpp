// Flow table: one entry per conversation, client side, TCP state, timeouts, eviction, and the
// open-addressing index checked against a std::map model under churn.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "tcpr/flow/flow_table.hpp"

using namespace tcpr;
using namespace tcpr::flow;
using packet::Side;

namespace {

constexpr std::uint64_t kSec = 1'000'000'000ull;

packet::ParsedPacket pkt(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport,
                         std::uint8_t proto = packet::kProtoTcp, std::uint8_t flags = 0) {
  packet::ParsedPacket p;
  p.l3 = packet::L3::kIpv4;
  p.ip_version = 4;
  p.l4_proto = proto;
  // Host h is 10.0.h/256.h%256, so a lower host number sorts lower.
  const std::uint8_t s[4] = {10, 0, static_cast<std::uint8_t>(src >> 8), static_cast<std::uint8_t>(src)};
  const std::uint8_t d[4] = {10, 0, static_cast<std::uint8_t>(dst >> 8), static_cast<std::uint8_t>(dst)};
  p.src = packet::IpAddr::from_v4(s);
  p.dst = packet::IpAddr::from_v4(d);
  p.src_port = sport;
  p.dst_port = dport;
  p.tcp_flags = flags;
  p.flags = packet::kFlagHasL4;
  return p;
}

struct Recorder {
  std::vector<std::pair<FlowEntry, EndReason>> ended;
  static void on_end(void* ctx, const FlowEntry& f, EndReason why) {
    static_cast<Recorder*>(ctx)->ended.emplace_back(f, why);
  }
  FlowSink sink() { return FlowSink{this, &Recorder::on_end}; }
};

FlowEntry& feed(FlowTable& t, const packet::ParsedPacket& p, std::uint32_t len, std::uint64_t ts,
                bool* created_out = nullptr) {
  packet::FlowKey k;
  Side s;
  REQUIRE(packet::key_for(p, k, s));
  bool created = false;
  FlowEntry& f = t.update(k, s, p, len, ts, created);
  if (created_out != nullptr) *created_out = created;
  return f;
}

}  // namespace

TEST_CASE("a flow entry fits in two cache lines", "[flow]") {
  STATIC_REQUIRE(sizeof(FlowEntry) <= 128);
  STATIC_REQUIRE(offsetof(FlowEntry, ingress_port) < 64);  // per-packet fields in the first line
}

TEST_CASE("both directions share one entry; the SYN sender is the client", "[flow]") {
  Recorder rec;
  FlowTable t(FlowTableConfig{}, rec.sink());
  bool created = false;
  // Client 10.0.0.5:40000, server 10.0.0.1:443: the server sorts lower and is endpoint a.
  FlowEntry& f = feed(t, pkt(5, 40000, 1, 443, packet::kProtoTcp, packet::kTcpSyn), 74, 1 * kSec, &created);
  CHECK(created);
  CHECK(f.tcp_state == TcpState::kSynSeen);
  feed(t, pkt(1, 443, 5, 40000, packet::kProtoTcp, packet::kTcpSyn | packet::kTcpAck), 74, 2 * kSec, &created);
  CHECK_FALSE(created);
  CHECK(f.tcp_state == TcpState::kEstablished);
  feed(t, pkt(5, 40000, 1, 443, packet::kProtoTcp, packet::kTcpAck), 66, 3 * kSec);
  feed(t, pkt(5, 40000, 1, 443, packet::kProtoTcp, packet::kTcpAck | packet::kTcpPsh), 566, 4 * kSec);
  CHECK(t.size() == 1);
  const auto c = static_cast<std::size_t>(f.client), s = static_cast<std::size_t>(f.server());
  CHECK(f.packets[c] == 3);
  CHECK(f.bytes[c] == 74 + 66 + 566);
  CHECK(f.packets[s] == 1);
  CHECK(f.bytes[s] == 74);
  CHECK(f.first_ns == 1 * kSec);
  CHECK(f.last_ns == 4 * kSec);
  CHECK(f.client == Side::kB);
}

TEST_CASE("the first sender is the client whichever way its address sorts", "[flow]") {
  FlowTable t(FlowTableConfig{}, FlowSink{});
  FlowEntry& high = feed(t, pkt(9, 40000, 2, 443, packet::kProtoTcp, packet::kTcpSyn), 60, kSec);
  CHECK(high.client == Side::kB);
  CHECK(high.key.port_b == 40000);
  FlowEntry& low = feed(t, pkt(2, 40001, 9, 443, packet::kProtoTcp, packet::kTcpSyn), 60, kSec);
  CHECK(low.client == Side::kA);
  CHECK(low.key.port_a == 40001);
  FlowEntry& g = feed(t, pkt(7, 80, 2, 50000, packet::kProtoUdp), 60, kSec);
  CHECK(g.tcp_state == TcpState::kNone);
  CHECK(g.timeout_class == TimeoutClass::kUdp);
  CHECK(g.client == Side::kB);
}

TEST_CASE("a SYN-ACK seen first makes its receiver the client", "[flow]") {
  FlowTable t(FlowTableConfig{}, FlowSink{});
  // The SYN-ACK is sent by 10.0.0.5:443 to 10.0.0.1:40000, so 10.0.0.1 (endpoint a) opened it.
  FlowEntry& f = feed(t, pkt(5, 443, 1, 40000, packet::kProtoTcp, packet::kTcpSyn | packet::kTcpAck), 60, kSec);
  CHECK(f.client == Side::kA);
  CHECK(f.tcp_state == TcpState::kSynSeen);
}

TEST_CASE("TCP teardown: FIN, FIN, then closed; RST resets", "[flow]") {
  FlowTable t(FlowTableConfig{}, FlowSink{});
  feed(t, pkt(5, 40000, 1, 80, packet::kProtoTcp, packet::kTcpSyn), 60, 1);
  FlowEntry& f = feed(t, pkt(1, 80, 5, 40000, packet::kProtoTcp, packet::kTcpSyn | packet::kTcpAck), 60, 2);
  feed(t, pkt(5, 40000, 1, 80, packet::kProtoTcp, packet::kTcpFin | packet::kTcpAck), 60, 3);
  CHECK(f.tcp_state == TcpState::kFin);
  CHECK(f.timeout_class == TimeoutClass::kTcpClosing);
  feed(t, pkt(1, 80, 5, 40000, packet::kProtoTcp, packet::kTcpFin | packet::kTcpAck), 60, 4);
  CHECK(f.tcp_state == TcpState::kClosed);
  CHECK(f.timeout_class == TimeoutClass::kTcpClosed);

  FlowEntry& g = feed(t, pkt(6, 40001, 1, 80, packet::kProtoTcp, packet::kTcpSyn), 60, 5);
  feed(t, pkt(1, 80, 6, 40001, packet::kProtoTcp, packet::kTcpRst | packet::kTcpAck), 60, 6);
  CHECK(g.tcp_state == TcpState::kReset);
  // A flow picked up mid-stream is established from its first packet.
  FlowEntry& h = feed(t, pkt(7, 40002, 1, 80, packet::kProtoTcp, packet::kTcpAck), 60, 7);
  CHECK(h.tcp_state == TcpState::kEstablished);
}

TEST_CASE("idle flows expire by their class's timeout, a bounded number per call", "[flow]") {
  Recorder rec;
  FlowTableConfig cfg;
  cfg.timeout_ns[static_cast<std::size_t>(TimeoutClass::kUdp)] = 10 * kSec;
  cfg.timeout_ns[static_cast<std::size_t>(TimeoutClass::kTcpEstablished)] = 100 * kSec;
  FlowTable t(cfg, rec.sink());
  for (std::uint16_t i = 0; i < 5; ++i) feed(t, pkt(i, 1000, 1, 53, packet::kProtoUdp), 80, i * kSec);
  feed(t, pkt(50, 40000, 1, 443, packet::kProtoTcp, packet::kTcpAck), 60, 0);  // established, 100 s

  CHECK(t.expire(10 * kSec, 100) == 0);          // UDP flow 0 idle exactly 10 s: not yet
  CHECK(t.expire(12 * kSec + 1, 100) == 3);      // flows 0, 1, 2 idle > 10 s
  CHECK(t.size() == 3);
  CHECK(t.expire(30 * kSec, 1) == 1);            // budget of one
  CHECK(t.expire(30 * kSec, 100) == 1);
  CHECK(t.size() == 1);                          // only the TCP flow is left
  CHECK(t.expire(100 * kSec, 100) == 0);
  CHECK(t.expire(100 * kSec + 1, 100) == 1);
  CHECK(t.counters().expired == 6);
  REQUIRE(rec.ended.size() == 6);
  for (const auto& [f, why] : rec.ended) CHECK(why == EndReason::kExpired);
  CHECK(rec.ended[0].first.key.port_a == 1000);
}

TEST_CASE("a full table evicts its least recently seen flow", "[flow]") {
  Recorder rec;
  FlowTableConfig cfg;
  cfg.capacity = 4;
  FlowTable t(cfg, rec.sink());
  for (std::uint16_t i = 0; i < 4; ++i) feed(t, pkt(i, 1000, 1, 53, packet::kProtoUdp), 80, 10 + i);
  feed(t, pkt(0, 1000, 1, 53, packet::kProtoUdp), 80, 20);       // flow 0 is now the newest
  feed(t, pkt(9, 40000, 1, 443, packet::kProtoTcp, packet::kTcpSyn), 60, 21);  // 5th flow
  CHECK(t.size() == 4);
  CHECK(t.counters().evicted == 1);
  REQUIRE(rec.ended.size() == 1);
  CHECK(rec.ended[0].second == EndReason::kEvicted);
  CHECK(rec.ended[0].first.last_ns == 11);                         // flow 1 was the oldest
  packet::FlowKey k;
  Side s;
  REQUIRE(packet::key_for(pkt(1, 1000, 1, 53, packet::kProtoUdp), k, s));
  CHECK(t.find(k) == nullptr);
  REQUIRE(packet::key_for(pkt(0, 1000, 1, 53, packet::kProtoUdp), k, s));
  CHECK(t.find(k) != nullptr);
  t.drain();
  CHECK(t.size() == 0);
  CHECK(rec.ended.size() == 5);
}

TEST_CASE("the index stays exact under churn (model check)", "[flow]") {
  FlowTableConfig cfg;
  cfg.capacity = 64;
  cfg.timeout_ns.fill(5);
  FlowTable t(cfg, FlowSink{});
  std::map<std::tuple<int, int>, std::uint64_t> model;  // (src, sport) -> last seen
  std::mt19937 rng(12345);
  std::uint64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    now += 1;
    const int src = static_cast<int>(rng() % 40), sport = static_cast<int>(rng() % 4);
    feed(t, pkt(static_cast<std::uint32_t>(src), static_cast<std::uint16_t>(1000 + sport), 1, 53,
                packet::kProtoUdp), 60, now);
    model[{src, sport}] = now;
    if (step % 7 == 0) {
      t.expire(now, 1000);
      for (auto it = model.begin(); it != model.end();) {
        it = now > it->second + 5 ? model.erase(it) : std::next(it);
      }
    }
    if (step % 997 == 0) {
      REQUIRE(t.size() == model.size());
      for (int a = 0; a < 40; ++a) {
        for (int p = 0; p < 4; ++p) {
          packet::FlowKey k;
          Side s;
          REQUIRE(packet::key_for(pkt(static_cast<std::uint32_t>(a), static_cast<std::uint16_t>(1000 + p), 1, 53,
                                      packet::kProtoUdp), k, s));
          const FlowEntry* f = t.find(k);
          const auto it = model.find({a, p});
          REQUIRE((f != nullptr) == (it != model.end()));
          if (f != nullptr) REQUIRE(f->last_ns == it->second);
        }
      }
    }
  }
}
