// behavior.hpp — the control side of behaviour: one tick merges every worker's partial
// statistics, scores every agent, updates trust and zones, and publishes the zone table.
//
//   workers' AgentTrackers ──merge──▶ appliance TickStats per agent ──▶ features (EWMA horizons)
//        ──▶ cohorts (subnet tree or configured groups; Chan-merged covariance) ──▶ Scorer
//        ──▶ trust ──▶ zone machine ──▶ ZoneSnapshot (workers) + events
//
// Cohorts: an agent belongs to a leaf cohort — its configured group, or its /cohort_prefix
// subnet — whose parent is the /parent_prefix subnet, whose parent is the appliance. It is
// compared with the smallest of these with at least min_cohort members. Cohort statistics are
// CovarianceAcc merges of the members' vectors, leaves into parents: O(n) per tick.
//
// Zone machine (README "Zones"), per tick, severity TRUSTED < MONITORED < QUARANTINED < ISOLATED:
//   hard signal (secret/shell tag)        → QUARANTINED at once (decided by the worker that saw
//                                          it; this tick confirms it, or reverts it under a pin)
//   score > quarantine_above for quarantine_ticks ticks → QUARANTINED
//   while QUARANTINED: a tick with score > quarantine_above or a hard signal is a violation;
//                                          isolate_violations of them → ISOLATED
//   TRUSTED and score > monitor_above      → MONITORED
//   MONITORED → TRUSTED                    baseline ready, trust ≥ trust_threshold, score <
//                                          restore_below for trusted_ticks, min_dwell_ticks in zone
//   QUARANTINED → MONITORED (restoration)  restore_min_ticks in zone, trust ≥ restore_trust, score
//                                          < restore_below for trusted_ticks
//   ISOLATED                               left only by an operator (pin/release)
// Trust: score < restore_below → trust += trust_gain·(1 − trust); score > monitor_above →
// trust −= trust_loss·trust; a hard signal → 0.
//
// Single-threaded: exactly one thread runs ticks (the replay's main lcore or its only worker, or
// live mode's control thread).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <array>
#include <optional>
#include <vector>

#include "tcpr/behavior/agent_index.hpp"
#include "tcpr/behavior/burst.hpp"
#include "tcpr/behavior/scorer.hpp"
#include "tcpr/behavior/tracker.hpp"

namespace tcpr::behavior {

struct CohortGroup {
  std::string name;
  PrefixSet prefixes;
};

struct BehaviorConfig {
  bool enabled = false;                 // on when agents are configured
  std::vector<std::pair<AgentKey, Zone>> pins;   // [[behavior.pin]]: operator pins from the config
  KeyMode key_mode = KeyMode::kIp;
  PrefixSet agents;
  std::vector<std::string> agent_ports; // port names (resolved by the dataplane)
  PrefixSet internal;                   // lateral-movement peers; empty: the agent prefixes
  PrefixSet remediation;                // what a QUARANTINED agent may still reach
  std::vector<std::string> quarantine_classes;   // classes a QUARANTINED agent may still use
  std::vector<std::string> hard_tags{"secret", "shell"};
  std::vector<CohortGroup> cohorts;
  double tick_seconds = 0.1;
  std::uint32_t max_agents = 1u << 20;
  std::uint32_t tick_agents = 65536;    // agents active in one tick per worker
  double idle_timeout = 300;            // seconds without traffic before an agent may be evicted
  std::uint32_t cohort_prefix_v4 = 24, parent_prefix_v4 = 16;
  std::uint32_t cohort_prefix_v6 = 64, parent_prefix_v6 = 48;
  std::uint32_t min_cohort = 8;
  float alpha_fast = 0.5f, alpha_medium = 0.1f, alpha_slow = 0.02f, alpha_cohort = 0.2f;
  std::uint32_t warmup_ticks = 30;
  ScorerConfig scorer;
  BurstConfig burst;
  float trust_initial = 0.5f, trust_gain = 0.01f, trust_loss = 0.5f, trust_threshold = 0.7f;
  float monitor_above = 0.80f, quarantine_above = 0.95f, restore_below = 0.30f, restore_trust = 0.5f;
  std::uint32_t quarantine_ticks = 1, trusted_ticks = 30, min_dwell_ticks = 10;
  std::uint32_t isolate_violations = 3, restore_min_ticks = 300;
};

struct ZoneEvent {
  std::uint64_t ts_ns = 0;
  AgentKey agent;
  Zone from = TCPR_ZONE_MONITORED, to = TCPR_ZONE_MONITORED;
  float score = 0;
  std::string reason;
};

struct AgentReport {
  AgentKey key;
  Zone zone = TCPR_ZONE_MONITORED;
  float trust = 0, score = 0;
  FeatureVec features{};                 // medium-horizon EWMA, natural units
  std::uint64_t first_anomalous_ns = 0;  // first move into QUARANTINED/ISOLATED; 0: never
  std::vector<std::string> why;          // top features of the highest score seen
  float max_score = 0;
  std::string cohort;
  std::uint32_t ticks = 0;
};

struct BehaviorCounters {
  std::uint64_t ticks = 0;
  std::uint64_t agents_created = 0, agents_evicted = 0, agents_refused = 0;
  std::uint64_t local_confirmed = 0, local_reverted = 0;
  std::uint64_t tick_table_full = 0;
  std::uint64_t tick_hard_overflow = 0;   // slotless hard signals beyond the per-tick list (gated, not validated)
  std::uint64_t zone_changes = 0;
};

class Behavior {
 public:
  // `workers` trackers are made here; agent_port by config port index.
  Behavior(const BehaviorConfig& cfg, unsigned workers, std::vector<bool> agent_port);
  ~Behavior();
  AgentTracker& tracker(unsigned w) { return *trackers_[w]; }
  const BehaviorConfig& config() const noexcept { return cfg_; }

  // Capture-clock ticks (replay): the first packet starts the clock; a packet at or past
  // next_tick_end() must wait for tick_quiescent().
  bool tick_due(std::uint64_t ts_ns) noexcept {
    if (next_end_ == 0) next_end_ = ts_ns + tick_ns_;
    return ts_ns >= next_end_;
  }
  std::uint64_t next_tick_end() const noexcept { return next_end_; }
  // Every tracker idle (replay at a boundary): swaps them directly and runs the tick.
  void tick_quiescent();
  // Live: asks running workers to swap, waits for them (bounded), runs the tick at `now_ns`.
  void tick_live(std::uint64_t now_ns);

  std::vector<AgentReport> report() const;
  const std::vector<ZoneEvent>& events() const noexcept { return events_; }
  BehaviorCounters counters() const;
  const std::vector<double>& tick_ms() const noexcept { return tick_ms_; }

  // Operator pins (tcp-routectl, later): a pin overrides the machine until it expires.
  void pin(const AgentKey& k, Zone z, double ttl_seconds);
  void release(const AgentKey& k);

  // Every agent and its zone (the XDP maps' writer), and a counter of zone-table publications:
  // the list can only have changed when the counter did.
  std::vector<std::pair<AgentKey, Zone>> zone_list() const;
  // One agent's zone; TCPR_ZONE__COUNT when the agent is not known (yet).
  Zone zone_of(const AgentKey& k) const;
  // One agent's report (the control socket's `agent`), without building every agent's.
  std::optional<AgentReport> report(const AgentKey& k) const;
  std::size_t agent_count() const noexcept;
  std::array<std::uint64_t, TCPR_ZONE__COUNT> zone_counts() const;
  std::uint64_t publications() const noexcept { return publications_; }
  // The workers' local decisions since the last call (control thread, between ticks).
  std::vector<AgentTracker::LocalDecision> take_local_decisions() {
    std::vector<AgentTracker::LocalDecision> out;
    AgentTracker::LocalDecision d;
    for (auto& t : trackers_)
      while (t->pop_local(d)) out.push_back(d);
    return out;
  }

 private:
  AgentReport report_of(std::uint32_t i) const;
  struct Agent;
  struct AgentCold;
  struct Cohort;
  void run_tick(std::uint64_t end_ns);
  std::uint32_t agent_index(const AgentKey& k, std::uint64_t now_tick);
  void harvest(AgentTracker::Table& t, unsigned worker);
  void take(const TickStats& in, std::uint64_t h);
  void create_fresh();
  void update_agent(std::uint32_t i, std::uint64_t end_ns);
  void step_zone(std::uint32_t i, const Score& s, const TickStats* st, std::uint64_t end_ns);
  void transition(std::uint32_t i, Zone to, std::uint64_t ts_ns, std::string reason);
  void refit_cohorts();
  void evict_idle();
  // Active in the tick under way (stats harvested) or in the last one finished.
  bool active_now(std::uint32_t i) const noexcept { return stats_of_[i] != nullptr || last_active_of(i) == tick_no_; }
  std::uint64_t last_active_of(std::uint32_t i) const noexcept;
  bool make_room();
  void remove_agent(std::uint32_t i);
  void publish();
  std::uint32_t cohort_of(const AgentKey& k, unsigned level);
  const CohortGroup* group_of(const AgentKey& k) const noexcept;
  std::string describe(const Score& s) const;

  BehaviorConfig cfg_;
  Scorer scorer_;
  std::shared_ptr<SnapshotPublisher<ZoneSnapshot>> publisher_;
  std::shared_ptr<const ZoneSnapshot> pending_;
  std::vector<std::unique_ptr<AgentTracker>> trackers_;
  std::uint64_t tick_ns_ = 100'000'000;
  float per_s_ = 10;                   // 1 / tick_seconds
  std::uint64_t idle_ticks_ = 3000;    // idle_timeout in ticks
  std::uint64_t next_end_ = 0;
  std::uint64_t tick_no_ = 0;
  std::uint64_t swap_epoch_ = 0;
  std::vector<char> harvest_ok_;       // by worker: its off table may be read this tick
  bool zones_changed_ = false;
  std::uint64_t publications_ = 0;

  std::vector<Agent> agents_;
  std::vector<AgentCold> cold_;                // by agent, beside agents_
  AgentIndex index_;
  std::vector<const TickStats*> stats_of_;   // by agent: this tick's stats (null: idle); reset by update_agent
  std::vector<std::uint32_t> idle_;           // agents found idle for idle_timeout this tick
  std::deque<TickStats> merged_;         // this tick's merges of agents seen by several workers
  std::vector<const TickStats*> fresh_;  // this tick's stats of agents not yet known
  std::vector<Cohort> cohorts_;
  std::unordered_map<std::string, std::uint32_t> cohort_ids_;
  std::vector<ZoneEvent> events_;
  std::vector<double> tick_ms_;
  BehaviorCounters counters_;
  std::vector<std::pair<std::uint64_t, AgentKey>> room_;   // eviction candidates, oldest last
  std::uint64_t room_tick_ = ~0ull;
};

}  // namespace tcpr::behavior
