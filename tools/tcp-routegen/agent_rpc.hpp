// agent_rpc.hpp — JSON-RPC 2.0 bodies of the agent protocols: MCP and A2A.
//
// MCP (modelcontextprotocol.io, revisions 2025-03-26 and 2025-06-18): initialize,
// notifications/initialized, tools/list, tools/call, resources/list, resources/read, prompts/get,
// each request with its result. A tools/call may be given its tool and arguments (a risk
// scenario's shell command or secret); otherwise one of a small catalogue of business tools.
// A2A (a2a-protocol.org, v0.3): the agent card served at /.well-known/agent-card.json (and the
// older /.well-known/agent.json), message/send with its Task result, message/stream with its
// events (task, status-update, artifact-update, final status-update), tasks/get.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rng.hpp"

namespace tcpr::gen {

struct ToolCall {
  std::string name;
  std::string arguments_json;  // a JSON object
};

struct RpcExchange {
  std::string method;
  std::int64_t id = -1;  // MCP: the request id (-1 for a notification); A2A ids are strings
  std::string request;   // a JSON-RPC request or notification
  std::string result;    // its response; empty for a notification
};

inline constexpr std::string_view kMcpMethods[] = {"tools/list", "tools/call", "resources/list",
                                                   "resources/read", "prompts/get"};

// `id` < 0 makes a notification. `protocol_version` only matters for initialize.
RpcExchange mcp_exchange(std::string_view method, std::int64_t id, Rng& rng,
                         std::string_view protocol_version = "2025-06-18",
                         const std::optional<ToolCall>& tool = std::nullopt);
// A progress notification a server streams before a long tools/call result; tools/call requests
// ask for it with params._meta.progressToken set to their id.
std::string mcp_progress(std::int64_t token, std::int64_t progress, std::int64_t total);

std::string a2a_agent_card(Rng& rng, std::string_view url);
RpcExchange a2a_exchange(std::string_view method, std::string_view id, Rng& rng,
                         std::string_view task_id, std::string_view context_id);
// message/stream: the result objects of the SSE events, each a whole JSON-RPC response.
std::vector<std::string> a2a_stream_events(std::string_view id, Rng& rng, std::string_view task_id,
                                           std::string_view context_id);

}  // namespace tcpr::gen
