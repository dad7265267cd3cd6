// burst.hpp — the count burst test: how unlikely an agent's latest counts are under its own rate.
//
// The Mahalanobis score (scorer.hpp) looks at smoothed features, so a sudden storm of tool calls
// needs a few ticks to move it. Counts of discrete events — failed handshakes, first contacts
// with internal hosts, flows per class group — have a sharper test: under the agent's usual
// Poisson rate λ per tick, the generalised likelihood-ratio statistic of c events in the last
// n ticks against "a higher rate" is
//     G(c, μ) = c·ln(c/μ) − (c − μ)   for c > μ = n·λ, else 0,
// and P(G ≥ g) falls like e^{−g} (Chernoff). G is taken over the windows of the last 1, 2 and 3
// ticks and the largest over channels and windows is the burst statistic; the score is
// 1 − e^{−G/κ_b} (κ_b = BurstConfig::scale), combined with the Mahalanobis score by max.
// λ is the agent's own EWMA of its counts, learnt only in ticks that look normal (as the
// baseline is), floored: a fresh or quiet agent's estimate of 0 would make any event infinitely
// unlikely. Channels that are 0 in normal behaviour (failed handshakes, internal peers) get a
// lower floor, as their σ floor is lower in the scorer.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "tcpr/behavior/features.hpp"
#include "tcpr/behavior/mergeable.hpp"

namespace tcpr::behavior {

enum BurstChannel : unsigned { kBurstFailed = 0, kBurstPeers, kBurstLlm, kBurstTool, kBurstDns, kBurstUpload };
inline constexpr unsigned kBurstChannels = 6;
// kBurstUpload counts whole blocks of this many payload bytes sent in a tick: volume as events.
inline constexpr std::uint64_t kUploadBlock = 32768;
// The feature each channel reports as the score's "why".
inline constexpr Feature kBurstFeature[kBurstChannels] = {kFailedHandshakes, kInternalPeers, kLlmFlows,
                                                          kToolFlows,        kDnsFlows,      kBytesOut};
// Channels whose count is 0 in normal behaviour: floored at quiet_floor instead of floor.
inline constexpr bool kBurstQuiet[kBurstChannels] = {false, true, false, false, false, false};

struct BurstConfig {
  bool enabled = true;
  float floor = 0.05f;         // least λ per tick (0.5 events/s at 100 ms)
  float quiet_floor = 1e-4f;   // least λ of the quiet channels
  float scale = 4.0f;          // κ_b: G = 3·κ_b scores 0.95
  // An agent whose own rates are not learnt yet (warmup_ticks) is tested against its cohort's:
  // per channel, the mean count of a learning member in a tick plus cold_spread standard
  // deviations of those counts (agents of one cohort differ in their rates; the spread keeps a
  // busy newcomer's ordinary work below the test). 0: no test until the own rates are learnt.
  float cold_spread = 2.0f;
};

using BurstCounts = std::array<std::uint32_t, kBurstChannels>;

// Per agent: the learnt rates and the counts of the two ticks before this one (saturated at 255:
// a count that high in a tick is decided by the current tick alone). The rates are kept lazily:
// `rate` is as of baseline tick `learnt_at`, and the ticks since, all learnt with zero counts
// (a tick with a count is learnt at once), are applied as one decay factor when the state is
// next used (burst_decay) — so an agent without events costs nothing per tick.
struct BurstState {
  std::array<float, kBurstChannels> rate{};
  std::array<std::uint8_t, kBurstChannels> prev1{}, prev2{};
  std::uint32_t learnt_at = 0;
  bool quiet() const noexcept {
    for (unsigned c = 0; c < kBurstChannels; ++c)
      if ((prev1[c] | prev2[c]) != 0) return false;
    return true;
  }
};

// What baseline ticks from..to−1 learning zero counts leave of a rate: the product of
// (1 − α_k), α_k = max(α, 1/(k+1)) as the baseline learns (a running mean, then an EWMA). The
// running-mean part telescopes (k/(k+1)), the EWMA part is a power.
inline float burst_decay(std::uint32_t from, std::uint32_t to, float alpha) noexcept {
  if (to <= from) return 1.0f;
  if (from == 0) return 0.0f;   // tick 0 learns with weight 1: the rate is replaced
  const auto knee = static_cast<std::uint32_t>(1.0f / alpha);   // 1/(k+1) ≥ α while k + 1 ≤ knee
  float d = 1.0f;
  if (from < knee) d = static_cast<float>(from) / static_cast<float>(std::min(to, knee));
  const std::uint32_t ewma_from = std::max(from, knee);
  if (to > ewma_from) d *= std::pow(1.0f - alpha, static_cast<float>(to - ewma_from));
  return d;
}

// Brings the rates to baseline tick n.
inline void burst_bring(BurstState& s, std::uint32_t n, float alpha) noexcept {
  if (n == s.learnt_at) return;
  const float d = burst_decay(s.learnt_at, n, alpha);
  for (auto& r : s.rate) r *= d;
  s.learnt_at = n;
}

struct BurstResult {
  float g = 0;                  // the statistic, nats
  std::uint8_t feature = 0xff;  // the feature it speaks for (0xff: none)
};

// G(c, μ) for c events against a mean of μ > 0.
inline float burst_glr(float c, float mu) noexcept {
  if (!(c > mu)) return 0;
  return c * log_fast(c / mu) - (c - mu);
}

// A tick's counts: failed handshakes and first internal contacts as the tick worked them out
// (they need state across ticks), the rest from the merged stats (null: the agent sent nothing).
inline BurstCounts burst_counts(const TickStats* st, std::uint32_t failed, std::uint32_t novel_peers) noexcept {
  BurstCounts c{};
  c[kBurstFailed] = failed;
  c[kBurstPeers] = novel_peers;
  if (st != nullptr) {
    c[kBurstLlm] = st->class_flows[kGroupLlm];
    c[kBurstTool] = st->class_flows[kGroupTool];
    c[kBurstDns] = st->class_flows[kGroupDns];
    c[kBurstUpload] = static_cast<std::uint32_t>(std::min<std::uint64_t>(st->payload_bytes_out / kUploadBlock, 1u << 20));
  }
  return c;
}

inline bool burst_any(const BurstCounts& c) noexcept {
  std::uint32_t any = 0;
  for (unsigned i = 0; i < kBurstChannels; ++i) any |= c[i];
  return any != 0;
}

// The statistic of this tick's counts (the rates brought to the baseline tick first).
inline BurstResult burst_test(const BurstState& s, const BurstCounts& now, const BurstConfig& cfg) noexcept {
  BurstResult out;
  for (unsigned c = 0; c < kBurstChannels; ++c) {
    const float lambda = std::max(s.rate[c], kBurstQuiet[c] ? cfg.quiet_floor : cfg.floor);
    const float c1 = static_cast<float>(now[c]);
    const float c2 = c1 + static_cast<float>(s.prev1[c]);
    const float c3 = c2 + static_cast<float>(s.prev2[c]);
    const float g = std::max({burst_glr(c1, lambda), burst_glr(c2, 2 * lambda), burst_glr(c3, 3 * lambda)});
    if (g > out.g) out.g = g, out.feature = static_cast<std::uint8_t>(kBurstFeature[c]);
  }
  return out;
}

// Per cohort: per channel, the moments of one tick's counts of its learning members, merged from
// leaves into parents; the EWMA over ticks of their mean and variance is the cold test's rate.
// Only members with counts are added (most have none in a tick): the others are merged in as
// zeros when the tick's member count is known (BurstCohortRates::update).
struct BurstCohortTick {
  std::array<Moments, kBurstChannels> counted;   // every channel holds the same members
  void add(const BurstCounts& c) noexcept {
    for (unsigned k = 0; k < kBurstChannels; ++k) counted[k].add(static_cast<double>(c[k]));
  }
  void merge(const BurstCohortTick& o) noexcept {
    for (unsigned k = 0; k < kBurstChannels; ++k) counted[k].merge(o.counted[k]);
  }
};

struct BurstCohortRates {
  std::array<double, kBurstChannels> mean{}, var{};
  std::uint32_t ticks = 0;
  BurstState cold;   // rate: mean + cold_spread·σ, as a state burst_test reads (no counts kept)
  // One tick of `members` learning members (beta: the cohort EWMA weight).
  void update(const BurstCohortTick& t, double members, double beta, float spread) noexcept {
    if (members <= 0) return;
    for (unsigned k = 0; k < kBurstChannels; ++k) {
      Moments all = t.counted[k];
      all.merge(Moments{std::max(0.0, members - all.n), 0, 0});   // the members without counts
      const double m = all.mean;
      const double v = all.variance();
      if (ticks == 0) {
        mean[k] = m, var[k] = v;
      } else {
        const double d = m - mean[k];
        mean[k] += beta * d;
        var[k] = (1 - beta) * (var[k] + beta * d * d) + beta * v;
      }
      cold.rate[k] = static_cast<float>(mean[k] + spread * std::sqrt(var[k]));
    }
    ++ticks;
  }
};

// The tick is over: this tick's counts become the previous ones.
inline void burst_shift(BurstState& s, const BurstCounts& now) noexcept {
  s.prev2 = s.prev1;
  for (unsigned c = 0; c < kBurstChannels; ++c) s.prev1[c] = static_cast<std::uint8_t>(std::min<std::uint32_t>(now[c], 255));
}

// Baseline tick n looked normal and had counts: the rates learn from them, with the weight
// max(alpha, 1/(n+1)) the baseline uses (ticks without counts are learnt lazily, burst_bring).
inline void burst_learn(BurstState& s, const BurstCounts& now, std::uint32_t n, float alpha) noexcept {
  burst_bring(s, n, alpha);
  const float w = std::max(alpha, 1.0f / static_cast<float>(n + 1));
  for (unsigned c = 0; c < kBurstChannels; ++c) s.rate[c] += w * (static_cast<float>(now[c]) - s.rate[c]);
  s.learnt_at = n + 1;
}

}  // namespace tcpr::behavior
