#include "tcpr/behavior/behavior.hpp"
#include "agent_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <cmath>
#include <thread>

namespace tcpr::behavior {

namespace {
constexpr std::uint32_t kRecentTicks = 10;   // an agent idle longer than this is not scored
constexpr std::uint32_t kModelTicks = 20;    // ticks a cohort model is fed before use
constexpr std::uint64_t kPeerWindow = 50;    // ticks per internal-peer window
constexpr float kPriorTicks = 100;           // weight of the cohort's variance in an agent's own
// Own baseline regularity from which periods are the agent's habit (a poller), not news. Lower, a
// beacon's rising regularity, learnt while its score is below monitor_above, would close the gate.
constexpr float kHabitualRegularity = 0.5f;
// kLogScaled as 1/0 factors.
constexpr std::array<float, kFeatures> kLogBlend = [] {
  std::array<float, kFeatures> m{};
  for (unsigned f = 0; f < kFeatures; ++f) m[f] = kLogScaled[f] ? 1.0f : 0.0f;
  return m;
}();

// The burst statistic of an agent with counts in this tick or the two before, against its own
// rates (warm) or, until they are learnt, its cohort's (cohort_rates, with the agent's own last
// two ticks of counts); then the counts join its history. Out of line: most agents have no
// counts in most ticks, and the tick's loop is smaller without this code in it.
[[gnu::noinline]] BurstResult burst_step(BurstState& own, const BurstCounts& counts, std::uint32_t baseline_n,
                                         bool own_rates, const BurstState* cohort_rates,
                                         const BehaviorConfig& cfg) noexcept {
  BurstResult out;
  if (own_rates) {
    burst_bring(own, baseline_n, cfg.alpha_slow);
    out = burst_test(own, counts, cfg.burst);
  } else if (cohort_rates != nullptr) {
    BurstState against = *cohort_rates;
    against.prev1 = own.prev1;
    against.prev2 = own.prev2;
    out = burst_test(against, counts, cfg.burst);
  }
  burst_shift(own, counts);
  return out;
}
}  // namespace

std::uint64_t Behavior::last_active_of(std::uint32_t i) const noexcept { return agents_[i].last_active; }


Behavior::Behavior(const BehaviorConfig& cfg, unsigned workers, std::vector<bool> agent_port)
    : cfg_(cfg), scorer_(cfg.scorer) {
  tick_ns_ = static_cast<std::uint64_t>(cfg_.tick_seconds * 1e9);
  per_s_ = static_cast<float>(1.0 / cfg_.tick_seconds);
  idle_ticks_ = static_cast<std::uint64_t>(cfg_.idle_timeout / cfg_.tick_seconds);
  publisher_ = std::make_shared<SnapshotPublisher<ZoneSnapshot>>(std::make_shared<const ZoneSnapshot>(), workers);
  TrackerConfig tc;
  tc.key_mode = cfg_.key_mode;
  tc.agents = cfg_.agents;
  tc.agent_port = std::move(agent_port);
  tc.internal = cfg_.internal.empty() ? cfg_.agents : cfg_.internal;
  tc.tick_capacity = std::min(cfg_.tick_agents, cfg_.max_agents);
  for (unsigned w = 0; w < workers; ++w) trackers_.push_back(std::make_unique<AgentTracker>(tc, w, publisher_));
  cohorts_.emplace_back("all");
  cohort_ids_["all"] = 0;
  for (const auto& [key, zone] : cfg_.pins) pin(key, zone, 0);   // in effect from the first tick
}

Behavior::~Behavior() = default;

// The configured group an agent belongs to (the last that holds its address), or null; MAC-keyed
// agents have no address and belong to none.
const CohortGroup* Behavior::group_of(const AgentKey& k) const noexcept {
  if (static_cast<KeyMode>(k.mode) == KeyMode::kMac) return nullptr;
  packet::IpAddr ip;
  std::memcpy(ip.b, k.addr, 16);
  const CohortGroup* found = nullptr;
  for (const auto& g : cfg_.cohorts)
    if (g.prefixes.contains(ip)) found = &g;
  return found;
}

// Level 0: the configured group or the /cohort_prefix subnet; 1: the /parent_prefix subnet
// (none for a group); 2: the appliance. MAC-keyed agents have only the appliance.
std::uint32_t Behavior::cohort_of(const AgentKey& k, unsigned level) {
  if (level == 2 || static_cast<KeyMode>(k.mode) == KeyMode::kMac) return 0;
  const CohortGroup* group = group_of(k);
  if (group != nullptr && level == 1) return 0;
  std::string name;
  if (group != nullptr) {
    name = group->name;
  } else {
    packet::IpAddr ip;
    std::memcpy(ip.b, k.addr, 16);
    const bool v4 = ip.is_v4();
    const unsigned bits = level == 0 ? (v4 ? cfg_.cohort_prefix_v4 : cfg_.cohort_prefix_v6)
                                     : (v4 ? cfg_.parent_prefix_v4 : cfg_.parent_prefix_v6);
    name = to_string(prefix_of(ip, v4 ? bits + 96 : bits));
  }
  auto [it, inserted] = cohort_ids_.try_emplace(name, static_cast<std::uint32_t>(cohorts_.size()));
  if (inserted) cohorts_.emplace_back(name);
  return it->second;
}

std::uint32_t Behavior::agent_index(const AgentKey& k, std::uint64_t now_tick) {
  const std::uint64_t h = hash(k);
  if (const auto i = index_.find(k, h); i != AgentIndex::kNone) return i;
  if (agents_.size() >= cfg_.max_agents) make_room();
  if (agents_.size() >= cfg_.max_agents) {
    ++counters_.agents_refused;
    return kNoCohort;
  }
  Agent a;
  a.trust = cfg_.trust_initial;
  a.last_active = now_tick;
  // Parents first, so a child's index is always above its parent's (refit merges upwards).
  a.path[2] = 0;
  a.path[1] = cohort_of(k, 1);
  a.path[0] = cohort_of(k, 0);
  if (cohorts_[a.path[0]].parent == kNoCohort && a.path[0] != 0) cohorts_[a.path[0]].parent = a.path[1];
  if (a.path[1] != 0 && cohorts_[a.path[1]].parent == kNoCohort) cohorts_[a.path[1]].parent = 0;
  const auto idx = static_cast<std::uint32_t>(agents_.size());
  agents_.push_back(a);
  cold_.emplace_back();
  cold_.back().key = k;
  cold_.back().hash = h;
  stats_of_.push_back(nullptr);
  index_.insert(k, h, idx, agents_.size());
  ++counters_.agents_created;
  return idx;
}

// Agents point at their stats in the workers' tables (read in place: the tables are cleared only
// after the tick); an agent seen by several workers gets a merged copy. New agents are created
// after every worker's table has been read, in key order, so agent order (and every
// floating-point sum over agents) does not depend on how agents were spread over workers.
// The index slot of a lookup a few slots ahead is prefetched: at 100 000 agents every lookup
// is a cache miss, and they are independent.
void Behavior::harvest(AgentTracker::Table& t, unsigned worker) {
  constexpr std::uint32_t kAhead = 16;
  for (std::uint32_t s = 0; s < t.used; ++s) {
    if (s + kAhead < t.used) index_.prefetch(t.slots[s + kAhead].hash);
    take(t.slots[s].stats, t.slots[s].hash);
  }
  // Hard signals of agents that found no slot: a tick's stats holding only the signal.
  for (std::uint32_t h = 0; h < t.n_hard; ++h) {
    TickStats& sig = merged_.emplace_back();
    sig.key = t.hard[h].key;
    sig.risk_hits = 1;
    sig.first_risk_ns = t.hard[h].ts_ns;
    sig.first_risk_worker = worker;
    take(sig, hash(sig.key));
  }
}

// One worker's stats of one agent: the agent's first this tick are read in place, a later
// worker's are merged into a copy; stats of agents not yet known wait for create_fresh().
void Behavior::take(const TickStats& in, std::uint64_t h) {
  const auto i = index_.find(in.key, h);
  if (i == AgentIndex::kNone) {
    fresh_.push_back(&in);
  } else if (stats_of_[i] == nullptr) {
    stats_of_[i] = &in;
  } else {
    merged_.push_back(*stats_of_[i]);
    merged_.back().merge(in);
    stats_of_[i] = &merged_.back();
  }
}

void Behavior::create_fresh() {
  std::sort(fresh_.begin(), fresh_.end(), [](const TickStats* x, const TickStats* y) { return x->key < y->key; });
  for (std::size_t i = 0; i < fresh_.size();) {
    const TickStats* st = fresh_[i];
    std::size_t j = i + 1;
    if (j < fresh_.size() && fresh_[j]->key == st->key) {
      merged_.push_back(*st);
      for (; j < fresh_.size() && fresh_[j]->key == st->key; ++j) merged_.back().merge(*fresh_[j]);
      st = &merged_.back();
    }
    const std::uint32_t idx = agent_index(fresh_[i]->key, tick_no_);
    i = j;
    if (idx == kNoCohort) continue;
    stats_of_[idx] = st;
  }
  fresh_.clear();
}

void Behavior::tick_quiescent() {
  for (auto& t : trackers_) t->swap_quiescent();
  harvest_ok_.assign(trackers_.size(), 1);
  run_tick(next_end_);
  next_end_ += tick_ns_;
  if (zones_changed_) {
    zones_changed_ = false;
    for (auto& t : trackers_) t->adopt(pending_);
  }
}

void Behavior::tick_live(std::uint64_t now_ns) {
  const std::uint64_t epoch = ++swap_epoch_;
  for (auto& t : trackers_) t->request_swap(epoch);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  harvest_ok_.assign(trackers_.size(), 0);
  for (std::size_t w = 0; w < trackers_.size(); ++w) {
    while (!trackers_[w]->swapped(epoch) && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    // A worker that has not acknowledged may be swapping right now: its tables are left alone
    // this tick (what it counted is merged at a later tick, not lost).
    harvest_ok_[w] = trackers_[w]->swapped(epoch) ? 1 : 0;
  }
  run_tick(now_ns);
  next_end_ = now_ns + tick_ns_;   // what operator actions between ticks are stamped with
  if (zones_changed_ && publisher_->publish(pending_)) zones_changed_ = false;
}

void Behavior::run_tick(std::uint64_t end_ns) {
  const auto t0 = std::chrono::steady_clock::now();
  ++tick_no_;
  ++counters_.ticks;
  // 1. Workers → appliance. The harvested tables are the ones workers are not filling.
  for (std::size_t w = 0; w < trackers_.size(); ++w)
    if (harvest_ok_[w]) harvest(trackers_[w]->harvest(), static_cast<unsigned>(w));
  create_fresh();
  // 2. Every agent: features, score, trust, zone; cohort statistics for the next tick.
  for (auto& c : cohorts_) {
    c.tick.reset(c.mean);
    c.burst_tick = {};
  }
  for (std::uint32_t i = 0; i < agents_.size(); ++i) update_agent(i, end_ns);
  // 3. Cohorts: leaves merge into parents (children have higher indices), then refit.
  refit_cohorts();
  for (std::size_t w = 0; w < trackers_.size(); ++w)
    if (harvest_ok_[w]) trackers_[w]->clear(trackers_[w]->harvest());
  merged_.clear();
  evict_idle();
  if (zones_changed_) publish();
  tick_ms_.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
}

void Behavior::update_agent(std::uint32_t i, std::uint64_t end_ns) {
  Agent& a = agents_[i];
  AgentCold& cold = cold_[i];
  const TickStats* st = stats_of_[i];
  stats_of_[i] = nullptr;
  if (st != nullptr) {
    a.last_active = tick_no_;
    if (st->new_flows != 0) a.opened = true;
  }
  FeatureVec raw{};
  float lattice = 0;   // the beacon lattice evidence of this tick's connections
  // Failed handshakes: SYNs still unanswered a tick after they were sent (a SYN late in a tick
  // is answered in the next one), plus RSTs received.
  const std::uint32_t syn = st != nullptr ? st->syn_out : 0, synack = st != nullptr ? st->synack_in : 0;
  const std::uint32_t answered_late = synack > syn ? synack - syn : 0;
  const std::uint32_t failed = (a.syn_carry > answered_late ? a.syn_carry - answered_late : 0) +
                               (st != nullptr ? st->rst_in : 0);
  a.syn_carry = syn > synack ? syn - synack : 0;
  if (st != nullptr) {
    raw_features(*st, cfg_.tick_seconds, raw);
    const unsigned held = std::min<std::uint32_t>(st->n_conns, kConnSamples);
    for (unsigned c = 0; c < held; ++c) cold.beacon.observe(st->conns[c]);
    if (held != 0) a.regularity = cold.beacon.regularity(), lattice = cold.beacon.take_evidence();
  }
  raw[kFailedHandshakes] = static_cast<float>(failed) * per_s_;
  raw[kBeaconRegularity] = a.regularity;
  // First contacts with internal hosts over a window of kPeerWindow..2·kPeerWindow ticks:
  // lateral movement visits new hosts in turn, one or two a tick, which a per-tick count misses.
  std::uint32_t novel = 0;
  if (st != nullptr) {
    const unsigned held = std::min<std::uint32_t>(st->n_conns, kConnSamples);
    for (unsigned c = 0; c < held; ++c)
      if (st->conns[c].internal != 0 && cold.peers.novel(st->conns[c].host)) ++novel;
    a.novel_cur += novel;
  }
  if (tick_no_ % kPeerWindow == 0) {
    a.novel_prev = a.novel_cur;
    a.novel_cur = 0;
  }
  raw[kInternalPeers] = static_cast<float>(a.novel_prev + a.novel_cur);
  // Scored: the medium-horizon EWMA (≈ 1 s) of each feature, log-scaled where marked. A sparse
  // agent's per-tick values are a spike per call and zeros between; their spread would hide
  // "much more of the same" (an upload ten times a request), while the 1 s average does not.
  // Plain loops over the sixteen features: the compiler vectorises them, log1p_fast included
  // (Eigen's log is exact to an ulp and three times the cost).
  for (unsigned f = 0; f < kFeatures; ++f) a.xm[f] += cfg_.alpha_medium * (raw[f] - a.xm[f]);
  Vec x;
  // A select without a branch (a branch stops the vectoriser). Log-scaled features are averages
  // of non-negative rates; the one that may be negative (the ratio) is not log-scaled, and
  // log1p_fast is finite for any finite input, so its factor 0 removes it.
  for (unsigned f = 0; f < kFeatures; ++f) x[f] = a.xm[f] + kLogBlend[f] * (log1p_fast(a.xm[f]) - a.xm[f]);
  // The ratio over the medium horizon (replacing its average above): within one tick a request
  // goes out before its answer comes back, so a per-tick ratio swings with every call.
  const float ratio = log_fast((a.xm[kBytesOut] + 1.0f) / (a.xm[kBytesIn] + 1.0f));
  a.xm[kUpDownRatio] = ratio;
  x[kUpDownRatio] = ratio;
  a.xf += cfg_.alpha_fast * (x - a.xf);
  ++a.ticks;

  const std::uint32_t leaf = a.path[0], mid = a.path[1];
  std::uint32_t compared = 0;   // the cohort the agent is compared with
  if (cohorts_[leaf].model.ready && cohorts_[leaf].model.members >= cfg_.min_cohort) compared = leaf;
  else if (cohorts_[mid].model.ready && cohorts_[mid].model.members >= cfg_.min_cohort) compared = mid;
  const CohortModel* model = &cohorts_[compared].model;

  // The own variance is shrunk towards the cohort's with the weight of kPriorTicks ticks: a
  // young baseline has seen too few of the agent's bursts to know its spread.
  const bool recent = tick_no_ - a.last_active <= kRecentTicks;
  const float n = static_cast<float>(a.baseline_n);
  Score s = recent && model->ready && model->ticks >= kModelTicks
                ? scorer_.score(a.xf, a.mean, (n * a.var + kPriorTicks * model->var) * (1.0f / (n + kPriorTicks)),
                                a.baseline_n >= cfg_.warmup_ticks, *model, false)
                : Score{};
  const bool hard = st != nullptr && st->risk_hits != 0;
  // The count burst test (burst.hpp): against the agent's own rates once they are learnt, until
  // then against its cohort's (the cold test).
  const BurstCounts counts = burst_counts(st, failed, novel);
  const bool counted = burst_any(counts);
  const bool sharp_tests = cfg_.burst.enabled && recent && a.baseline_n >= cfg_.warmup_ticks;
  BurstResult burst;
  if (counted || a.burst_recent) [[unlikely]] {
    const bool cold_test = !sharp_tests && cfg_.burst.enabled && recent && cfg_.burst.cold_spread > 0 &&
                           cohorts_[compared].burst.ticks >= kModelTicks;
    burst = burst_step(cold.burst, counts, a.baseline_n, sharp_tests, cold_test ? &cohorts_[compared].burst.cold : nullptr,
                       cfg_);
    a.burst_recent = !cold.burst.quiet();
  }
  // A new fixed period in its connections (BeaconTracker's lattice evidence), unless habitual.
  if (sharp_tests && lattice > burst.g && a.mean[kBeaconRegularity] < kHabitualRegularity)
    burst = {lattice, static_cast<std::uint8_t>(kBeaconRegularity)};
  const float burst_score = burst.g > 0 ? 1.0f - std::exp(-burst.g / cfg_.burst.scale) : 0.0f;
  if (hard) {
    s.value = 1.0f, s.top = {static_cast<std::uint8_t>(kRiskTags), 0xff, 0xff};
  } else if (burst_score > s.value && burst_score > cfg_.monitor_above) {
    // Only a burst that matters: a single call of a rare class (G ≈ 2) must not hold back trust.
    s.value = burst_score;
    s.top = {burst.feature, 0xff, 0xff};
  } else if (s.value > 0 && (s.value >= a.max_score || s.value > std::min(cfg_.monitor_above, cfg_.quarantine_above))) {
    // The "why" is needed for a new maximum and for a transition on the score.
    Scorer::rank(s);
  }
  a.score = s.value;
  if (s.value >= a.max_score && s.value > 0) a.max_score = s.value, cold.why = s.top;

  // Trust: earned slowly, lost fast.
  if (hard) a.trust = 0;
  else if (s.value < cfg_.restore_below) a.trust += cfg_.trust_gain * (1 - a.trust);
  else if (s.value > cfg_.monitor_above) a.trust -= cfg_.trust_loss * a.trust;

  step_zone(i, s, st, end_ns);
  // Routing reads trust and anomaly in steps: a new step is a new zone table.
  if (const std::uint8_t tq = Standing::trust_step(a.trust), aq = Standing::anomaly_step(a.score);
      tq != a.trust_q || aq != a.anomaly_q) {
    a.trust_q = tq, a.anomaly_q = aq;
    zones_changed_ = true;
  }

  // Baselines learn only from behaviour that looks normal.
  if (!hard && s.value < cfg_.monitor_above && a.zone <= TCPR_ZONE_MONITORED) {
    const float alpha = std::max(cfg_.alpha_slow, 1.0f / static_cast<float>(a.baseline_n + 1));
    const Vec d = a.xf - a.mean;
    a.mean += alpha * d;
    a.var = (1 - alpha) * (a.var + alpha * d.cwiseProduct(d));
    if (counted) burst_learn(cold.burst, counts, a.baseline_n, cfg_.alpha_slow);
    ++a.baseline_n;
    // A host that has only ever answered (a server on the agent side, a lateral movement's
    // target) is silence to the cohort's model; counted in, it makes any agent's ordinary
    // calls look rare (README: cohorts).
    if (a.opened) {
      cohorts_[leaf].tick.add(a.xf);
      if (counted) cohorts_[leaf].burst_tick.add(counts);
    }
  }
  if (tick_no_ - a.last_active > idle_ticks_ && a.zone <= TCPR_ZONE_MONITORED && a.pin == kNoPin) idle_.push_back(i);
}

void Behavior::transition(std::uint32_t i, Zone to, std::uint64_t ts_ns, std::string reason) {
  Agent& a = agents_[i];
  AgentCold& cold = cold_[i];
  if (a.zone == to) return;
  events_.push_back({ts_ns, cold.key, a.zone, to, a.score, std::move(reason)});
  if (to >= TCPR_ZONE_QUARANTINED && cold.first_anomalous_ns == 0) cold.first_anomalous_ns = ts_ns;
  // high_run survives an escalation (TRUSTED → MONITORED on the way to QUARANTINED).
  if (to < a.zone) a.high_run = 0;
  a.zone = to;
  a.dwell = 0;
  if (to < TCPR_ZONE_QUARANTINED) a.violations = 0;
  zones_changed_ = true;
  ++counters_.zone_changes;
}

void Behavior::step_zone(std::uint32_t i, const Score& s, const TickStats* st, std::uint64_t end_ns) {
  Agent& a = agents_[i];
  ++a.dwell;
  a.low_run = s.value < cfg_.restore_below ? a.low_run + 1 : 0;
  const bool hard = st != nullptr && st->risk_hits != 0;
  if (a.pin != kNoPin && cold_[i].pin_until != 0 && tick_no_ >= cold_[i].pin_until) a.pin = kNoPin;
  if (hard) {
    // The worker gated the agent when it saw the signal; validate that local decision here.
    const std::uint64_t ts = st->first_risk_ns;
    if (a.pin != kNoPin && a.pin < TCPR_ZONE_QUARANTINED) {
      ++counters_.local_reverted;
      const AgentKey& key = cold_[i].key;
      events_.push_back({ts, key, a.zone, TCPR_ZONE_QUARANTINED, 1.0f, "hard signal: risk tag (local decision)"});
      events_.push_back({end_ns, key, TCPR_ZONE_QUARANTINED, a.pin, 1.0f, "local decision reverted: operator pin"});
      // The agent ends in the pinned zone (both events are written; no third one).
      if (a.zone != a.pin) {
        a.zone = a.pin;
        a.dwell = 0;
        ++counters_.zone_changes;
      }
      zones_changed_ = true;
      return;
    }
    ++counters_.local_confirmed;
    zones_changed_ = true;   // the worker's local gate ends with the next snapshot
    if (a.zone < TCPR_ZONE_QUARANTINED) {
      transition(i, TCPR_ZONE_QUARANTINED, ts, "hard signal: risk tag (local decision, confirmed)");
      return;
    }
    ++a.violations;
  }
  if (a.pin != kNoPin) {
    transition(i, a.pin, end_ns, "operator pin");
    return;
  }
  if (s.value > cfg_.quarantine_above) {
    ++a.high_run;
    if (a.zone < TCPR_ZONE_QUARANTINED && a.high_run >= cfg_.quarantine_ticks) {
      transition(i, TCPR_ZONE_QUARANTINED, end_ns, fmt::format("score {:.3f} > {} for {} ticks; {}", s.value,
                                                             cfg_.quarantine_above, cfg_.quarantine_ticks, describe(s)));
      return;
    }
    if (a.zone == TCPR_ZONE_QUARANTINED && !hard) ++a.violations;
  } else {
    a.high_run = 0;
  }
  if (a.zone == TCPR_ZONE_QUARANTINED && a.violations >= cfg_.isolate_violations) {
    transition(i, TCPR_ZONE_ISOLATED, end_ns, fmt::format("{} violations while quarantined", a.violations));
    return;
  }
  if (a.zone == TCPR_ZONE_TRUSTED && s.value > cfg_.monitor_above) {
    transition(i, TCPR_ZONE_MONITORED, end_ns, fmt::format("score {:.3f} > {}; {}", s.value, cfg_.monitor_above, describe(s)));
    return;
  }
  if (a.zone == TCPR_ZONE_MONITORED && a.baseline_n >= cfg_.warmup_ticks && a.trust >= cfg_.trust_threshold &&
      a.low_run >= cfg_.trusted_ticks && a.dwell >= cfg_.min_dwell_ticks) {
    transition(i, TCPR_ZONE_TRUSTED, end_ns, fmt::format("trust {:.2f} after {} low-score ticks", a.trust, a.low_run));
    return;
  }
  if (a.zone == TCPR_ZONE_QUARANTINED && a.dwell >= cfg_.restore_min_ticks && a.trust >= cfg_.restore_trust &&
      a.low_run >= cfg_.trusted_ticks)
    transition(i, TCPR_ZONE_MONITORED, end_ns, fmt::format("trust restored to {:.2f}", a.trust));
}

std::string Behavior::describe(const Score& s) const {
  std::string out = "top:";
  for (auto f : s.top)
    if (f < kFeatures) out += fmt::format(" {}", kFeatureNames[f]);
  return out;
}

void Behavior::refit_cohorts() {
  for (auto& c : cohorts_) c.acc = c.tick.result();
  for (std::size_t c = cohorts_.size(); c-- > 1;) {
    const std::uint32_t parent = cohorts_[c].parent == kNoCohort ? 0 : cohorts_[c].parent;
    cohorts_[parent].acc.merge(cohorts_[c].acc);
    cohorts_[parent].burst_tick.merge(cohorts_[c].burst_tick);
  }
  const double beta = cfg_.alpha_cohort;
  for (auto& c : cohorts_) {
    if (c.acc.n < cfg_.min_cohort && !(c.acc.n >= 2 && &c == &cohorts_[0])) continue;
    const auto cov = c.acc.covariance();
    if (c.model.ticks == 0) {
      c.mean = c.acc.mean;
      c.cov = cov;
    } else {
      // EWMA over ticks; the spread of the mean between ticks counts as variance too.
      const auto d = (c.acc.mean - c.mean).eval();
      c.mean += beta * d;
      c.cov = (1 - beta) * (c.cov + beta * d * d.transpose()) + beta * cov;
    }
    ++c.model.ticks;
    c.burst.update(c.burst_tick, c.acc.n, beta, cfg_.burst.cold_spread);
    const std::uint32_t ticks = c.model.ticks;
    scorer_.fit(c.model, c.mean, c.cov, static_cast<std::uint32_t>(c.acc.n));
    c.model.ticks = ticks;
  }
}

void Behavior::remove_agent(std::uint32_t i) {
  index_.erase(cold_[i].hash, i);
  if (i + 1 != agents_.size()) {
    const auto last = static_cast<std::uint32_t>(agents_.size() - 1);
    index_.renumber(cold_[last].hash, last, i);
    agents_[i] = agents_.back();
    cold_[i] = cold_.back();
    stats_of_[i] = stats_of_.back();
  }
  agents_.pop_back();
  cold_.pop_back();
  stats_of_.pop_back();
  ++counters_.agents_evicted;
}

// Calm (TRUSTED/MONITORED, unpinned) agents idle for idle_timeout are forgotten (update_agent
// lists them). Highest index first: remove_agent moves the last agent into the hole, and every
// listed agent above the hole is gone by then.
void Behavior::evict_idle() {
  for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) remove_agent(*it);
  idle_.clear();
}

// The table is full and a new agent needs a place: the least recently active calm agent that was
// not active in this tick gives it up (ties: the lower key). Candidates are ranked once per tick.
bool Behavior::make_room() {
  if (room_tick_ != tick_no_) {
    room_tick_ = tick_no_;
    room_.clear();
    for (std::uint32_t i = 0; i < agents_.size(); ++i) {
      const Agent& a = agents_[i];
      if (a.zone <= TCPR_ZONE_MONITORED && a.pin == kNoPin && !active_now(i)) room_.emplace_back(a.last_active, cold_[i].key);
    }
    std::sort(room_.begin(), room_.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : y.second < x.second;   // oldest at the back
    });
  }
  while (!room_.empty()) {
    const AgentKey k = room_.back().second;
    room_.pop_back();
    const std::uint32_t i = index_.find(k, hash(k));
    if (i == AgentIndex::kNone || active_now(i) || agents_[i].zone > TCPR_ZONE_MONITORED ||
        agents_[i].pin != kNoPin)
      continue;
    remove_agent(i);
    return true;
  }
  return false;
}

}  // namespace tcpr::behavior
