#include "tcpr/behavior/features.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>

namespace tcpr::behavior {

const char* const kFeatureNames[kFeatures] = {
    "pkts_out_per_s",  "pkts_in_per_s",     "bytes_out_per_s", "bytes_in_per_s",
    "new_flows_per_s", "distinct_dst_ips",  "distinct_dst_ports", "failed_handshakes_per_s",
    "mean_payload_out", "up_down_ratio",    "beacon_regularity", "new_internal_peers",
    "llm_flows_per_s", "tool_flows_per_s",  "dns_flows_per_s",  "risk_tags"};

void TickStats::add_conn(const ConnEvent& e) noexcept {
  ++n_conns;
  // Keep the earliest kConnSamples (by time, then destination): the same rule in merge() makes
  // the sample independent of how connections were spread over workers.
  const unsigned held = std::min<std::uint32_t>(n_conns - 1, kConnSamples);
  if (held == kConnSamples && !(e < conns[kConnSamples - 1])) return;
  unsigned i = held == kConnSamples ? kConnSamples - 1 : held;
  while (i > 0 && e < conns[i - 1]) {
    conns[i] = conns[i - 1];
    --i;
  }
  conns[i] = e;
}

void TickStats::merge(const TickStats& o) noexcept {
  pkts_out += o.pkts_out;
  pkts_in += o.pkts_in;
  new_flows += o.new_flows;
  syn_out += o.syn_out;
  synack_in += o.synack_in;
  rst_in += o.rst_in;
  payload_pkts_out += o.payload_pkts_out;
  risk_hits += o.risk_hits;
  for (unsigned g = 0; g < kClassGroups; ++g) class_flows[g] += o.class_flows[g];
  bytes_out += o.bytes_out;
  bytes_in += o.bytes_in;
  payload_bytes_out += o.payload_bytes_out;
  if (o.first_risk_ns != 0 &&
      (first_risk_ns == 0 || o.first_risk_ns < first_risk_ns ||
       (o.first_risk_ns == first_risk_ns && o.first_risk_worker < first_risk_worker))) {
    first_risk_ns = o.first_risk_ns;
    first_risk_worker = o.first_risk_worker;
  }
  dst_ips.merge(o.dst_ips);
  dst_ports.merge(o.dst_ports);
  // Union of two "earliest k" samples, keeping the earliest k: associative and commutative.
  const std::uint32_t total = n_conns + o.n_conns;
  const unsigned theirs = std::min<std::uint32_t>(o.n_conns, kConnSamples);
  for (unsigned i = 0; i < theirs; ++i) add_conn(o.conns[i]);
  n_conns = total;
}


bool BeaconTracker::Lattice::step(std::uint64_t ts, bool candidate_waits) noexcept {
  if (points == 0) return false;
  const auto t = static_cast<double>(ts);
  const double expected = static_cast<double>(point_ns) + period_ns;
  const double window = static_cast<double>(kTolerance) * period_ns;
  if (t > expected + window) return false;
  if (t >= expected - window) {   // a point: refit the period over the whole span
    ++points;
    ++conns;
    point_ns = ts;
    period_ns = (t - static_cast<double>(anchor_ns)) / points;
    return true;
  }
  // Early: an unrelated call between two points — unless the lattice is still an unconfirmed
  // candidate that may be replaced by the newer one.
  if (points == 1 && !candidate_waits) return false;
  ++conns;
  return true;
}

void BeaconTracker::Lattice::start(std::uint64_t anchor, std::uint64_t ts) noexcept {
  anchor_ns = anchor;
  point_ns = ts;
  period_ns = static_cast<double>(ts - anchor);
  points = 1;
  conns = 1;
}

void BeaconTracker::observe(const ConnEvent& e) noexcept {
  static_assert(offsetof(BeaconTracker, slots_) == 64, "the directory fills exactly the first cache line");
  ++clock_;
  unsigned h = kSlots;   // the slot of e.dst
  for (unsigned s = 0; s < kSlots; ++s)
    if ((used_ >> s & 1u) != 0 && dst_[s] == e.dst) h = s;
  if (h == kSlots) {
    // The first free slot, else the least recently used (ages modulo 2^16; ties: the first).
    const unsigned free = ~used_ & ((1u << kSlots) - 1);
    unsigned victim = 0;
    if (free != 0) {
      victim = static_cast<unsigned>(std::countr_zero(free));
    } else {
      for (unsigned s = 1; s < kSlots; ++s)
        if (static_cast<std::uint16_t>(clock_ - age_[s]) > static_cast<std::uint16_t>(clock_ - age_[victim])) victim = s;
    }
    const bool was_best = slots_[victim].regularity >= regularity_ && regularity_ > 0;
    slots_[victim] = Slot{};
    slots_[victim].last_ns = e.ts_ns;
    dst_[victim] = e.dst;
    age_[victim] = clock_;
    used_ = static_cast<std::uint8_t>(used_ | 1u << victim);
    last_ = {};
    if (was_best) regularity_ = best_regularity();
    return;
  }
  Slot* hit = &slots_[h];
  age_[h] = clock_;
  if (e.ts_ns <= hit->last_ns) return;
  // The lattice anchored one back follows the newest candidate; the one anchored two back keeps
  // its candidate through early calls (its hypothesis is that a call precedes every point).
  if (!hit->lattice[0].step(e.ts_ns, false)) hit->lattice[0].start(hit->last_ns, e.ts_ns);
  if (!hit->lattice[1].step(e.ts_ns, true)) {
    if (hit->prev_ns != 0) hit->lattice[1].start(hit->prev_ns, e.ts_ns);
    else hit->lattice[1] = Lattice{};
  }
  hit->prev_ns = hit->last_ns;
  hit->last_ns = e.ts_ns;
  // The lattice with more points (the one anchored at the previous connection on a tie).
  const Lattice& l = hit->lattice[1].points > hit->lattice[0].points ? hit->lattice[1] : hit->lattice[0];
  const unsigned points = std::min<unsigned>(l.points, kMaxPoints);
  last_ = {points, 0, static_cast<float>(l.period_ns * 1e-9)};
  const float before = hit->regularity;
  if (points >= 2) {
    const float per_period = static_cast<float>(l.conns) / static_cast<float>(l.points);   // ≥ 1
    const float q = std::min(1.0f, 2.0f * kTolerance * per_period);
    last_.evidence = static_cast<float>(points - 1) * -log_fast(q);
  }
  hit->regularity = points < kMinPoints ? 0.0f : std::min(1.0f, last_.evidence * kInverseFullEvidence);
  if (points >= kMinPoints) evidence_ = std::max(evidence_, last_.evidence);
  if (hit->regularity >= regularity_) regularity_ = hit->regularity;
  else if (before >= regularity_) regularity_ = best_regularity();
}

float BeaconTracker::best_regularity() const noexcept {
  float best = 0;
  for (const auto& s : slots_) best = std::max(best, s.regularity);
  return best;
}

bool PeerMemory::novel(std::uint32_t host) noexcept {
  // Three 9-bit probes from one 32-bit hash (Kirsch & Mitzenmacher 2006: h1 + i·h2).
  const std::uint32_t h1 = host & 0xffffu, h2 = (host >> 16) | 1u;
  bool seen = true;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const std::uint32_t bit = (h1 + i * h2) & 511u;
    std::uint64_t& word = bits_[bit >> 6];
    const std::uint64_t mask = 1ull << (bit & 63);
    if ((word & mask) == 0) seen = false;
    word |= mask;
  }
  return !seen;
}

}  // namespace tcpr::behavior
