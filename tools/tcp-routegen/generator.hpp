// generator.hpp — turns a GenConfig into OUT.pcap and OUT.pcap.labels.jsonl.
//
// 1. Plan: the topology (topology.hpp) and, per flow, a seed and an agent. The first --agents
//    flows go to agents 0, 1, … so that every agent appears; the rest pick agents at random.
// 2. Measure: each flow is generated once without building frames (a dry run) to learn its
//    length L, and placed at a start drawn uniformly in [0, duration − L]: every packet then lies
//    within --duration of the first.
// 3. Write: flows are generated again, for real, in start order (client ports are allocated in
//    that order) and merged packet by packet through a min-heap on time, so the file is written
//    in timestamp order while only the conversations in progress are held in memory.
// Every random draw derives from --seed, and the capture clock starts at kEpochSeconds, so the
// same configuration always gives byte-identical files.
#pragma once

#include <cstdint>
#include <string>

#include "result.hpp"

namespace tcpr::gen {

inline constexpr std::uint64_t kEpochSeconds = 1'700'000'000;

struct GenConfig {
  std::string output;
  std::uint32_t agents = 50;
  std::uint32_t servers = 20;
  std::uint64_t flows = 500;  // total conversations: TCP connections plus UDP exchanges
  double duration_s = 10.0;
  std::uint64_t seed = 1;
  std::string agent_subnet = "10.1.0.0/16";
  std::string server_subnet = "10.2.0.0/16";
  std::string mix;  // empty: every scenario kind at its default weight

  static constexpr std::uint32_t kMaxAgents = 1'000'000;
  static constexpr std::uint32_t kMaxServers = 1'000'000;
  static constexpr std::uint64_t kMaxFlows = 10'000'000;  // 32 bytes of plan each
  static constexpr double kMaxDurationS = 30.0 * 86400;
};

struct GenSummary {
  std::uint64_t flows = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::string labels_path;
  std::string mix;
};

std::string labels_path_for(const std::string& pcap_path);
Result<GenSummary> generate(const GenConfig& config);

}  // namespace tcpr::gen
