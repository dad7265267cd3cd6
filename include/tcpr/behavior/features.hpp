// features.hpp — what is counted per agent per tick, and the feature vector made from it.
//
// TickStats is one agent's partial statistics for one tick on one worker. Every field merges
// associatively and commutatively (sums; HyperLogLog registers by max; the new-connection sample
// keeps the earliest kConnSamples by (time, destination)), so the control thread can merge
// workers → appliance → cohorts in any order and get the same result.
//
// The feature vector (kFeatures, README "Behaviour features") is derived from the merged
// TickStats of one tick plus the agent's connection-timing state (beaconing). Rates are per
// second of tick; rates and counts are scored as log1p(value) so that a tenfold change weighs the
// same at any scale.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "tcpr/behavior/agent.hpp"
#include "tcpr/behavior/mergeable.hpp"

namespace tcpr::behavior {

enum Feature : unsigned {
  kPktsOut = 0,        // packets/s the agent sent
  kPktsIn,             // packets/s it received
  kBytesOut,           // bytes/s sent (frame bytes)
  kBytesIn,            // bytes/s received
  kNewFlows,           // connections (flows) it opened per s
  kDstIps,             // distinct destination IPs of its new flows in the tick (HyperLogLog)
  kDstPorts,           // distinct destination ports of its new flows in the tick (HyperLogLog)
  kFailedHandshakes,   // per s: SYNs not answered by a SYN-ACK within a tick, plus RSTs received
  kMeanPayload,        // mean L4 payload bytes of the packets it sent
  kUpDownRatio,        // log((bytes out + 1) / (bytes in + 1)), over the medium horizon
  kBeaconRegularity,   // a fixed period in its connections to one destination (lattice test), in [0,1]
  kInternalPeers,      // internal hosts it contacted for the first time, in the last 5–10 s
  kLlmFlows,           // flows per s whose class became llm.api
  kToolFlows,          // flows per s whose class became mcp or a2a
  kDnsFlows,           // flows per s whose class became dns
  kRiskTags,           // risk-tag hits (secret, shell) per tick: a hard signal
};
inline constexpr unsigned kFeatures = 16;
extern const char* const kFeatureNames[kFeatures];
// Features scored as log1p(value); the others are scored as they are.
inline constexpr bool kLogScaled[kFeatures] = {true, true, true, true, true, true, true, true,
                                               true, false, false, true, true, true, true, true};

// Class groups counted per agent (kLlmFlows, kToolFlows, kDnsFlows).
enum ClassGroup : unsigned { kGroupLlm = 0, kGroupTool = 1, kGroupDns = 2, kGroupOther = 3 };
inline constexpr unsigned kClassGroups = 4;

// A new connection: when, to which destination (hash of server address, port, protocol), to
// which host (hash of the address), and whether that host is on the internal side.
struct ConnEvent {
  std::uint64_t ts_ns = 0;
  std::uint64_t dst = 0;
  std::uint32_t host = 0;
  std::uint32_t internal = 0;
};
inline bool operator<(const ConnEvent& a, const ConnEvent& b) noexcept {
  return a.ts_ns != b.ts_ns ? a.ts_ns < b.ts_ns : a.dst < b.dst;
}
inline constexpr unsigned kConnSamples = 6;

struct TickStats {
  AgentKey key;
  std::uint32_t pkts_out = 0, pkts_in = 0;
  std::uint32_t new_flows = 0;
  std::uint32_t syn_out = 0, synack_in = 0, rst_in = 0;
  std::uint32_t payload_pkts_out = 0;
  std::uint32_t risk_hits = 0;
  std::uint32_t class_flows[kClassGroups] = {};
  std::uint32_t n_conns = 0;              // ConnEvents offered (conns holds the earliest)
  std::uint64_t bytes_out = 0, bytes_in = 0, payload_bytes_out = 0;
  std::uint64_t first_risk_ns = 0;        // capture time of the first hard signal; 0: none
  std::uint32_t first_risk_worker = 0;
  HyperLogLog<6> dst_ips, dst_ports;
  ConnEvent conns[kConnSamples];

  void add_conn(const ConnEvent& e) noexcept;
  void merge(const TickStats& o) noexcept;
};

using FeatureVec = std::array<float, kFeatures>;

// log(y) for a normal float y > 0, and log(1 + x) for x ≥ 0, within 2e-6 · max(1, |log y|): the
// exponent from the float's bits, and ln m = 2·atanh((m − 1)/(m + 1)) to the s⁹ term for the
// mantissa m in [1, 2). The tick takes 17 of these per agent; libm's cost a tenth of a tick at
// 100 000 agents.
// Always inlined: the tick's per-feature loops vectorise only with it in line, and the compiler
// stops inlining it on its own once it has a few more callers.
[[gnu::always_inline]] inline float log_fast(float y) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(y);
  const int e = static_cast<int>((bits >> 23) & 0xffu) - 127;
  const float m = std::bit_cast<float>((bits & 0x7fffffu) | 0x3f800000u);
  const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  const float ln_m = 2.0f * s * (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9)))));
  return static_cast<float>(e) * 0.69314718f + ln_m;
}
[[gnu::always_inline]] inline float log1p_fast(float x) noexcept { return log_fast(1.0f + x); }

// Raw (natural units) features of one merged tick. kFailedHandshakes here counts only this
// tick's unanswered SYNs; the control thread replaces it, and kBeaconRegularity and
// kInternalPeers, with values that need state across ticks (BeaconTracker, PeerMemory).
inline void raw_features(const TickStats& s, double tick_seconds, FeatureVec& out) noexcept {
  // Float throughout: these are rates for a score, and the tick computes them for every active
  // agent (the double conversions and divisions were a tenth of the tick). Inline, so the tick
  // keeps `out` in registers rather than storing it and reading it back as vectors.
  const float per_s = tick_seconds > 0 ? static_cast<float>(1.0 / tick_seconds) : 0.0f;
  out[kPktsOut] = static_cast<float>(s.pkts_out) * per_s;
  out[kPktsIn] = static_cast<float>(s.pkts_in) * per_s;
  out[kBytesOut] = static_cast<float>(s.bytes_out) * per_s;
  out[kBytesIn] = static_cast<float>(s.bytes_in) * per_s;
  out[kNewFlows] = static_cast<float>(s.new_flows) * per_s;
  // The destination sketches are fed by new flows only, so one new flow is one destination
  // (exact, and most agents' ticks: no sketch is read).
  out[kDstIps] = s.new_flows > 1 ? static_cast<float>(s.dst_ips.estimate()) : static_cast<float>(s.new_flows);
  out[kDstPorts] = s.new_flows > 1 ? static_cast<float>(s.dst_ports.estimate()) : static_cast<float>(s.new_flows);
  const std::uint32_t unanswered = s.syn_out > s.synack_in ? s.syn_out - s.synack_in : 0;
  out[kFailedHandshakes] = static_cast<float>(unanswered + s.rst_in) * per_s;
  out[kMeanPayload] = s.payload_pkts_out != 0
                          ? static_cast<float>(s.payload_bytes_out) / static_cast<float>(s.payload_pkts_out)
                          : 0.0f;
  out[kUpDownRatio] = log_fast((static_cast<float>(s.bytes_out) + 1.0f) / (static_cast<float>(s.bytes_in) + 1.0f));
  out[kBeaconRegularity] = 0.0f;
  out[kInternalPeers] = 0.0f;
  out[kLlmFlows] = static_cast<float>(s.class_flows[kGroupLlm]) * per_s;
  out[kToolFlows] = static_cast<float>(s.class_flows[kGroupTool]) * per_s;
  out[kDnsFlows] = static_cast<float>(s.class_flows[kGroupDns]) * per_s;
  out[kRiskTags] = static_cast<float>(s.risk_hits);
}

// A fixed period in the connection times to one destination (beaconing): the lattice test, kept
// as each connection arrives. A lattice starts from an anchor connection and a candidate period
// P (the time to the next); a later connection within ±tolerance·P of the next point (the
// newest point + P) is a point, and P is refitted as (point − anchor) / points; one earlier than
// the window is an unrelated call to the same destination (the lattice goes on); one later means
// a point was missed, and the lattice starts again. Two lattices per destination: one anchored at
// the previous connection, whose unconfirmed candidate is replaced by every newer one (so an old
// call to the same server does not hold it), and one anchored at the connection before it, which
// keeps its candidate through early calls — so a period whose every point is preceded by an
// unrelated call (or whose first point is) is found as well. A connection lands in
// a window by chance with probability q = min(1, 2·tolerance·r), r = connections per period since
// the anchor (about 1 for a pure beacon, more with unrelated calls interleaved), so `points`
// points beyond the first are evidence of G = (points − 1)·ln(1/q) nats — the scale of the burst
// test (burst.hpp). Points beyond kMaxPoints add nothing: evidence is about the present, not how
// long a beacon has run.
struct LatticeFit {
  unsigned points = 0;     // lattice points after the anchor (the candidate period's own included)
  float evidence = 0;      // nats
  float period_s = 0;
};

// Per agent: the lattices of a few recent destinations. Regularity (the feature) is 0 below
// kMinPoints, then the evidence over that of six points of a pure beacon, at most 1 (so calls
// interleaved with the points lower it); the evidence is reported per tick. O(1) per connection.
class alignas(64) BeaconTracker {
 public:
  static constexpr unsigned kMaxPoints = 8;   // evidence and regularity stop growing here
  static constexpr unsigned kMinPoints = 3;   // fewer cannot tell a period from chance
  static constexpr float kTolerance = 0.01f;  // ±1 % of the period
  // Regularity is evidence / (the evidence of six points of a pure beacon), at most 1.
  static constexpr float kFullEvidence = 19.56f;   // 5·ln(1/(2·kTolerance)) = 5·ln 50
  static constexpr float kInverseFullEvidence = 1.0f / kFullEvidence;
  void observe(const ConnEvent& e) noexcept;
  // Kept up to date by observe(): the tick reads it for every agent, most of which connected
  // to nothing new.
  float regularity() const noexcept { return regularity_; }
  // The largest lattice evidence of the connections observed since the last call.
  float take_evidence() noexcept {
    const float g = evidence_;
    evidence_ = 0;
    return g;
  }
  // The lattice of the destination of the last connection observed (for tests).
  LatticeFit last_fit() const noexcept { return last_; }

 private:
  struct Lattice {
    std::uint64_t anchor_ns = 0, point_ns = 0;
    double period_ns = 0;
    std::uint16_t points = 0;              // 0: not started
    std::uint16_t conns = 0;               // connections after the anchor (points + interleaved)
    bool step(std::uint64_t ts, bool candidate_waits) noexcept;   // false: start again
    void start(std::uint64_t anchor, std::uint64_t ts) noexcept;
  };
  struct Slot {
    std::uint64_t last_ns = 0, prev_ns = 0;   // its newest two connections (0: none)
    Lattice lattice[2];                        // anchored one and two connections back
    float regularity = 0;
  };
  float best_regularity() const noexcept;
  static constexpr unsigned kSlots = 4;
  // The directory every connection's lookup reads, in the object's first cache line (checked in
  // observe()); a connection then touches only its own slot. With the destinations inside the
  // slots, the lookup read all four slots, six cache lines.
  std::uint64_t dst_[kSlots] = {};
  std::uint16_t age_[kSlots] = {};
  std::uint8_t used_ = 0;   // bit s: slot s holds a destination
  std::uint16_t clock_ = 0;
  float regularity_ = 0;
  float evidence_ = 0;
  LatticeFit last_;
  Slot slots_[kSlots];
};

// Per agent: the internal hosts it has contacted (a 512-bit Bloom filter, k = 3), to count
// first contacts — lateral movement reaches hosts the agent never talked to before.
class PeerMemory {
 public:
  // True when `host` was not seen before (then it is remembered).
  bool novel(std::uint32_t host) noexcept;

 private:
  std::uint64_t bits_[8] = {};
};

}  // namespace tcpr::behavior
