// behavior.hpp — behaviour mode (--behavior): agents behaving over time, some turning anomalous.
//
// Writes OUT.pcap, OUT.pcap.labels.jsonl (one line per conversation, as the plain mode) and
// OUT.pcap.agents.jsonl (one line per agent, in agent order: role, anomaly kind, onset, persona).
// behavior_schedule.hpp says when agents act, behavior_kinds.hpp what anomalies do; the
// generator (behavior_generator.cpp) builds each activity when the capture clock reaches it and
// merges the packets of the conversations in progress by time, so nothing is planned or held
// beyond the agents and those conversations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "generator.hpp"
#include "result.hpp"

namespace tcpr::gen {

struct BehaviorConfig {
  GenConfig base;         // output, agents, servers, duration, seed, subnets (not flows, mix)
  double rate = 0.5;      // mean normal activities per agent per second
  std::string anomalies;  // --anomalies; empty: all=1 with 16 agents or more, else none
  std::optional<double> onset_s;  // --onset; none: 0.6 × duration
  static constexpr double kMaxRate = 100;
  static constexpr double kMinOnsetS = 3;  // baselines need time
};

struct BehaviorSummary {
  std::uint64_t conversations = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t anomalous = 0;
  std::string labels_path;
  std::string agents_path;
};

std::string agents_path_for(const std::string& pcap_path);
Result<BehaviorSummary> generate_behavior(const BehaviorConfig& config);

}  // namespace tcpr::gen
