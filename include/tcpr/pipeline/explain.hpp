// explain.hpp — "what would the router do with this packet?" for tcp-routectl explain: one frame
// through a private pipeline built like a worker's (the same static egress, class database and
// route table; the agents' current zones as pins of a private behaviour state), with each stage's
// decision: parse, flow, classify, agents and zone gate, route, verdict. Control thread only; it
// never touches a worker's state.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tcpr/pipeline/pipeline.hpp"
#include "tcpr/util/result.hpp"

namespace tcpr::pipeline {

struct ExplainContext {
  PipelineConfig base;                                   // the workers' config (its behaviour/routes ignored)
  const behavior::BehaviorConfig* behavior = nullptr;    // null: no agents
  std::vector<std::pair<behavior::AgentKey, behavior::Zone>> zones;   // the frame's agents, as they are now
  std::shared_ptr<const route::RouteTable> routes;       // null: no routing
  std::vector<std::string> port_names;
};

// An Ethernet frame (IPv4 or IPv6 by the addresses; TCP with PSH|ACK, or UDP) carrying `payload`.
Result<std::vector<std::uint8_t>> build_frame(const std::string& proto, const std::string& src, std::uint16_t sport,
                                              const std::string& dst, std::uint16_t dport, const std::string& payload);

nlohmann::ordered_json explain_frame(const ExplainContext& ctx, const std::vector<std::uint8_t>& frame, std::uint16_t port);

}  // namespace tcpr::pipeline
