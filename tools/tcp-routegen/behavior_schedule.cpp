// behavior_schedule.cpp — see behavior_schedule.hpp.
#include "behavior_schedule.hpp"

#include <bit>
#include <charconv>
#include <numeric>
#include <stdexcept>

namespace tcpr::gen {
namespace {

constexpr std::uint64_t kLn2Q32 = 2'977'044'472;  // ln 2 · 2^32
constexpr std::uint64_t kJitterSalt = 0x6a09e667f3bcc909ULL;
// Thinning bounds: the drift multiplier is at most 1.2 (78643 / 65536) and the jitter 1.1.
constexpr std::uint64_t kMaxDriftQ16 = 78'643;
constexpr std::uint64_t kMaxJitter = 1'100;

// log2(x) in Q32.32 for x >= 1: the integer part from the top bit, then 32 fraction bits by
// repeated squaring of the mantissa (held in Q1.62).
std::uint64_t log2_q32(std::uint64_t x) {
  const int top = 63 - std::countl_zero(x);
  std::uint64_t result = static_cast<std::uint64_t>(top) << 32;
  std::uint64_t m = top >= 62 ? x >> (top - 62) : x << (62 - top);
  for (int bit = 31; bit >= 0; --bit) {
    m = static_cast<std::uint64_t>((static_cast<unsigned __int128>(m) * m) >> 62);
    if (m >= (std::uint64_t{1} << 63)) {
      m >>= 1;
      result |= std::uint64_t{1} << bit;
    }
  }
  return result;
}

Result<std::uint32_t> parse_count(std::string_view text, std::string_view item) {
  std::uint32_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return make_error("--anomalies: '{}' needs a count, like port_scan=2", item);
  }
  return value;
}

}  // namespace

std::string_view persona_name(Persona persona) noexcept {
  switch (persona) {
    case Persona::kLlm:
      return "llm";
    case Persona::kTools:
      return "tools";
    case Persona::kMixed:
      break;
  }
  return "mixed";
}

Result<AnomalyCounts> parse_anomalies(std::string_view spec, std::uint64_t max_total) {
  AnomalyCounts counts{};
  if (spec == "none") return counts;
  std::optional<std::uint32_t> all;
  std::array<bool, kAnomalyKinds> named{};
  while (!spec.empty()) {
    const std::size_t comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    const std::size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    auto count = parse_count(eq == std::string_view::npos ? "" : item.substr(eq + 1), item);
    if (!count.ok()) return Error{count.error()};
    if (name == "all") {
      if (all) return make_error("--anomalies: all= given twice");
      all = count.value();
      continue;
    }
    std::size_t kind = 0;
    while (kind < kAnomalyKinds && kAnomalyNames[kind] != name) ++kind;
    if (kind == kAnomalyKinds) {
      return make_error(
          "--anomalies: unknown kind '{}' (kinds: exfil_burst, port_scan, "
          "syn_flood, tool_storm, beacon, secret_leak, lateral, prompt_flood, all)",
          name);
    }
    if (named[kind]) return make_error("--anomalies: {} given twice", name);
    named[kind] = true;
    counts[kind] = count.value();
  }
  std::uint64_t total = 0;
  for (std::size_t kind = 0; kind < kAnomalyKinds; ++kind) {
    if (all && !named[kind]) counts[kind] = *all;
    total += counts[kind];
  }
  if (total > max_total) {
    return make_error("--anomalies asks for {} anomalous agents, more than --agents {}", total,
                      max_total);
  }
  return counts;
}

std::vector<AgentPlan> plan_agents(std::uint64_t seed, std::uint32_t agents,
                                   const AnomalyCounts& counts, std::uint64_t onset_us) {
  Rng rng(seed);
  std::vector<AgentPlan> plans(agents);
  for (AgentPlan& plan : plans) {
    plan.seed = rng.next_u64();
    const std::uint64_t persona = rng.below(10);  // 40 % llm, 30 % tools, 30 % mixed
    plan.persona = persona < 4 ? Persona::kLlm : persona < 7 ? Persona::kTools : Persona::kMixed;
    plan.factor_permille = static_cast<std::uint32_t>(rng.between(500, 1500));
    plan.phase = static_cast<std::uint16_t>(rng.below(65536));
  }
  // The anomalous agents: a partial Fisher–Yates shuffle, kinds handed out in kind order.
  std::vector<std::uint32_t> order(agents);
  std::iota(order.begin(), order.end(), 0U);
  std::size_t next = 0;
  for (std::size_t kind = 0; kind < kAnomalyKinds; ++kind) {
    for (std::uint32_t i = 0; i < counts[kind]; ++i, ++next) {
      std::swap(order[next], order[next + rng.below(agents - next)]);
      AgentPlan& plan = plans[order[next]];
      plan.anomaly = static_cast<AnomalyKind>(kind);
      plan.onset_us = onset_us + rng.below(500'000);
    }
  }
  return plans;
}

std::uint64_t exp_gap_us(Rng& rng, std::uint64_t rate_ppm) {
  if (rate_ppm == 0) throw std::logic_error("exp_gap_us: rate 0");
  // U = u / 2^53 in (0, 1]; -ln U = (53 - log2 u) · ln 2, in Q32.
  const std::uint64_t u = (rng.next_u64() >> 11) + 1;
  const auto e_q32 = static_cast<std::uint64_t>(
      (static_cast<unsigned __int128>((std::uint64_t{53} << 32) - log2_q32(u)) * kLn2Q32) >> 32);
  const unsigned __int128 us =
      static_cast<unsigned __int128>(e_q32) * 1'000'000'000'000ULL / rate_ppm;
  return static_cast<std::uint64_t>(us >> 32);
}

std::int64_t sine_q16(std::uint32_t phase) noexcept {
  // sin(πt) ≈ 16 t(1−t) / (5 − 4 t(1−t)) on each half turn, t = h / 2^15.
  const std::int64_t h = phase & 0x7fff;
  const std::int64_t p = h * (32768 - h);  // t(1−t) in Q30
  const std::int64_t s = (16 * p * 65536) / (5 * (std::int64_t{1} << 30) - 4 * p);
  return (phase & 0x8000) != 0 ? -s : s;
}

std::optional<std::uint64_t> ActivityClock::next(const AgentPlan& agent, std::uint64_t after_us,
                                                 Rng& rng) const {
  const std::uint64_t peak_ppm = rate_ppm_ * agent.factor_permille * 132 / 100'000;
  if (peak_ppm == 0) return std::nullopt;
  std::uint64_t t = after_us;
  for (;;) {
    t += exp_gap_us(rng, peak_ppm);
    if (t >= duration_us_) return std::nullopt;
    // Thinning: keep the candidate with probability rate(t) / peak.
    const auto turn = static_cast<std::uint32_t>((t * 65536 / duration_us_ + agent.phase) & 0xffff);
    const auto drift = static_cast<std::uint64_t>(65536 + sine_q16(turn) / 5);
    const std::uint64_t jitter = 900 + derive_seed(agent.seed ^ kJitterSalt, t / 1'000'000) % 201;
    if (rng.below(kMaxDriftQ16 * kMaxJitter) < drift * jitter) return t;
  }
}

}  // namespace tcpr::gen
