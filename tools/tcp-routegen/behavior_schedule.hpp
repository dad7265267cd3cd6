// behavior_schedule.hpp — who does what, and when, in behaviour mode (--behavior).
//
// Every agent gets a plan from the seed: a persona (llm, tools, mixed), its own activity factor
// (0.5–1.5 × --rate), a drift phase, and — for the agents drawn as anomalous — an anomaly kind and
// an onset (--onset plus a uniform offset in [0, 0.5) s). An agent's normal activities start at
// the arrivals of a Poisson process of rate
//     rate(t) = R · factor · (1 + 0.2 · sin(2π t / D + phase)) · jitter(⌊t⌋)
// (jitter: a per-agent, per-second factor in [0.9, 1.1]), drawn by thinning.
//
// As everywhere in tcp-routegen (rng.hpp), no floating point decides a packet: the exponential
// gaps, the sine and the thinning use fixed-point integer arithmetic, so a seed gives the same
// capture with any compiler and libm.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"
#include "rng.hpp"

namespace tcpr::gen {

enum class Persona : std::uint8_t { kLlm, kTools, kMixed };
std::string_view persona_name(Persona persona) noexcept;

enum class AnomalyKind : std::uint8_t {
  kExfilBurst,
  kPortScan,
  kSynFlood,
  kToolStorm,
  kBeacon,
  kSecretLeak,
  kLateral,
  kPromptFlood,
};
inline constexpr std::size_t kAnomalyKinds = 8;
inline constexpr std::array<std::string_view, kAnomalyKinds> kAnomalyNames = {
    "exfil_burst", "port_scan",   "syn_flood", "tool_storm",
    "beacon",      "secret_leak", "lateral",   "prompt_flood"};

using AnomalyCounts = std::array<std::uint32_t, kAnomalyKinds>;

// "kind=count,..." and/or "all=K" (K of every kind; a kind named too takes its own count), or
// "none". Counts are at most `max_total` in all.
Result<AnomalyCounts> parse_anomalies(std::string_view spec, std::uint64_t max_total);

struct AgentPlan {
  std::uint64_t seed = 0;             // the agent's own random streams derive from it
  std::uint64_t onset_us = 0;         // anomalous agents: the first anomalous packet
  std::uint32_t factor_permille = 0;  // its activity factor, 500–1500
  std::uint16_t phase = 0;            // drift phase, in 1/65536 of a turn
  Persona persona = Persona::kMixed;
  std::optional<AnomalyKind> anomaly;
};

// Plans `agents` agents: personas and factors for all, then `counts` of each anomaly kind on
// agents drawn without repetition.
std::vector<AgentPlan> plan_agents(std::uint64_t seed, std::uint32_t agents,
                                   const AnomalyCounts& counts, std::uint64_t onset_us);

// Fixed-point helpers.
// An exponential gap with mean 1e6 / (rate_ppm / 1e6) µs; rate_ppm: events per 10^6 seconds.
std::uint64_t exp_gap_us(Rng& rng, std::uint64_t rate_ppm);
// sin(2π · phase / 65536) in Q16 (Bhaskara I's approximation: within 0.2 % of a full swing).
std::int64_t sine_q16(std::uint32_t phase) noexcept;

// The normal activities of one agent over [0, duration).
class ActivityClock {
 public:
  ActivityClock(std::uint64_t rate_ppm, std::uint64_t duration_us)
      : rate_ppm_(rate_ppm), duration_us_(duration_us) {}

  // The first arrival after `after_us`, or nothing before the end of the capture.
  std::optional<std::uint64_t> next(const AgentPlan& agent, std::uint64_t after_us, Rng& rng) const;

 private:
  std::uint64_t rate_ppm_;
  std::uint64_t duration_us_;
};

}  // namespace tcpr::gen
