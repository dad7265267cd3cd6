// The operator and report side of Behavior: the zone table workers read, operator pins, the
// agents report and the counters.
#include <algorithm>

#include "agent_state.hpp"

namespace tcpr::behavior {

void Behavior::publish() {
  std::vector<std::pair<AgentKey, Standing>> entries;
  for (std::uint32_t i = 0; i < agents_.size(); ++i) {
    const Agent& a = agents_[i];
    const Standing st{a.zone, a.trust_q, a.anomaly_q};
    if (!(st == Standing{})) entries.emplace_back(cold_[i].key, st);
  }
  pending_ = std::make_shared<const ZoneSnapshot>(tick_no_, entries);
  ++publications_;
}

void Behavior::pin(const AgentKey& k, Zone z, double ttl_seconds) {
  const std::uint32_t i = agent_index(k, tick_no_);
  if (i == kNoCohort) return;
  agents_[i].pin = z;
  cold_[i].pin_until = ttl_seconds > 0 ? tick_no_ + static_cast<std::uint64_t>(ttl_seconds / cfg_.tick_seconds) : 0;
}

void Behavior::release(const AgentKey& k) {
  if (const auto i = index_.find(k, hash(k)); i != AgentIndex::kNone) {
    Agent& a = agents_[i];
    a.pin = kNoPin;
    a.violations = 0;
    a.trust = cfg_.trust_initial;
    transition(i, TCPR_ZONE_MONITORED, next_end_, "operator release");
  }
}

Zone Behavior::zone_of(const AgentKey& k) const {
  const auto i = index_.find(k, hash(k));
  return i == AgentIndex::kNone ? static_cast<Zone>(TCPR_ZONE__COUNT) : agents_[i].zone;
}

std::vector<std::pair<AgentKey, Zone>> Behavior::zone_list() const {
  std::vector<std::pair<AgentKey, Zone>> out;
  out.reserve(agents_.size());
  for (std::uint32_t i = 0; i < agents_.size(); ++i) out.emplace_back(cold_[i].key, agents_[i].zone);
  return out;
}

AgentReport Behavior::report_of(std::uint32_t i) const {
  const Agent& a = agents_[i];
  const AgentCold& cold = cold_[i];
  AgentReport r;
  r.key = cold.key;
  r.zone = a.zone;
  r.trust = a.trust;
  r.score = a.score;
  r.max_score = a.max_score;
  r.features = a.xm;
  r.first_anomalous_ns = cold.first_anomalous_ns;
  for (auto f : cold.why)
    if (f < kFeatures) r.why.emplace_back(kFeatureNames[f]);
  const auto& leaf = cohorts_[a.path[0]];
  r.cohort = leaf.model.members >= cfg_.min_cohort ? leaf.name : cohorts_[a.path[1]].name;
  r.ticks = a.ticks;
  return r;
}

std::vector<AgentReport> Behavior::report() const {
  std::vector<AgentReport> out;
  out.reserve(agents_.size());
  for (std::uint32_t i = 0; i < agents_.size(); ++i) out.push_back(report_of(i));
  std::sort(out.begin(), out.end(), [](const AgentReport& x, const AgentReport& y) { return x.key < y.key; });
  return out;
}

std::optional<AgentReport> Behavior::report(const AgentKey& k) const {
  const auto i = index_.find(k, hash(k));
  if (i == AgentIndex::kNone) return std::nullopt;
  return report_of(i);
}

std::size_t Behavior::agent_count() const noexcept { return agents_.size(); }

std::array<std::uint64_t, TCPR_ZONE__COUNT> Behavior::zone_counts() const {
  std::array<std::uint64_t, TCPR_ZONE__COUNT> n{};
  for (const Agent& a : agents_) ++n[a.zone < TCPR_ZONE__COUNT ? a.zone : static_cast<Zone>(TCPR_ZONE_ISOLATED)];
  return n;
}

BehaviorCounters Behavior::counters() const {
  BehaviorCounters c = counters_;
  for (const auto& t : trackers_) {
    c.tick_table_full += t->counters().table_full;
    c.tick_hard_overflow += t->counters().hard_overflow_full;
  }
  return c;
}

}  // namespace tcpr::behavior
