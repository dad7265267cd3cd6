#include "tcpr/route/router.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace tcpr::route {

const char* reroute_name(Reroute r) noexcept {
  switch (r) {
    case Reroute::kNone: return "none";
    case Reroute::kZone: return "zone";
    case Reroute::kContent: return "content";
    case Reroute::kPathDown: return "path_down";
    case Reroute::kPathUp: return "path_up";
    case Reroute::kTrust: return "min_trust";
  }
  return "?";
}

Router::Router(std::shared_ptr<RouteShared> shared, unsigned worker)
    : shared_(std::move(shared)), worker_(worker), table_(shared_->initial) {
  std::shared_ptr<const RouteTable> newer;
  if (shared_->publisher.poll(worker_, newer)) table_ = std::move(newer);
  up_ = table_->up();
  interval_ns_ = static_cast<std::uint64_t>(table_->config().load_interval * 1e9);
  if (interval_ns_ == 0) interval_ns_ = 100'000'000;
  events_.reserve(kEventBuffer);
}

void Router::poll() noexcept {
  std::shared_ptr<const RouteTable> newer;
  if (!shared_->publisher.poll(worker_, newer)) return;
  table_ = std::move(newer);
  set_up(table_->up() & ~scheduled_down_);
}

void Router::set_up(std::uint32_t mask) noexcept {
  if (mask == up_) return;
  up_ = mask;
  ++topo_;
}

// The schedule and the load interval, on the clock of this worker's packets. Intervals without
// packets decay the rate in closed form.
void Router::advance_slow(std::uint64_t ts) noexcept {
  const auto& schedule = shared_->events;
  std::uint32_t down = scheduled_down_;
  for (; next_event_ < schedule.size() && schedule[next_event_].ts_ns <= ts; ++next_event_) {
    const std::uint32_t bit = 1u << schedule[next_event_].path;
    down = schedule[next_event_].up ? down & ~bit : down | bit;
  }
  scheduled_down_ = down;
  set_up(table_->up() & ~scheduled_down_);
  if (next_load_ns_ == 0) next_load_ns_ = ts + interval_ns_;
  if (ts >= next_load_ns_) {
    const std::uint64_t periods = 1 + (ts - next_load_ns_) / interval_ns_;
    const float alpha = static_cast<float>(table_->config().load_alpha);
    const float per_s = 1e9f / static_cast<float>(interval_ns_);
    const float idle = periods > 1 ? std::pow(1 - alpha, static_cast<float>(periods - 1)) : 1.0f;
    const auto& paths = table_->paths();
    for (std::size_t p = 0; p < paths.size(); ++p) {
      const float rate = static_cast<float>(bytes_[p]) * per_s;
      rate_[p] = (alpha * rate + (1 - alpha) * rate_[p]) * idle;
      bytes_[p] = 0;
      shared_->board.store(worker_, static_cast<unsigned>(p), rate_[p]);
    }
    for (std::size_t p = 0; p < paths.size(); ++p) {
      const float cap = paths[p].capacity_bytes_s;
      load_[p] = cap > 0 ? std::min(1.0f, shared_->board.total(static_cast<unsigned>(p)) / cap) : 1.0f;
    }
    next_load_ns_ += periods * interval_ns_;
  }
  next_due_ = next_load_ns_;
  if (next_event_ < schedule.size()) next_due_ = std::min(next_due_, schedule[next_event_].ts_ns);
}

ClassView Router::make_view(const void* key, const std::vector<std::string>& classes,
                            const std::vector<std::string>& tags) const {
  const RoutingConfig& cfg = table_->config();
  const auto& paths = table_->paths();
  auto caps_of = [&](const std::vector<std::string>& names) {
    std::uint32_t m = 0;
    for (const auto& n : names) m |= table_->capability_bit(n);
    return m;
  };
  ClassView v;
  v.key = key;
  for (const auto& name : classes) {
    std::array<float, kMaxPaths> row{};
    for (std::size_t p = 0; p < paths.size(); ++p) {
      const auto& globs = paths[p].classes;
      row[p] = globs.empty() ? 0.5f
               : std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return glob_match(g, name); })
                   ? 1.0f
                   : 0.0f;
    }
    v.affinity.push_back(row);
    std::uint32_t needs = 0;
    for (const auto& n : cfg.needs)
      if (n.match.rfind("tag:", 0) != 0 && glob_match(n.match, name)) needs |= caps_of(n.capabilities);
    v.class_needs.push_back(needs);
    Strategy s = cfg.strategy;
    for (const auto& cs : cfg.class_strategy)
      if (glob_match(cs.class_glob, name)) {
        s = cs.strategy;
        break;
      }
    v.class_strategy.push_back(s);
  }
  for (std::size_t t = 0; t < tags.size() && t < v.tag_needs.size(); ++t)
    for (const auto& n : cfg.needs)
      if (n.match.rfind("tag:", 0) == 0 && n.match.substr(4) == tags[t]) v.tag_needs[t] |= caps_of(n.capabilities);
  return v;
}

std::uint32_t Router::needs_of(const FlowFacts& f, const ClassView& v) const noexcept {
  std::uint32_t n = f.class_id < v.class_needs.size() ? v.class_needs[f.class_id] : 0;
  for (std::uint32_t t = f.tags; t != 0; t &= t - 1) n |= v.tag_needs[static_cast<unsigned>(std::countr_zero(t))];
  return n;
}

std::uint32_t Router::scores(const FlowFacts& f, const ClassView& v, float* out) const noexcept {
  const RoutingConfig& cfg = table_->config();
  const auto& paths = table_->paths();
  const std::uint32_t needs = needs_of(f, v);
  const int n_needs = std::popcount(needs);
  const float penalty = std::max(0.0f, 1.0f - f.anomaly * static_cast<float>(cfg.behavioral_sensitivity));
  const float wa = static_cast<float>(cfg.w_affinity), wt = static_cast<float>(cfg.w_trust);
  const float wl = static_cast<float>(cfg.w_load), wc = static_cast<float>(cfg.w_capability);
  const float min_score = static_cast<float>(cfg.min_score);
  const float* aff = f.class_id < v.affinity.size() ? v.affinity[f.class_id].data() : nullptr;
  const std::uint32_t candidates = table_->ordinary() & up_;
  std::uint32_t eligible = 0;
  for (std::size_t p = 0; p < paths.size(); ++p) {
    out[p] = -1.0f;
    if (((candidates >> p) & 1u) == 0) continue;
    const Path& path = paths[p];
    if (f.trust < path.min_trust) continue;
    const std::uint32_t have = path.caps & needs;
    if (cfg.needs_hard && have != needs) continue;
    if (path.exclusive && have == 0) continue;
    const float cap = n_needs == 0 ? 1.0f : static_cast<float>(std::popcount(have)) / static_cast<float>(n_needs);
    const float fit = 1.0f - (f.trust - path.min_trust);
    const float s = (wa * (aff != nullptr ? aff[p] : 0.0f) + wt * fit + wl * (1.0f - load_[p]) + wc * cap) * penalty;
    if (s < min_score) continue;
    out[p] = s;
    eligible |= 1u << p;
  }
  return eligible;
}

namespace {

// The eligible path with the best key (larger first), ties to the better score, then the lower index.
template <typename Key>
std::uint16_t best_by(std::uint32_t eligible, const float* score, Key key) noexcept {
  std::uint16_t best = kNoPath;
  for (std::uint32_t m = eligible; m != 0; m &= m - 1) {
    const auto p = static_cast<std::uint16_t>(std::countr_zero(m));
    if (best == kNoPath) {
      best = p;
      continue;
    }
    const auto kp = key(p), kb = key(best);
    if (kp > kb || (kp == kb && score[p] > score[best])) best = p;
  }
  return best;
}

}  // namespace

flow::RoutePin Router::decide(const FlowFacts& f, const ClassView& v) noexcept {
  ++counters_.decisions;
  flow::RoutePin pin;
  pin.epoch = topo_;
  pin.tags = f.tags;
  pin.class_id = f.class_id;
  pin.zone = f.zone;
  const RoutingConfig& cfg = table_->config();
  if (f.zone == TCPR_ZONE_QUARANTINED) {
    if (const std::uint16_t q = table_->quarantine_path(); q != kNoPath && up(q)) {
      pin.path = q;
      return pin;
    }
  }
  float sc[kMaxPaths];
  const std::uint32_t eligible = scores(f, v, sc);
  if (eligible == 0) return pin;
  Strategy s = f.class_id < v.class_strategy.size() ? v.class_strategy[f.class_id] : cfg.strategy;
  bool mirror = false;
  if (f.zone < cfg.zone_strategy.size()) {
    const Strategy z = cfg.zone_strategy[f.zone];
    if (z == Strategy::kRedundant) mirror = true;
    else if (z != Strategy::kCount) s = z;
  }
  if (s == Strategy::kRedundant) mirror = true, s = Strategy::kSemantic;
  const auto& paths = table_->paths();
  // The strategies that ignore the score choose among the paths made for the class: those of
  // the best affinity (else least_loaded would send a model call down the DNS path).
  std::uint32_t tier = eligible;
  if (s == Strategy::kLeastLoaded || s == Strategy::kLowestLatency || s == Strategy::kConsistentHash) {
    const float* aff = f.class_id < v.affinity.size() ? v.affinity[f.class_id].data() : nullptr;
    if (aff != nullptr) {
      float top = -1;
      for (std::uint32_t m = eligible; m != 0; m &= m - 1) top = std::max(top, aff[std::countr_zero(m)]);
      tier = 0;
      for (std::uint32_t m = eligible; m != 0; m &= m - 1)
        if (aff[std::countr_zero(m)] == top) tier |= 1u << std::countr_zero(m);
    }
  }
  std::uint16_t best = kNoPath;
  switch (s) {
    case Strategy::kTrustWeighted: {
      // score^k, k = 1 + round(4·trust): the more trusted the agent, the surer the best path.
      const int k = 1 + static_cast<int>(std::lround(std::clamp(f.trust, 0.0f, 1.0f) * 4));
      float w[kMaxPaths], total = 0;
      for (std::uint32_t m = eligible; m != 0; m &= m - 1) {
        const auto p = static_cast<unsigned>(std::countr_zero(m));
        float x = sc[p];
        for (int i = 1; i < k; ++i) x *= sc[p];
        w[p] = x;
        total += x;
      }
      if (total > 0) {
        float u = static_cast<float>(static_cast<double>(f.hash >> 11) * 0x1.0p-53) * total;
        for (std::uint32_t m = eligible; m != 0; m &= m - 1) {
          const auto p = static_cast<std::uint16_t>(std::countr_zero(m));
          best = p;
          if (u < w[p]) break;
          u -= w[p];
        }
        break;
      }
      best = best_by(eligible, sc, [&](std::uint16_t p) { return sc[p]; });
      break;
    }
    case Strategy::kLeastLoaded:
      best = best_by(tier, sc, [&](std::uint16_t p) { return -load_[p]; });
      break;
    case Strategy::kLowestLatency:
      best = best_by(tier, sc, [&](std::uint16_t p) { return -paths[p].latency_us; });
      break;
    case Strategy::kConsistentHash:
      best = best_by(tier, sc, [&](std::uint16_t p) { return XXH3_64bits_withSeed(&f.hash, sizeof f.hash, paths[p].seed); });
      break;
    default:
      best = best_by(eligible, sc, [&](std::uint16_t p) { return sc[p]; });
      break;
  }
  pin.path = best;
  if (mirror) {
    const std::uint16_t m = table_->monitor_path();
    if (m != kNoPath && up(m)) {
      pin.mirror = m;
    } else if (const std::uint32_t rest = eligible & ~(1u << best); rest != 0) {
      pin.mirror = best_by(rest, sc, [&](std::uint16_t p) { return sc[p]; });
    }
  }
  return pin;
}

Reroute Router::check(flow::RoutePin& pin, const FlowFacts& f) const noexcept {
  if (pin.zone != f.zone) return Reroute::kZone;
  if (pin.class_id != f.class_id || pin.tags != f.tags) return Reroute::kContent;
  if (pin.epoch != topo_) {
    if (pin.path == kNoPath) return Reroute::kPathUp;
    if (!up(pin.path) || (pin.mirror != kNoPath && !up(pin.mirror))) return Reroute::kPathDown;
    pin.epoch = topo_;
  }
  if (pin.path != kNoPath && f.trust < table_->paths()[pin.path].min_trust) return Reroute::kTrust;
  return Reroute::kNone;
}

void Router::unroute(flow::RoutePin& pin, std::uint8_t zone, const RouteEvent& where) noexcept {
  if (pin.zone == 0xff || pin.path == kNoPath) return;   // never routed, or already nowhere
  note_move({where.ts_ns, where.key, where.client, pin.path, kNoPath, Reroute::kZone});
  pin.path = pin.mirror = kNoPath;
  pin.zone = zone;
}

void Router::note_move(const RouteEvent& e) noexcept {
  ++counters_.moves;
  if (events_.size() < kEventBuffer) events_.push_back(e);
  else ++counters_.events_lost;
}

}  // namespace tcpr::route
