// agent_state.hpp — Behavior's per-agent and per-cohort state (private to src/behavior): shared
// by the tick (behavior.cpp) and the operator and report side (behavior_control.cpp).
#pragma once

#include <array>
#include <string>

#include "tcpr/behavior/behavior.hpp"

namespace tcpr::behavior {

inline constexpr Zone kNoPin = TCPR_ZONE__COUNT;
inline constexpr std::uint32_t kNoCohort = ~0u;

// An agent's state in two parts, in parallel vectors: what every tick reads and writes (the
// tick streams through all of it, so its size is the tick's memory traffic), and what only
// connections, transitions, operators and reports touch.
struct Behavior::Agent {
  Vec xf = Vec::Zero();          // fast EWMA of the scored vector
  Vec mean = Vec::Zero();        // own baseline (slow EWMA of xf) and its variance
  Vec var = Vec::Zero();
  FeatureVec xm{};               // medium EWMA, natural units (report)
  std::uint32_t path[3] = {kNoCohort, kNoCohort, kNoCohort};   // leaf, parent, appliance
  std::uint32_t ticks = 0, baseline_n = 0, dwell = 0, low_run = 0, high_run = 0, violations = 0;
  std::uint64_t last_active = 0;
  float trust = 0, score = 0, max_score = 0;
  float regularity = 0;          // cold.beacon.regularity(), copied when it changes
  Zone zone = TCPR_ZONE_MONITORED;
  Zone pin = kNoPin;
  std::uint32_t novel_cur = 0, novel_prev = 0;
  std::uint32_t syn_carry = 0;   // SYNs of the last tick without a SYN-ACK in it
  bool burst_recent = false;     // counts in the last two ticks (cold.burst is not quiet)
  bool opened = false;           // has opened a flow: only such agents describe their cohort
  std::uint8_t trust_q = 0, anomaly_q = 0;   // the published Standing steps
};

struct Behavior::AgentCold {
  AgentKey key;
  std::uint64_t hash = 0;
  std::uint64_t pin_until = 0;   // tick number; 0: no expiry
  std::uint64_t first_anomalous_ns = 0;
  std::array<std::uint8_t, 3> why{0xff, 0xff, 0xff};
  BeaconTracker beacon;
  PeerMemory peers;
  BurstState burst;              // touched only in ticks with counts, or just after
};

struct Behavior::Cohort {
  explicit Cohort(std::string n) : name(std::move(n)) {}
  std::string name;
  std::uint32_t parent = kNoCohort;
  CovarianceAcc<kFeatures> acc;
  ShiftedCoMoment<kFeatures> tick;   // this tick's learning vectors (acc is made from it)
  BurstCohortTick burst_tick;         // and their burst counts
  BurstCohortRates burst;             // the rates a cold agent's counts are tested against
  Eigen::Matrix<double, kFeatures, 1> mean = Eigen::Matrix<double, kFeatures, 1>::Zero();
  Eigen::Matrix<double, kFeatures, kFeatures> cov = Eigen::Matrix<double, kFeatures, kFeatures>::Zero();
  CohortModel model;
};

}  // namespace tcpr::behavior
