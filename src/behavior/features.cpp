#include "tcpr/behavior/features.hpp"

#include <algorithm>
#include <array>
#include <cmath>

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


LatticeFit lattice_fit(const std::uint32_t* gaps_us, unsigned n, float tolerance) noexcept {
  constexpr unsigned kMax = BeaconTracker::kHistory;
  static constexpr auto kInverse = [] {   // 1/k: the refit without a division per point
    std::array<float, kMax + 1> inv{};
    for (unsigned k = 1; k <= kMax; ++k) inv[k] = 1.0f / static_cast<float>(k);
    return inv;
  }();
  LatticeFit best;
  n = std::min(n, kMax);
  // offsets[j]: time from the connection j intervals back to the newest one, µs (float: 8 gaps of
  // at most 2^32 µs, relative error 1e-7, far below the tolerance).
  float offsets[kMax + 1];
  offsets[0] = 0;
  for (unsigned j = 0; j < n; ++j) offsets[j + 1] = offsets[j] + static_cast<float>(gaps_us[j]);
  for (unsigned first = 1; first <= std::min(n, 2u); ++first) {
    // A split first period leaves at most n − 1 points: nothing to gain once the plain candidate
    // has that many.
    if (first == 2 && best.points + 1 >= n) break;
    float period = offsets[first];
    if (!(period > 0)) continue;
    unsigned points = 1, last = first;
    for (unsigned k = 2; k <= n; ++k) {
      const float target = static_cast<float>(k) * period, window = tolerance * period;
      unsigned j = last + 1;
      while (j <= n && offsets[j] < target - window) ++j;
      if (j > n || offsets[j] > target + window) break;
      ++points;
      last = j;
      period = offsets[j] * kInverse[k];
    }
    if (points < 2) continue;
    const float per_period = static_cast<float>(last) * kInverse[points];   // connections per period, ≥ 1
    const float q = std::min(1.0f, 2.0f * tolerance * per_period);
    const float evidence = static_cast<float>(points - 1) * -log_fast(q);
    if (points > best.points || (points == best.points && evidence > best.evidence))
      best = {points, evidence, period * 1e-6f};
  }
  return best;
}

void BeaconTracker::observe(const ConnEvent& e) noexcept {
  ++clock_;
  Slot* hit = nullptr;
  Slot* victim = nullptr;   // a free slot, else the least recently used (ages modulo 2^16)
  for (auto& s : slots_) {
    if (s.last_ns != 0 && s.dst == e.dst) hit = &s;
    if (s.last_ns == 0) {
      if (victim == nullptr || victim->last_ns != 0) victim = &s;
    } else if (victim == nullptr || (victim->last_ns != 0 && static_cast<std::uint16_t>(clock_ - s.age) >
                                                                 static_cast<std::uint16_t>(clock_ - victim->age))) {
      victim = &s;
    }
  }
  if (hit == nullptr) {
    const bool was_best = victim->regularity >= regularity_ && regularity_ > 0;
    *victim = Slot{};
    victim->dst = e.dst;
    victim->last_ns = e.ts_ns;
    victim->age = clock_;
    if (was_best) regularity_ = best_regularity();
    return;
  }
  hit->age = clock_;
  if (e.ts_ns <= hit->last_ns) return;
  const std::uint64_t gap_us = (e.ts_ns - hit->last_ns) / 1000;
  hit->last_ns = e.ts_ns;
  for (unsigned j = kHistory - 1; j > 0; --j) hit->gaps_us[j] = hit->gaps_us[j - 1];
  hit->gaps_us[0] = static_cast<std::uint32_t>(std::min<std::uint64_t>(gap_us, 0xffffffffu));
  if (hit->n < kHistory) ++hit->n;
  // Only the slot that changed is refitted; the agent's value is the best slot's.
  const LatticeFit fit = lattice_fit(hit->gaps_us, hit->n, kTolerance);
  const float before = hit->regularity;
  hit->regularity = fit.points < kMinPoints
                        ? 0.0f
                        : std::min(1.0f, static_cast<float>(fit.points - kMinPoints + 1) / 4.0f);
  if (fit.points >= kMinPoints) evidence_ = std::max(evidence_, fit.evidence);
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
