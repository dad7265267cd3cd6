// The control loop's zone machine (behavior.hpp): trust, hard signals, rate anomalies, restoration,
// operator pins, determinism across workers, and the agent table's bounds. Statistics are fed to
// the workers' AgentTrackers directly, packet by packet, on a capture clock that starts at kT0;
// tick k (1-based) holds the packets in [kT0 + (k−1)·tick, kT0 + k·tick) and ends at kT0 + k·tick.
//
// Every expected tick number below is worked out from the rules in behavior.hpp, with the defaults
// of BehaviorConfig (trust_initial 0.5, trust_gain 0.01, warmup 30, trusted_ticks 30, dwell 10,
// quarantine_ticks 2, isolate_violations 3, restore_min_ticks 300), unless a test says otherwise.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../support/frames.hpp"
#include "tcpr/behavior/behavior.hpp"
#include "tcpr/packet/parser.hpp"

using namespace tcpr;
using namespace tcpr::behavior;

namespace {

constexpr std::uint64_t kT0 = 1'000'000'000'000ull;  // capture time of the first packet (1000 s)
constexpr std::uint64_t kTick = 100'000'000ull;      // BehaviorConfig::tick_seconds = 0.1
constexpr std::uint64_t kMs = 1'000'000ull;

std::uint64_t tick_start(int k) { return kT0 + static_cast<std::uint64_t>(k - 1) * kTick; }
std::uint64_t tick_end(int k) { return kT0 + static_cast<std::uint64_t>(k) * kTick; }

// Agent 10.1.0.<host>.
AgentKey key(std::uint8_t host) {
  AgentKey k;
  k.mode = static_cast<std::uint8_t>(KeyMode::kIp);
  k.addr[10] = 0xff;
  k.addr[11] = 0xff;
  k.addr[12] = 10;
  k.addr[13] = 1;
  k.addr[14] = 0;
  k.addr[15] = host;
  return k;
}

PrefixSet prefixes(std::initializer_list<const char*> list) {
  PrefixSet s;
  for (auto t : list) {
    auto p = parse_prefix(t);
    REQUIRE(p.ok());
    s.add(p.value());
  }
  return s;
}

BehaviorConfig base_config() {
  BehaviorConfig cfg;
  cfg.enabled = true;
  cfg.agents = prefixes({"10.1.0.0/16"});
  return cfg;
}

// Agent 10.1.0.<host> talking to the server 10.2.0.10.
std::vector<std::uint8_t> out_frame(std::uint8_t host, std::uint16_t dport = 443, std::uint8_t flags = packet::kTcpAck,
                                    std::size_t payload = 100) {
  return test::tcp4({10, 1, 0, host}, 40000, {10, 2, 0, 10}, dport, flags, payload);
}
std::vector<std::uint8_t> in_frame(std::uint8_t host, std::size_t payload = 200) {
  return test::tcp4({10, 2, 0, 10}, 443, {10, 1, 0, host}, 40000, packet::kTcpAck, payload);
}

// Feeds packets to trackers, running the ticks a packet's capture time has crossed first (as the
// pipeline's inline ticks do).
struct Driver {
  Behavior& b;
  explicit Driver(Behavior& beh) : b(beh) {
    REQUIRE_FALSE(b.tick_due(kT0));  // the first call starts the clock
    REQUIRE(b.next_tick_end() == kT0 + kTick);
  }
  void advance_to(std::uint64_t ts) {
    while (b.tick_due(ts)) b.tick_quiescent();
  }
  // Runs every tick up to and including tick k.
  void end_tick(int k) { advance_to(tick_end(k)); }
  AgentTracker::Agents send(const std::vector<std::uint8_t>& f, std::uint64_t ts, unsigned w = 0,
                            bool new_flow = false, std::uint32_t hard = 0, int class_group = -1) {
    packet::PacketView v{f.data(), static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()), 0, ts};
    packet::ParsedPacket p;
    REQUIRE(packet::parse(v, p) == TCPR_DROP_NONE);
    advance_to(ts);
    AgentTracker::PacketInfo info;
    info.ts_ns = ts;
    info.frame = f.data();
    info.wire_len = v.wire_len;
    info.new_flow = new_flow;
    info.hard_hits = hard;
    info.class_group = class_group;
    return b.tracker(w).account(p, info);
  }
  // The same four packets every tick: two out (100 B payload), two in (200 B); the flow is new only
  // in tick 1. No new connections later, so no beaconing either.
  // Returns the most severe zone the tracker reported for them. `at` shifts them within the tick.
  Zone calm(std::uint8_t host, int k, unsigned w = 0, std::uint64_t at = 0) {
    const std::uint64_t t = tick_start(k) + at + host * 10'000ull;
    Zone z = send(out_frame(host), t, w, k == 1).zone;
    z = std::max(z, send(in_frame(host), t + 1 * kMs, w).zone);
    z = std::max(z, send(out_frame(host), t + 2 * kMs, w).zone);
    return std::max(z, send(in_frame(host), t + 3 * kMs, w).zone);
  }
  // An MCP tool call on a new connection, its class decided by its first request packet.
  void tool_call(std::uint8_t host, std::uint64_t ts, std::uint16_t sport) {
    send(test::tcp4({10, 1, 0, host}, sport, {10, 2, 0, 20}, 8000, packet::kTcpSyn, 0), ts, 0, true);
    send(test::tcp4({10, 1, 0, host}, sport, {10, 2, 0, 20}, 8000, packet::kTcpAck, 300), ts + kMs, 0, false, 0,
         kGroupTool);
  }
  // A port scan: `n` SYNs to distinct ports, each a new flow, none answered.
  void scan(std::uint8_t host, int k, unsigned n = 300, unsigned w = 0) {
    for (unsigned i = 0; i < n; ++i)
      send(out_frame(host, static_cast<std::uint16_t>(1000 + i), packet::kTcpSyn, 0), tick_start(k) + 5 * kMs + i * 1000,
           w, true);
  }
};

const AgentReport* find(const std::vector<AgentReport>& rep, const AgentKey& k) {
  for (const auto& r : rep)
    if (r.key == k) return &r;
  return nullptr;
}
// The agent's zone in a report; TCPR_ZONE__COUNT when it is not there.
Zone zone_in(const std::vector<AgentReport>& rep, const AgentKey& k) {
  const AgentReport* r = find(rep, k);
  return r != nullptr ? r->zone : Zone{TCPR_ZONE__COUNT};
}

AgentReport report_of(const Behavior& b, const AgentKey& k) {
  const auto rep = b.report();
  const AgentReport* r = find(rep, k);
  REQUIRE(r != nullptr);
  return *r;
}

std::vector<ZoneEvent> events_of(const Behavior& b, const AgentKey& k) {
  std::vector<ZoneEvent> out;
  for (const auto& e : b.events())
    if (e.agent == k) out.push_back(e);
  return out;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// 1 − (1 − t0)·0.99^n: trust after n low-score ticks from t0 (trust_gain 0.01).
double trust_after(double t0, int n) { return 1.0 - (1.0 - t0) * std::pow(0.99, n); }

}  // namespace

// ------------------------------------------------------------------------------------ trust

TEST_CASE("trust grows as 1 - 0.5*0.99^n and MONITORED -> TRUSTED happens at the first tick meeting every condition",
          "[zones]") {
  struct Case {
    const char* what;
    std::uint32_t warmup, trusted_ticks, dwell;
    float threshold;
    int expect;   // the tick, worked out by hand
  };
  // baseline_n is counted after the zone step, so at tick k it is k − 1 (needs k ≥ warmup + 1);
  // low_run = dwell = k; trust ≥ threshold ⇔ 0.5·0.99^k ≤ 1 − threshold.
  const Case c = GENERATE(
      // defaults: 0.99^k ≤ 0.6 ⇔ k ≥ ln 0.6 / ln 0.99 = 50.8 → 51 (trust 0.7005; at 50: 0.6975)
      Case{"defaults (trust binds)", 30, 30, 10, 0.7f, 51},
      // 0.99^k ≤ 0.96 from k = 5 (0.99^4 = 0.9606); warmup needs 6; dwell 8 binds
      Case{"dwell binds", 5, 4, 8, 0.52f, 8},
      // warmup 12 needs baseline_n = k − 1 ≥ 12
      Case{"warmup binds", 12, 4, 2, 0.52f, 13},
      Case{"low-score run binds", 3, 9, 2, 0.52f, 9},
      // 0.99^k ≤ 0.8 ⇔ k ≥ 22.2 → 23 (0.99^22 = 0.8016, 0.99^23 = 0.7936)
      Case{"custom threshold binds", 3, 2, 2, 0.6f, 23});
  INFO(c.what);
  BehaviorConfig cfg = base_config();
  cfg.warmup_ticks = c.warmup;
  cfg.trusted_ticks = c.trusted_ticks;
  cfg.min_dwell_ticks = c.dwell;
  cfg.trust_threshold = c.threshold;
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey a = key(10);
  for (int k = 1; k <= c.expect + 5; ++k) {
    d.calm(10, k);
    d.end_tick(k);
    INFO("tick " << k);
    const AgentReport r = report_of(b, a);
    REQUIRE(r.score < cfg.restore_below);
    CHECK(r.trust == Approx(trust_after(0.5, k)).margin(1e-5));
    CHECK(r.ticks == static_cast<std::uint32_t>(k));
    CHECK(r.zone == (k < c.expect ? TCPR_ZONE_MONITORED : TCPR_ZONE_TRUSTED));
  }
  REQUIRE(b.events().size() == 1);
  const ZoneEvent& e = b.events()[0];
  CHECK(e.agent == a);
  CHECK(e.from == TCPR_ZONE_MONITORED);
  CHECK(e.to == TCPR_ZONE_TRUSTED);
  CHECK(e.ts_ns == tick_end(c.expect));
  CHECK(b.counters().ticks == static_cast<std::uint64_t>(c.expect + 5));
  CHECK(b.counters().agents_created == 1);
  CHECK(b.counters().zone_changes == 1);
  CHECK(report_of(b, a).first_anomalous_ns == 0);
}

// ------------------------------------------------------------------------------ hard signals

TEST_CASE("a hard signal quarantines the agent at the packet's timestamp, locally at once, confirmed by the tick",
          "[zones]") {
  BehaviorConfig cfg = base_config();
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey a = key(10), other = key(11);
  for (int k = 1; k <= 5; ++k) {
    d.calm(10, k);
    d.calm(11, k);
  }
  d.end_tick(5);
  REQUIRE(report_of(b, a).zone == TCPR_ZONE_MONITORED);

  // Tick 6: the usual traffic, then a packet carrying a secret, then the usual traffic again.
  CHECK(d.calm(10, 6) == TCPR_ZONE_MONITORED);
  const std::uint64_t ts_h = tick_start(6) + 30 * kMs + 123;
  const auto tagged = d.send(out_frame(10), ts_h, 0, false, 1);
  REQUIRE(tagged.sender != nullptr);
  CHECK(tagged.zone == TCPR_ZONE_QUARANTINED);   // the very packet carrying the tag
  CHECK(tagged.sender->zone == TCPR_ZONE_QUARANTINED);
  CHECK(d.calm(10, 6, 0, 40 * kMs) == TCPR_ZONE_QUARANTINED);   // later packets, both directions
  CHECK(d.send(in_frame(10), ts_h + 2000).zone == TCPR_ZONE_QUARANTINED);
  CHECK(d.calm(11, 6, 0, 40 * kMs) == TCPR_ZONE_MONITORED);   // others unaffected
  // A second tag in the same tick is no second local decision.
  CHECK(d.send(out_frame(10), ts_h + 4000, 0, false, 1).zone == TCPR_ZONE_QUARANTINED);
  CHECK(b.tracker(0).counters().local_decisions == 1);
  CHECK(b.events().empty());   // the control thread has not run yet

  d.end_tick(6);
  const auto ev = b.events();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].agent == a);
  CHECK(ev[0].from == TCPR_ZONE_MONITORED);
  CHECK(ev[0].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[0].ts_ns == ts_h);
  CHECK(contains(ev[0].reason, "hard signal"));
  const AgentReport r = report_of(b, a);
  CHECK(r.zone == TCPR_ZONE_QUARANTINED);
  CHECK(r.first_anomalous_ns == ts_h);
  CHECK(r.trust == 0.0f);   // a hard signal → 0
  CHECK(r.score == 1.0f);
  const auto c = b.counters();
  CHECK(c.local_confirmed == 1);
  CHECK(c.local_reverted == 0);
  CHECK(c.zone_changes == 1);
  CHECK(report_of(b, other).zone == TCPR_ZONE_MONITORED);

  // Tick 7: the published zone table says QUARANTINED now, both ways.
  CHECK(d.calm(10, 7) == TCPR_ZONE_QUARANTINED);
  CHECK(d.calm(11, 7) == TCPR_ZONE_MONITORED);
  d.end_tick(7);
  CHECK(b.events().size() == 1);
  CHECK(b.tracker(0).counters().local_decisions == 1);
}

// The tick table holds 16 agents (tick_agents); agent 30 finds it full in tick 3 and sends a
// secret. The worker gates it at once (never fails open) and the control thread still sees the
// signal: the next tick confirms the local decision with an event at the packet's time, exactly
// as for an agent with a slot. (Before, a slotless signal was gated until the next snapshot and
// then forgotten: no event, no QUARANTINED.)
TEST_CASE("a hard signal from an agent the tick table cannot hold is still validated", "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.tick_agents = 16;
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey late = key(30);
  for (int k = 1; k <= 2; ++k) d.calm(30, k);
  d.end_tick(2);
  REQUIRE(report_of(b, late).zone == TCPR_ZONE_MONITORED);
  for (std::uint8_t h = 10; h < 26; ++h) d.calm(h, 3);   // 16 agents fill tick 3's table
  const std::uint64_t ts_h = tick_start(3) + 60 * kMs;
  const auto tagged = d.send(out_frame(30), ts_h, 0, false, 1);
  CHECK(tagged.sender == nullptr);                   // no slot …
  CHECK(tagged.zone == TCPR_ZONE_QUARANTINED);       // … and gated all the same
  CHECK(b.tracker(0).counters().table_full >= 1);
  d.end_tick(3);
  const auto ev = events_of(b, late);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].from == TCPR_ZONE_MONITORED);
  CHECK(ev[0].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[0].ts_ns == ts_h);
  CHECK(contains(ev[0].reason, "local decision, confirmed"));
  CHECK(report_of(b, late).zone == TCPR_ZONE_QUARANTINED);
  CHECK(report_of(b, late).first_anomalous_ns == ts_h);
  CHECK(b.counters().local_confirmed == 1);
  CHECK(b.counters().tick_hard_overflow == 0);
  // Tick 4: the published table keeps it QUARANTINED with or without a slot.
  CHECK(d.send(out_frame(30), tick_start(4) + 1000).zone == TCPR_ZONE_QUARANTINED);
}

TEST_CASE("a hard signal takes a TRUSTED agent to QUARANTINED at once", "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.warmup_ticks = 5;   // TRUSTED at tick 8 (see the trust test: dwell binds)
  cfg.trusted_ticks = 4;
  cfg.min_dwell_ticks = 8;
  cfg.trust_threshold = 0.52f;
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey a = key(10);
  for (int k = 1; k <= 9; ++k) d.calm(10, k);
  d.end_tick(9);
  REQUIRE(report_of(b, a).zone == TCPR_ZONE_TRUSTED);
  CHECK(d.send(out_frame(10), tick_start(10) + 1000).zone == TCPR_ZONE_TRUSTED);
  const std::uint64_t ts_h = tick_start(10) + 50 * kMs;
  CHECK(d.send(out_frame(10), ts_h, 0, false, 1).zone == TCPR_ZONE_QUARANTINED);
  d.end_tick(10);
  const auto ev = events_of(b, a);
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].to == TCPR_ZONE_TRUSTED);
  CHECK(ev[0].ts_ns == tick_end(8));
  CHECK(ev[1].from == TCPR_ZONE_TRUSTED);
  CHECK(ev[1].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[1].ts_ns == ts_h);
  CHECK(report_of(b, a).first_anomalous_ns == ts_h);
  CHECK(b.counters().local_confirmed == 1);
}

TEST_CASE("an operator pin reverts the worker's local decision", "[zones]") {
  BehaviorConfig cfg = base_config();
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey a = key(10);
  d.calm(10, 1);
  d.calm(10, 2);
  d.end_tick(2);
  b.pin(a, TCPR_ZONE_TRUSTED, 0);
  d.calm(10, 3);
  d.end_tick(3);   // the pin applies at this tick's end
  REQUIRE(report_of(b, a).zone == TCPR_ZONE_TRUSTED);
  REQUIRE(b.events().size() == 1);
  CHECK(b.events()[0].to == TCPR_ZONE_TRUSTED);
  CHECK(b.events()[0].ts_ns == tick_end(3));
  CHECK(contains(b.events()[0].reason, "pin"));

  const std::uint64_t ts_h = tick_start(4) + 20 * kMs;
  CHECK(d.send(out_frame(10), ts_h, 0, true, 1).zone == TCPR_ZONE_QUARANTINED);   // gated locally
  CHECK(d.send(in_frame(10), ts_h + 1000).zone == TCPR_ZONE_QUARANTINED);
  d.end_tick(4);
  const auto ev = b.events();
  REQUIRE(ev.size() == 3);
  CHECK(ev[1].from == TCPR_ZONE_TRUSTED);
  CHECK(ev[1].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[1].ts_ns == ts_h);
  CHECK(ev[2].from == TCPR_ZONE_QUARANTINED);
  CHECK(ev[2].to == TCPR_ZONE_TRUSTED);
  CHECK(ev[2].ts_ns == tick_end(4));
  CHECK(contains(ev[2].reason, "revert"));
  const auto c = b.counters();
  CHECK(c.local_reverted == 1);
  CHECK(c.local_confirmed == 0);
  CHECK(report_of(b, a).zone == TCPR_ZONE_TRUSTED);
  CHECK(report_of(b, a).trust == 0.0f);   // the signal still costs all trust

  // The local gate ends with the snapshot of the tick that reverted it.
  CHECK(d.send(out_frame(10), tick_start(5) + 1000).zone == TCPR_ZONE_TRUSTED);
  CHECK(d.send(in_frame(10), tick_start(5) + 2000).zone == TCPR_ZONE_TRUSTED);
  d.end_tick(6);
  CHECK(b.events().size() == 3);
  CHECK(report_of(b, a).zone == TCPR_ZONE_TRUSTED);
}

// Regression (found against an earlier behavior.cpp): with the pin set in the same tick as the hard
// signal, the revert branch of step_zone wrote "→ TRUSTED at the tick's end" but returned before
// moving the agent, which stayed MONITORED (published so), and the next tick logged a third event
// MONITORED → TRUSTED contradicting the previous event's `to`.
TEST_CASE("a pin set in the tick of the hard signal: the revert leaves the agent in the pinned zone", "[zones]") {
  BehaviorConfig cfg = base_config();
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey a = key(10);
  d.calm(10, 1);
  d.calm(10, 2);
  d.end_tick(2);
  b.pin(a, TCPR_ZONE_TRUSTED, 0);
  const std::uint64_t ts_h = tick_start(3) + 20 * kMs;
  d.send(out_frame(10), ts_h, 0, false, 1);
  d.end_tick(3);
  auto ev = b.events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].from == TCPR_ZONE_MONITORED);
  CHECK(ev[0].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[0].ts_ns == ts_h);
  CHECK(ev[1].from == TCPR_ZONE_QUARANTINED);
  CHECK(ev[1].to == TCPR_ZONE_TRUSTED);
  CHECK(ev[1].ts_ns == tick_end(3));
  CHECK(b.counters().local_reverted == 1);
  CHECK(report_of(b, a).zone == TCPR_ZONE_TRUSTED);   // what the last event says
  d.calm(10, 4);
  CHECK(d.send(out_frame(10), tick_start(4) + 50 * kMs).zone == TCPR_ZONE_TRUSTED);
  d.end_tick(4);
  CHECK(b.events().size() == 2);   // nothing changed at tick 4
}

// ------------------------------------------------------------------------------ rate anomaly

TEST_CASE("a port scan after a warm baseline: MONITORED at onset, QUARANTINED after 2 ticks, ISOLATED after 3 "
          "violations, held until release",
          "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.quarantine_ticks = 2;   // the rule under test: two ticks above quarantine_above
  // Restoration made easy: a QUARANTINED agent calm again would be back in MONITORED within
  // ~40 ticks; an ISOLATED one must stay.
  cfg.restore_min_ticks = 10;
  cfg.restore_trust = 0.01f;
  Behavior b(cfg, 1, {});
  Driver d(b);
  constexpr int kAgents = 10;   // one /24 cohort of identical agents: 10.1.0.10 … 10.1.0.19
  const AgentKey scanner = key(10);
  constexpr int kOnset = 61, kStop = 70, kCalmUntil = 150;
  for (int k = 1; k <= kCalmUntil; ++k) {
    for (int h = 0; h < kAgents; ++h) d.calm(static_cast<std::uint8_t>(10 + h), k);
    if (k >= kOnset && k <= kStop) d.scan(10, k);
    d.end_tick(k);
    if (k < kOnset) {
      for (const auto& r : b.report()) REQUIRE(r.score < cfg.restore_below);
    }
    if (k == 51) {   // identical calm agents: all TRUSTED at tick 51 (trust rule, defaults)
      for (const auto& r : b.report()) CHECK(r.zone == TCPR_ZONE_TRUSTED);
    }
    if (k >= kOnset && k <= kOnset + 4) REQUIRE(report_of(b, scanner).score > cfg.quarantine_above);
  }
  // Onset tick 61: score > 0.95 (high_run 1) and > 0.80: TRUSTED → MONITORED. Tick 62: high_run 2
  // = quarantine_ticks → QUARANTINED. Ticks 63, 64, 65: violations 1, 2, 3 → ISOLATED at 65.
  const auto ev = events_of(b, scanner);
  REQUIRE(ev.size() == 4);
  CHECK(ev[0].to == TCPR_ZONE_TRUSTED);
  CHECK(ev[0].ts_ns == tick_end(51));
  CHECK(ev[1].from == TCPR_ZONE_TRUSTED);
  CHECK(ev[1].to == TCPR_ZONE_MONITORED);
  CHECK(ev[1].ts_ns == tick_end(kOnset));
  CHECK(ev[2].from == TCPR_ZONE_MONITORED);
  CHECK(ev[2].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[2].ts_ns == tick_end(kOnset + 1));
  CHECK(ev[3].from == TCPR_ZONE_QUARANTINED);
  CHECK(ev[3].to == TCPR_ZONE_ISOLATED);
  CHECK(ev[3].ts_ns == tick_end(kOnset + 4));
  CHECK(contains(ev[3].reason, "3 violations"));
  AgentReport r = report_of(b, scanner);
  CHECK(r.zone == TCPR_ZONE_ISOLATED);   // 80 calm ticks later, still
  CHECK(r.first_anomalous_ns == tick_end(kOnset + 1));
  CHECK(r.max_score > cfg.quarantine_above);
  CHECK_FALSE(r.why.empty());
  // The other nine: TRUSTED at 51, nothing since.
  for (int h = 1; h < kAgents; ++h) {
    const auto e = events_of(b, key(static_cast<std::uint8_t>(10 + h)));
    REQUIRE(e.size() == 1);
    CHECK(e[0].to == TCPR_ZONE_TRUSTED);
    CHECK(report_of(b, key(static_cast<std::uint8_t>(10 + h))).zone == TCPR_ZONE_TRUSTED);
  }
  CHECK(b.counters().zone_changes == kAgents + 3);

  // release(): → MONITORED at the end of the tick under way.
  const std::uint64_t release_ts = b.next_tick_end();
  CHECK(release_ts == tick_end(kCalmUntil + 1));
  b.release(scanner);
  const auto ev2 = events_of(b, scanner);
  REQUIRE(ev2.size() == 5);
  CHECK(ev2[4].from == TCPR_ZONE_ISOLATED);
  CHECK(ev2[4].to == TCPR_ZONE_MONITORED);
  CHECK(ev2[4].ts_ns == release_ts);
  CHECK(ev2[4].reason == "operator release");
  r = report_of(b, scanner);
  CHECK(r.zone == TCPR_ZONE_MONITORED);
  // Calm afterwards: no new anomaly.
  for (int k = kCalmUntil + 1; k <= kCalmUntil + 10; ++k) {
    for (int h = 0; h < kAgents; ++h) d.calm(static_cast<std::uint8_t>(10 + h), k);
    d.end_tick(k);
  }
  CHECK(events_of(b, scanner).size() == 5);
  CHECK(report_of(b, scanner).zone == TCPR_ZONE_MONITORED);
}

TEST_CASE("ISOLATED by hard signals stays ISOLATED until an operator releases it", "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.restore_min_ticks = 5;
  cfg.trusted_ticks = 5;
  cfg.restore_trust = 0.0f;
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey a = key(10);
  // A hard signal in each of ticks 2–5: QUARANTINED at tick 2's packet, violations 1, 2, 3 at 3, 4, 5.
  for (int k = 1; k <= 5; ++k) {
    d.calm(10, k);
    if (k >= 2) d.send(out_frame(10), tick_start(k) + 40 * kMs, 0, false, 1);
  }
  d.end_tick(5);
  auto ev = b.events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[0].ts_ns == tick_start(2) + 40 * kMs);
  CHECK(ev[1].from == TCPR_ZONE_QUARANTINED);
  CHECK(ev[1].to == TCPR_ZONE_ISOLATED);
  CHECK(ev[1].ts_ns == tick_end(5));
  CHECK(b.counters().local_confirmed == 4);
  // 200 calm ticks: trust back to 1 − 0.99^200 = 0.866, restore_min 5 long past: still ISOLATED.
  for (int k = 6; k <= 205; ++k) d.calm(10, k);
  d.end_tick(205);
  CHECK(b.events().size() == 2);
  CHECK(report_of(b, a).zone == TCPR_ZONE_ISOLATED);
  CHECK(report_of(b, a).trust == Approx(trust_after(0.0, 200)).margin(1e-4));
  CHECK(d.send(out_frame(10), tick_start(206)).zone == TCPR_ZONE_ISOLATED);
  CHECK(d.send(in_frame(10), tick_start(206) + 1000).zone == TCPR_ZONE_ISOLATED);
  b.release(a);
  REQUIRE(b.events().size() == 3);
  CHECK(b.events()[2].to == TCPR_ZONE_MONITORED);
  CHECK(b.events()[2].reason == "operator release");
  CHECK(b.events()[2].ts_ns == tick_end(206));
  d.end_tick(206);   // publishes the release
  CHECK(d.send(out_frame(10), tick_start(207)).zone == TCPR_ZONE_MONITORED);
}

// Regression (found against an earlier scorer, two-sided): an agent that stops sending is still
// scored for 10 ticks (kRecentTicks) with all-zero features; a two-sided distance made a calm
// TRUSTED agent that paused for 0.3 s (ticks 61–63) MONITORED at 61, QUARANTINED at 62 and
// ISOLATED — left only by an operator — at 65, and an agent gone for good ISOLATED too, so
// idle_timeout never evicted it. Doing less than usual must not be an anomaly.
TEST_CASE("a calm agent that pauses or falls silent is not quarantined, and is evicted when idle", "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.idle_timeout = 1.0;   // 10 ticks
  Behavior b(cfg, 1, {});
  Driver d(b);
  constexpr int kAgents = 10;
  const AgentKey pauser = key(11), silent = key(12);
  for (int k = 1; k <= 100; ++k) {
    for (int h = 0; h < kAgents; ++h) {
      const auto host = static_cast<std::uint8_t>(10 + h);
      if (host == 11 && k >= 61 && k <= 63) continue;   // a 0.3 s pause
      if (host == 12 && k >= 61) continue;              // gone for good
      d.calm(host, k);
    }
    d.end_tick(k);
  }
  for (const auto& e : events_of(b, pauser)) CHECK(e.to < TCPR_ZONE_QUARANTINED);
  for (const auto& e : events_of(b, silent)) CHECK(e.to < TCPR_ZONE_QUARANTINED);
  CHECK(report_of(b, pauser).zone <= TCPR_ZONE_MONITORED);
  // Idle since tick 60: evicted at the end of tick 71 (71 − 60 > 10).
  const auto rep = b.report();
  CHECK(find(rep, silent) == nullptr);
  CHECK(b.counters().agents_evicted == 1);
}

// ------------------------------------------------------------------------------- restoration

TEST_CASE("restoration: QUARANTINED -> MONITORED once dwell, trust and the low-score run all allow it", "[zones]") {
  struct Case {
    const char* what;
    std::uint32_t restore_min, trusted_ticks;
    int expect;   // ticks after the hard signal's tick
  };
  // After the hard signal (tick h) trust is 0 and at tick h + n it is 1 − 0.99^n; ≥ 0.5 ⇔
  // n ≥ ln 2 / −ln 0.99 = 68.97 → 69 (0.99^68 = 0.5049, 0.99^69 = 0.4998). dwell = low_run = n.
  const Case c = GENERATE(Case{"trust binds", 20, 5, 69}, Case{"dwell binds", 100, 5, 100},
                          Case{"low-score run binds", 20, 80, 80}, Case{"defaults: restore_min 300", 300, 30, 300});
  INFO(c.what);
  BehaviorConfig cfg = base_config();
  cfg.restore_min_ticks = c.restore_min;
  cfg.trusted_ticks = c.trusted_ticks;
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey a = key(10);
  constexpr int h = 5;
  const std::uint64_t ts_h = tick_start(h) + 7 * kMs;
  for (int k = 1; k <= h + c.expect + 3; ++k) {
    d.calm(10, k);
    if (k == h) d.send(out_frame(10), ts_h, 0, false, 1);
    d.end_tick(k);
    if (k >= h) {
      INFO("tick " << k);
      const AgentReport r = report_of(b, a);
      CHECK(r.trust == Approx(trust_after(0.0, k - h)).margin(1e-5));
      CHECK(r.zone == (k < h + c.expect ? TCPR_ZONE_QUARANTINED : TCPR_ZONE_MONITORED));
    }
  }
  const auto ev = b.events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].to == TCPR_ZONE_QUARANTINED);
  CHECK(ev[0].ts_ns == ts_h);
  CHECK(ev[1].from == TCPR_ZONE_QUARANTINED);
  CHECK(ev[1].to == TCPR_ZONE_MONITORED);
  CHECK(ev[1].ts_ns == tick_end(h + c.expect));
  CHECK(contains(ev[1].reason, "restored"));
  CHECK(report_of(b, a).first_anomalous_ns == ts_h);   // kept after restoration
}

// ------------------------------------------------------------------------------- determinism

namespace {

struct Pkt {
  std::vector<std::uint8_t> frame;
  std::uint64_t ts;
  bool new_flow;
  std::uint32_t hard;
  std::uint8_t host;
};

// 14 agents over 90 ticks: uneven random traffic, a scanner, a hard signal, agents that start late
// and go quiet, some pairs talking to each other.
std::vector<Pkt> mixed_traffic() {
  std::vector<Pkt> v;
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  const auto rnd = [&](unsigned n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<unsigned>(x % n);
  };
  for (int k = 1; k <= 90; ++k) {
    std::uint64_t t = tick_start(k);
    for (std::uint8_t h = 10; h < 24; ++h) {
      if (h == 20 && k < 30) continue;
      if (h == 21 && k > 50) continue;
      const unsigned n = 2 + rnd(6);
      for (unsigned i = 0; i < n; ++i) {
        t += 1 + rnd(100'000);
        const bool nf = rnd(4) == 0;
        const auto port = static_cast<std::uint16_t>(nf ? 2000 + rnd(50) : 443);
        v.push_back({test::tcp4({10, 1, 0, h}, static_cast<std::uint16_t>(40000 + rnd(8)),
                                {10, 2, 0, static_cast<std::uint8_t>(10 + rnd(3))}, port,
                                nf ? packet::kTcpSyn : packet::kTcpAck, nf ? 0 : 50 + rnd(500)),
                     t, nf, 0, h});
        t += 1 + rnd(100'000);
        v.push_back({test::tcp4({10, 2, 0, 10}, 443, {10, 1, 0, h}, 40000, nf ? 0x12 : packet::kTcpAck, rnd(900)), t,
                     false, 0, h});
      }
      if (h == 15 && k % 7 == 0) {   // lateral: 10.1.0.15 → another agent
        t += 10;
        v.push_back({test::tcp4({10, 1, 0, 15}, 45000, {10, 1, 0, static_cast<std::uint8_t>(10 + rnd(14))}, 22,
                                packet::kTcpSyn),
                     t, true, 0, 15});
      }
      if (h == 13 && k >= 40 && k <= 47) {   // a scan
        for (unsigned i = 0; i < 200; ++i)
          v.push_back({test::tcp4({10, 1, 0, 13}, 41000, {10, 2, 0, 10}, static_cast<std::uint16_t>(3000 + i),
                                  packet::kTcpSyn),
                       t + i, true, 0, 13});
        t += 200;
      }
      if (h == 17 && (k == 60 || k == 61)) {   // secrets
        t += 10;
        v.push_back({test::tcp4({10, 1, 0, 17}, 40000, {10, 2, 0, 10}, 443, packet::kTcpAck, 300), t, false, 1, 17});
      }
    }
  }
  return v;
}

template <typename Route>
void run(Behavior& b, const std::vector<Pkt>& pkts, Route route) {
  Driver d(b);
  for (std::size_t i = 0; i < pkts.size(); ++i)
    d.send(pkts[i].frame, pkts[i].ts, route(i, pkts[i]), pkts[i].new_flow, pkts[i].hard);
  d.end_tick(91);
}

void same(const Behavior& x, const Behavior& y) {
  const auto rx = x.report(), ry = y.report();
  REQUIRE(rx.size() == ry.size());
  for (std::size_t i = 0; i < rx.size(); ++i) {
    INFO("agent " << to_string(rx[i].key));
    CHECK(rx[i].key == ry[i].key);
    CHECK(rx[i].zone == ry[i].zone);
    CHECK(rx[i].trust == ry[i].trust);
    CHECK(rx[i].score == ry[i].score);
    CHECK(rx[i].max_score == ry[i].max_score);
    CHECK(rx[i].features == ry[i].features);
    CHECK(rx[i].first_anomalous_ns == ry[i].first_anomalous_ns);
    CHECK(rx[i].why == ry[i].why);
    CHECK(rx[i].cohort == ry[i].cohort);
    CHECK(rx[i].ticks == ry[i].ticks);
  }
  const auto& ex = x.events();
  const auto& ey = y.events();
  REQUIRE(ex.size() == ey.size());
  for (std::size_t i = 0; i < ex.size(); ++i) {
    INFO("event " << i);
    CHECK(ex[i].ts_ns == ey[i].ts_ns);
    CHECK(ex[i].agent == ey[i].agent);
    CHECK(ex[i].from == ey[i].from);
    CHECK(ex[i].to == ey[i].to);
    CHECK(ex[i].score == ey[i].score);
    CHECK(ex[i].reason == ey[i].reason);
  }
  const auto cx = x.counters(), cy = y.counters();
  CHECK(cx.ticks == cy.ticks);
  CHECK(cx.agents_created == cy.agents_created);
  CHECK(cx.agents_evicted == cy.agents_evicted);
  CHECK(cx.local_confirmed == cy.local_confirmed);
  CHECK(cx.zone_changes == cy.zone_changes);
}

}  // namespace

TEST_CASE("the same packets over one or two workers give the same report and events", "[zones]") {
  const auto pkts = mixed_traffic();
  BehaviorConfig cfg = base_config();
  cfg.min_cohort = 4;
  Behavior one(cfg, 1, {});
  run(one, pkts, [](std::size_t, const Pkt&) { return 0u; });
  // The run must be worth comparing: some anomaly, some hard signal, several zones.
  REQUIRE(one.report().size() == 14);
  REQUIRE(one.counters().local_confirmed >= 1);
  REQUIRE(one.events().size() >= 3);

  SECTION("packets alternate between the workers (one agent's tick is split)") {
    Behavior two(cfg, 2, {});
    run(two, pkts, [](std::size_t i, const Pkt&) { return static_cast<unsigned>(i % 2); });
    same(one, two);
  }
  SECTION("agents split between the workers by address") {
    Behavior two(cfg, 2, {});
    run(two, pkts, [](std::size_t, const Pkt& p) { return static_cast<unsigned>(p.host % 2); });
    same(one, two);
  }
  SECTION("in reverse worker order: odd packets on worker 0") {
    Behavior two(cfg, 2, {});
    run(two, pkts, [](std::size_t i, const Pkt&) { return static_cast<unsigned>((i + 1) % 2); });
    same(one, two);
  }
}

// ---------------------------------------------------------------------------------- eviction

TEST_CASE("a full agent table refuses agents active in the tick and evicts the least recently active for new ones",
          "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.max_agents = 16;                  // also bounds each worker's tick table to 16
  cfg.scorer.distance_scale = 1e6f;     // scores ≈ 0: the table's rules alone decide
  Behavior b(cfg, 2, {});
  Driver d(b);
  // 20 agents 10.1.0.10 … 10.1.0.29, half on each worker so no tick table overflows.
  const auto active = [&](int k, std::uint8_t lo, std::uint8_t hi) {
    for (std::uint8_t h = lo; h <= hi; ++h) d.calm(h, k, h % 2u);
  };
  // Tick 1: 20 new agents; created in key order: 10 … 25; 26 … 29 find the table full of agents
  // active in this tick (none evictable) and are refused.
  active(1, 10, 29);
  d.end_tick(1);
  auto c = b.counters();
  CHECK(c.agents_created == 16);
  CHECK(c.agents_refused == 4);
  CHECK(c.agents_evicted == 0);
  CHECK(c.tick_table_full == 0);
  auto rep = b.report();
  REQUIRE(rep.size() == 16);
  for (std::uint8_t h = 10; h <= 25; ++h) CHECK(find(rep, key(h)) != nullptr);
  // Tick 2: the same 20: refused again.
  active(2, 10, 29);
  d.end_tick(2);
  c = b.counters();
  CHECK(c.agents_created == 16);
  CHECK(c.agents_refused == 8);
  CHECK(c.agents_evicted == 0);
  // Tick 3: 10 … 21 and 26 … 29: 22 … 25 (last active at tick 2) make room for 26 … 29.
  active(3, 10, 21);
  active(3, 26, 29);
  d.end_tick(3);
  c = b.counters();
  CHECK(c.agents_created == 20);
  CHECK(c.agents_refused == 8);
  CHECK(c.agents_evicted == 4);
  rep = b.report();
  REQUIRE(rep.size() == 16);
  for (std::uint8_t h = 22; h <= 25; ++h) CHECK(find(rep, key(h)) == nullptr);
  for (std::uint8_t h = 26; h <= 29; ++h) CHECK(find(rep, key(h)) != nullptr);
}

TEST_CASE("a full agent table never evicts QUARANTINED, ISOLATED or pinned agents; it refuses instead", "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.max_agents = 16;
  cfg.scorer.distance_scale = 1e6f;
  Behavior b(cfg, 1, {});
  Driver d(b);
  // Tick 1: 16 agents; 10 … 13 carry secrets (QUARANTINED), 14 … 25 are pinned MONITORED or ISOLATED.
  for (std::uint8_t h = 10; h <= 25; ++h) {
    d.calm(h, 1);
    if (h <= 13) d.send(out_frame(h), tick_start(1) + 90 * kMs + h, 0, false, 1);
  }
  for (std::uint8_t h = 14; h <= 25; ++h) b.pin(key(h), h % 2 ? TCPR_ZONE_ISOLATED : TCPR_ZONE_MONITORED, 0);
  d.end_tick(1);
  REQUIRE(b.counters().agents_created == 16);
  // Tick 2: only a new agent 10.1.0.30 is active; everyone else is idle but not evictable.
  d.calm(30, 2);
  d.end_tick(2);
  auto c = b.counters();
  CHECK(c.agents_refused == 1);
  CHECK(c.agents_evicted == 0);
  CHECK(find(b.report(), key(30)) == nullptr);
  // release() moves 14 … 25 to MONITORED without a pin: evictable. Tick 3: 10.1.0.30 again; room
  // is made among them (all last active at tick 1), never among the QUARANTINED 10 … 13.
  for (std::uint8_t h = 14; h <= 25; ++h) b.release(key(h));
  d.calm(30, 3);
  d.end_tick(3);
  c = b.counters();
  CHECK(c.agents_refused == 1);
  CHECK(c.agents_created == 17);
  CHECK(c.agents_evicted >= 1);
  CHECK(c.agents_evicted <= 12);
  CHECK(find(b.report(), key(30)) != nullptr);
  const auto rep = b.report();
  for (std::uint8_t h = 10; h <= 13; ++h) CHECK(zone_in(rep, key(h)) == TCPR_ZONE_QUARANTINED);
}

TEST_CASE("idle_timeout evicts idle TRUSTED and MONITORED agents, never QUARANTINED or ISOLATED ones", "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.idle_timeout = 1.0;               // 1.0 s / 0.1 s = 10 ticks
  cfg.scorer.distance_scale = 1e6f;     // scores ≈ 0: idleness alone decides
  Behavior b(cfg, 1, {});
  Driver d(b);
  const AgentKey trusted = key(10), monitored = key(11), quarantined = key(12), isolated = key(13);
  for (int k = 1; k <= 60; ++k) {
    d.calm(10, k);                                           // TRUSTED at 51
    if (k >= 55) d.calm(11, k);                              // 6 ticks old at 60: MONITORED
    if (k >= 50) d.calm(12, k);
    if (k == 60) d.send(out_frame(12), tick_start(k) + 90 * kMs, 0, false, 1);   // QUARANTINED at 60
    if (k >= 50) d.calm(13, k);
    if (k >= 57) d.send(out_frame(13), tick_start(k) + 90 * kMs, 0, false, 1);   // ISOLATED at 60
    d.end_tick(k);
  }
  auto rep = b.report();
  REQUIRE(rep.size() == 4);
  CHECK(zone_in(rep, trusted) == TCPR_ZONE_TRUSTED);
  CHECK(zone_in(rep, monitored) == TCPR_ZONE_MONITORED);
  CHECK(zone_in(rep, quarantined) == TCPR_ZONE_QUARANTINED);
  CHECK(zone_in(rep, isolated) == TCPR_ZONE_ISOLATED);
  // All idle from tick 61. Evicted at the end of the first tick t with t − 60 > 10: tick 71.
  d.end_tick(70);
  CHECK(b.report().size() == 4);
  CHECK(b.counters().agents_evicted == 0);
  d.end_tick(71);
  rep = b.report();
  CHECK(rep.size() == 2);
  CHECK(find(rep, trusted) == nullptr);
  CHECK(find(rep, monitored) == nullptr);
  CHECK(b.counters().agents_evicted == 2);
  d.end_tick(250);
  rep = b.report();
  REQUIRE(rep.size() == 2);
  CHECK(zone_in(rep, quarantined) == TCPR_ZONE_QUARANTINED);
  CHECK(zone_in(rep, isolated) == TCPR_ZONE_ISOLATED);
  CHECK(b.counters().agents_evicted == 2);
  // An evicted agent that comes back starts afresh.
  d.calm(10, 251);
  d.end_tick(251);
  CHECK(b.counters().agents_created == 5);
  CHECK(report_of(b, trusted).zone == TCPR_ZONE_MONITORED);
  CHECK(report_of(b, trusted).trust == Approx(trust_after(0.5, 1)).margin(1e-6));
}

// Regression (found against an earlier Behavior::evict_idle, `(full && a.last_active == oldest)`,
// fixed by make_room()). config/tcp-route.toml documents max_agents as "when full the least
// recently active calm agent is evicted" and idle_timeout as "seconds without traffic before a
// calm agent is forgotten". That code
//  (1) evicted at the end of every tick while the table was full, with no new agent waiting: every
//      agent idle for a single tick (0.1 s ≪ idle_timeout) lost its baseline and trust;
//  (2) to admit one new agent, evicted every agent tied for least recently active (here 16 for 1).
TEST_CASE("a full agent table evicts only to make room for a new agent, one agent per newcomer", "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.max_agents = 16;
  cfg.scorer.distance_scale = 1e6f;
  Behavior b(cfg, 1, {});
  Driver d(b);
  for (std::uint8_t h = 10; h <= 25; ++h) d.calm(h, 1);
  d.end_tick(1);
  REQUIRE(b.counters().agents_created == 16);
  SECTION("no newcomer: nobody is evicted before idle_timeout (300 s)") {
    for (std::uint8_t h = 10; h <= 19; ++h) d.calm(h, 2);   // 20 … 25 idle for one tick
    d.end_tick(2);
    CHECK(b.counters().agents_evicted == 0);
    CHECK(b.report().size() == 16);
  }
  SECTION("one newcomer: one agent makes room") {
    d.calm(30, 2);   // the 16 known agents are all idle, last active at tick 1
    d.end_tick(2);
    CHECK(b.counters().agents_created == 17);
    CHECK(b.counters().agents_evicted == 1);
    CHECK(b.report().size() == 16);
  }
}

// Cohorts from configured groups: an agent belongs to the last group that holds its address
// (config order), else to its /24 under its /16; a group's parent is the appliance. The report
// names the cohort whose model the agent is scored against: its own once the cohort has
// min_cohort (8) learning members, else the parent's.
TEST_CASE("configured cohort groups: membership, last group wins, small groups fall back to the appliance",
          "[zones]") {
  BehaviorConfig cfg = base_config();
  cfg.cohorts.push_back({"builders", prefixes({"10.1.0.0/28"})});   // hosts 0–15
  cfg.cohorts.push_back({"ops", prefixes({"10.1.0.8/30"})});        // hosts 8–11: later, so it wins
  cfg.cohorts.push_back({"tiny", prefixes({"10.1.0.64/30"})});      // hosts 64–67
  Behavior b(cfg, 1, {});
  Driver d(b);
  std::vector<std::uint8_t> hosts;
  for (std::uint8_t h = 1; h <= 15; ++h) hosts.push_back(h);     // builders: 1–7, 12–15 (11); ops: 8–11 (4)
  for (std::uint8_t h = 100; h < 112; ++h) hosts.push_back(h);   // no group: 10.1.0.0/24 (12)
  for (std::uint8_t h = 64; h < 67; ++h) hosts.push_back(h);     // tiny (3)
  for (int k = 1; k <= 3; ++k)
    for (auto h : hosts) d.calm(h, k);
  d.end_tick(3);
  CHECK(report_of(b, key(1)).cohort == "builders");
  CHECK(report_of(b, key(15)).cohort == "builders");
  // "ops" holds 8–11 but has 4 members (< min_cohort): scored against its parent, the appliance.
  CHECK(report_of(b, key(9)).cohort == "all");
  CHECK(report_of(b, key(100)).cohort == "10.1.0.0/24");
  CHECK(report_of(b, key(65)).cohort == "all");
}

// A host that only ever answers (here: its flows are all opened by the other side) is not part
// of its cohort's model: a /24 of 5 agents that call out and 10 hosts that only answer has 5
// learning members, under min_cohort (8), so its agents are scored against the parent's
// model (the report names the parent, the /16); once 3 of the answering hosts open a flow of
// their own, it has 8 and its own model.
TEST_CASE("hosts that have never opened a flow are not learning members of their cohort", "[zones]") {
  BehaviorConfig cfg = base_config();
  Behavior b(cfg, 1, {});
  Driver d(b);
  const auto answer_only = [&](std::uint8_t host, int k) {
    const std::uint64_t t = tick_start(k) + host * 10'000ull;
    d.send(in_frame(host), t);                   // a flow opened towards the host …
    d.send(out_frame(host), t + kMs, 0, false);  // … and its answer: not a new flow of the host's
  };
  for (int k = 1; k <= 3; ++k) {
    for (std::uint8_t h = 1; h <= 5; ++h) d.calm(h, k);   // opens its flow in tick 1
    for (std::uint8_t h = 20; h < 30; ++h) answer_only(h, k);
  }
  d.end_tick(3);
  CHECK(report_of(b, key(1)).cohort == "10.1.0.0/16");
  CHECK(report_of(b, key(20)).cohort == "10.1.0.0/16");
  for (int k = 4; k <= 6; ++k) {
    for (std::uint8_t h = 1; h <= 5; ++h) d.calm(h, k);
    for (std::uint8_t h = 20; h < 30; ++h) {
      if (h < 23 && k == 4) d.send(out_frame(h), tick_start(k) + h * 10'000ull, 0, true);   // opens one
      answer_only(h, k);
    }
  }
  d.end_tick(6);
  CHECK(report_of(b, key(1)).cohort == "10.1.0.0/24");
  CHECK(report_of(b, key(25)).cohort == "10.1.0.0/24");
}

TEST_CASE("a tool storm is quarantined by the burst test in its first tick, with the tool flows as the why",
          "[zones][burst]") {
  // Ten calm agents, each making one tool call at ticks 1 and 41. Agent 10's learnt tool rate at
  // tick 61: the running mean 2/50 at tick 50 (the baseline's 1/(n+1) weights), then ×0.98 for
  // each of ten calm ticks = 0.033 per tick, below the floor 0.05. Tick 61: four calls.
  // G = max(G(4, 0.05), G(4, 0.10), G(4, 0.15)) = G(4, 0.05) = 4·ln 80 − 3.95 = 13.58;
  // score 1 − e^{−13.58/4} = 0.9665 > quarantine_above.
  for (const bool burst : {true, false}) {
    BehaviorConfig cfg = base_config();
    cfg.burst.enabled = burst;
    Behavior b(cfg, 1, {});
    Driver d(b);
    constexpr int kOnset = 61;
    for (int k = 1; k <= kOnset; ++k) {
      for (int h = 0; h < 10; ++h) {
        const auto host = static_cast<std::uint8_t>(10 + h);
        d.calm(host, k);
        if (k == 1 || k == 41) d.tool_call(host, tick_start(k) + 50 * kMs + h * kMs, static_cast<std::uint16_t>(50000 + k));
      }
      if (k == kOnset)
        for (int c = 0; c < 4; ++c) d.tool_call(10, tick_start(k) + 10 * kMs + c * 20 * kMs, static_cast<std::uint16_t>(51000 + c));
      d.end_tick(k);
    }
    const AgentReport r = report_of(b, key(10));
    INFO("burst test " << (burst ? "on" : "off") << ", score " << r.score);
    if (burst) {
      CHECK(r.zone == TCPR_ZONE_QUARANTINED);
      CHECK(r.score == Approx(1 - std::exp(-(4 * std::log(80.0) - 3.95) / 4)).epsilon(1e-4));
      CHECK(r.first_anomalous_ns == tick_end(kOnset));
      const auto ev = events_of(b, key(10));
      REQUIRE_FALSE(ev.empty());
      CHECK(contains(ev.back().reason, "top: tool_flows_per_s"));
    } else {
      // Without it, the smoothed features alone do not reach quarantine in that tick.
      CHECK(r.zone <= TCPR_ZONE_MONITORED);
    }
    // The others, with their single calls, became TRUSTED at tick 51 (the trust rule) either way:
    // a lone call of a rare class is below monitor_above, so the burst test ignores it.
    for (int h = 1; h < 10; ++h) {
      const auto ev = events_of(b, key(static_cast<std::uint8_t>(10 + h)));
      REQUIRE(ev.size() == 1);
      CHECK(ev[0].to == TCPR_ZONE_TRUSTED);
    }
  }
}

TEST_CASE("a newcomer is burst-tested against its cohort's rates until its own are learnt", "[zones][burst]") {
  // Ten calm agents; in tick k the one with (k + h) % 10 == 0 makes one tool call, so the cohort's
  // learning members (the ten, 10.1.0.0/24) count 1 tool flow a tick between them: mean 0.1,
  // variance 1/10 − 0.01 = 0.09 per member, the same every tick — λ_cold = 0.1 + 2·0.3 = 0.7
  // (cold_spread 2). A new agent appears at tick 40 (own baseline cold until its 30th tick) and
  // makes 9 tool calls in that tick: G = max(G(9, 0.7), G(9, 1.4), G(9, 2.1)) = G(9, 0.7) =
  // 9·ln(9/0.7) − 8.3 = 14.6; score 1 − e^{−14.6/4} = 0.974 > quarantine_above. A second new
  // agent makes 2 calls a tick for ten ticks: at most G(6, 2.1) = 6·ln(6/2.1) − 3.9 = 2.40 over
  // three ticks, score 0.45 — its ordinary work is not a burst. (The same for the failed-handshake
  // channel: the calls' SYNs go unanswered, one a tick in the cohort, as many as the calls for
  // the newcomers, a tick later; the storm's 9 score the same 14.6 then.) Every call goes to
  // another server (no destination sees a period: no beacon lattice), and the Mahalanobis term is scaled
  // out (κ = 10⁶): the newcomers' new connections alone put them far from a cohort that opens few.
  std::uint8_t server = 0;
  for (const float spread : {2.0f, 0.0f}) {
    BehaviorConfig cfg = base_config();
    cfg.burst.cold_spread = spread;
    cfg.scorer.distance_scale = 1e6f;
    Behavior b(cfg, 1, {});
    Driver d(b);
    const auto call = [&](std::uint8_t host, std::uint64_t ts, std::uint16_t sport) {
      const std::uint8_t dst[4] = {10, 2, 1, static_cast<std::uint8_t>(1 + server++ % 200)};
      d.send(test::tcp4({10, 1, 0, host}, sport, {dst[0], dst[1], dst[2], dst[3]}, 8000, packet::kTcpSyn, 0), ts, 0, true);
      d.send(test::tcp4({10, 1, 0, host}, sport, {dst[0], dst[1], dst[2], dst[3]}, 8000, packet::kTcpAck, 300), ts + kMs, 0,
             false, 0, kGroupTool);
    };
    constexpr int kOnset = 40;
    constexpr int kStormMs[9] = {3, 11, 14, 29, 33, 47, 52, 68, 81};
    for (int k = 1; k <= kOnset + 9; ++k) {
      for (int h = 0; h < 10; ++h) {
        const auto host = static_cast<std::uint8_t>(10 + h);
        d.calm(host, k);
        if ((k + h) % 10 == 0) call(host, tick_start(k) + (5 + (k * 37) % 60) * kMs + h * kMs, static_cast<std::uint16_t>(50000 + k));
      }
      if (k == kOnset)
        for (int c = 0; c < 9; ++c) call(50, tick_start(k) + kStormMs[c] * kMs, static_cast<std::uint16_t>(51000 + c));
      if (k >= kOnset)
        for (int c = 0; c < 2; ++c)
          call(60, tick_start(k) + (20 + c * 30 + (k * 13) % 17) * kMs, static_cast<std::uint16_t>(52000 + 2 * k + c));
      d.end_tick(k);
    }
    const AgentReport storm = report_of(b, key(50)), busy = report_of(b, key(60));
    INFO("cold_spread " << spread << ": storm score " << storm.max_score << ", busy newcomer " << busy.max_score);
    CHECK(storm.ticks < cfg.warmup_ticks);
    if (spread > 0) {
      CHECK(storm.zone == TCPR_ZONE_QUARANTINED);
      CHECK(storm.first_anomalous_ns == tick_end(kOnset));
      CHECK(storm.max_score == Approx(1 - std::exp(-(9 * std::log(9 / 0.7) - 8.3) / 4)).epsilon(1e-3));
      const auto ev = events_of(b, key(50));
      REQUIRE_FALSE(ev.empty());
      CHECK(contains(ev.front().reason, "top: tool_flows_per_s"));
    } else {
      // Without it nothing tests a newcomer's counts.
      CHECK(storm.zone == TCPR_ZONE_MONITORED);
      CHECK(storm.max_score < 0.01f);
    }
    CHECK(busy.zone == TCPR_ZONE_MONITORED);
    CHECK(busy.max_score < cfg.monitor_above);
  }
}
