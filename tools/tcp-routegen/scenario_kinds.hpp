// scenario_kinds.hpp — the scenario kinds defined outside scenarios.cpp, for its registry, and the
// conversations that several kinds share (a risk kind reuses a benign kind's conversation and
// slips its content in).
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "agent_rpc.hpp"
#include "conversation.hpp"
#include "llm_api.hpp"
#include "rng.hpp"
#include "scenarios.hpp"
#include "tls_wire.hpp"

namespace tcpr::gen {

// Factories, one per kind (the registry in scenarios.cpp names them).
std::unique_ptr<Scenario> make_http_get();       // scenario_web.cpp
std::unique_ptr<Scenario> make_http_chunked();   // scenario_web.cpp
std::unique_ptr<Scenario> make_http_nearmiss();  // scenario_web.cpp
std::unique_ptr<Scenario> make_tls_hello();      // scenario_tls.cpp
std::unique_ptr<Scenario> make_llm_tls();        // scenario_tls.cpp
std::unique_ptr<Scenario> make_llm_http();       // scenario_llm.cpp
std::unique_ptr<Scenario> make_mcp();            // scenario_agent.cpp
std::unique_ptr<Scenario> make_a2a();            // scenario_agent.cpp
std::unique_ptr<Scenario> make_grpc();           // scenario_grpc.cpp
std::unique_ptr<Scenario> make_websocket();      // scenario_websocket.cpp
std::unique_ptr<Scenario> make_ssh();            // scenario_ssh.cpp
std::unique_ptr<Scenario> make_secret_leak();    // scenario_risk.cpp
std::unique_ptr<Scenario> make_shell_cmd();      // scenario_risk.cpp

// Shared conversations. Each sets the label's class, host, method and path (not its tags).
// An MCP session over Streamable HTTP; with `tool`, one of its tools/call carries that call.
void emit_mcp_session(Conversation& conv, Rng& rng, const std::optional<ToolCall>& tool);
// One to three LLM API calls on a keep-alive connection; `extras` go into the first.
void emit_llm_http(Conversation& conv, Rng& rng, const LlmExtras& extras);

// A resolver conversation (the client talks to the resolver): an A query for `name` (half the time
// also AAAA) answered with `address`.
void emit_dns_lookup(Conversation& conv, Rng& rng, std::string_view name, std::uint32_t address);

// A ServerPeer helper: any topology server on `port`.
Peer any_server(const Topology& topology, Rng& rng, std::uint16_t port);

}  // namespace tcpr::gen
