// scenario_agent.cpp — agent protocols over HTTP/1.1: MCP (Streamable HTTP) and A2A.
//
// mcp  a session with an MCP server at POST /mcp: a fresh one (initialize, then the
//      notifications/initialized notification, answered 202, then tools/list) or a new
//      connection of an existing session (Mcp-Session-Id from the start), then tools/call,
//      resources/*, prompts/get and, in revision 2025-03-26, JSON-RPC batches; the server answers
//      each as JSON or as a text/event-stream (a tools/call's stream may lead with progress
//      notifications); some clients end the session with DELETE. Label method: the first JSON-RPC
//      method on the connection.
// a2a  an agent fetching another agent's card (GET /.well-known/agent-card.json or agent.json),
//      then message/send, message/stream (SSE) or tasks/get. Label method: GET, or the JSON-RPC
//      method of the first request.
#include <fmt/format.h>

#include "http_flow.hpp"
#include "http_wire.hpp"
#include "scenario_kinds.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

constexpr std::string_view kMcpPath = "/mcp";
constexpr std::string_view kAcceptBoth = "application/json, text/event-stream";
constexpr std::string_view kClients[] = {"python-httpx/0.28.1", "node", "agent-runtime/1.4.2"};

struct McpStep {
  std::vector<RpcExchange> calls;  // one call, or a batch
  bool batch = false;
};

std::string sse_head(HttpFields f) {
  f.emplace_back("Content-Type", "text/event-stream");
  f.emplace_back("Cache-Control", "no-cache");
  f.emplace_back("Transfer-Encoding", "chunked");
  return http_response(200, f);
}

class Mcp final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "mcp"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    static constexpr std::uint16_t kPorts[] = {8080, 8080, 3000, 8000, 80};
    return any_server(topology, rng, rng.pick(std::span<const std::uint16_t>(kPorts)));
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    emit_mcp_session(conv, rng, std::nullopt);
  }
};

class A2a final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "a2a"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    static constexpr std::uint16_t kPorts[] = {80, 8080, 9999, 10000};
    return any_server(topology, rng, rng.pick(std::span<const std::uint16_t>(kPorts)));
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    const std::string host = host_field(conv.endpoint(Side::kServer));
    const std::string_view rpc_path = rng.chance(50) ? "/" : "/a2a";
    const std::string_view client = rng.chance(70) ? "python-httpx/0.28.1" : "node";
    const std::string task_id = uuid4(rng);
    const std::string context_id = uuid4(rng);
    const bool discover = rng.chance(45);
    std::vector<std::string_view> methods;
    if (!discover || rng.chance(60)) {
      methods.push_back(rng.chance(50) ? "message/send" : "message/stream");
      if (rng.chance(20)) methods.front() = "tasks/get";
      if (methods.front() != "tasks/get" && rng.chance(40)) methods.push_back("tasks/get");
    }
    HttpFlow http(conv, rng);
    if (discover) {
      const std::string_view card =
          rng.chance(60) ? "/.well-known/agent-card.json" : "/.well-known/agent.json";
      label_http(conv, "a2a", host, "GET", card);
      http.request(
          http_request("GET", card, host,
                       {{"User-Agent", std::string(client)}, {"Accept", "application/json"}}));
      const std::string body = a2a_agent_card(rng, fmt::format("http://{}{}", host, rpc_path));
      http.respond(http_response(200, {{"Content-Type", "application/json"}}, body),
                   rng.between(500, 8'000));
      http.think();
    } else {
      label_http(conv, "a2a", host, methods.front(), rpc_path);
    }
    for (std::string_view method : methods) {
      const bool stream = method == "message/stream";
      const std::string rpc_id = uuid4(rng);
      const RpcExchange ex = a2a_exchange(method, rpc_id, rng, task_id, context_id);
      HttpFields f{{"User-Agent", std::string(client)},
                   {"Accept", std::string(stream ? "text/event-stream" : "application/json")},
                   {"Content-Type", "application/json"}};
      http.request(http_request("POST", rpc_path, host, f, ex.request));
      if (!stream) {
        http.respond(http_response(200, {{"Content-Type", "application/json"}}, ex.result),
                     rng.log_uniform(2'000, 400'000));
      } else {
        std::vector<std::string> pieces{sse_head({})};
        for (const std::string& event : a2a_stream_events(rpc_id, rng, task_id, context_id)) {
          pieces.push_back(http_chunk(sse_event(event)));
        }
        pieces.emplace_back(kLastChunk);
        http.stream(pieces, rng.log_uniform(2'000, 100'000), 5'000, 60'000);
      }
      http.think();
    }
    http.close(Side::kClient);
  }
};

}  // namespace

void emit_mcp_session(Conversation& conv, Rng& rng, const std::optional<ToolCall>& tool) {
  const std::string host = host_field(conv.endpoint(Side::kServer));
  const bool fresh = rng.chance(60);
  const bool batches = rng.chance(40);  // revision 2025-03-26 still has JSON-RPC batches
  const std::string_view version = batches ? "2025-03-26" : "2025-06-18";
  const bool sse = rng.chance(50);
  const std::string session = rng.chance(50) ? uuid4(rng) : hex_id(rng, 16);
  const std::string_view client = rng.pick(std::span<const std::string_view>(kClients));
  std::int64_t id = fresh ? 0 : static_cast<std::int64_t>(rng.between(3, 40));

  std::vector<McpStep> steps;
  const auto add = [&](std::string_view method, const std::optional<ToolCall>& call) {
    const std::int64_t this_id = method.starts_with("notifications/") ? -1 : id++;
    return mcp_exchange(method, this_id, rng, version, call);
  };
  if (fresh) {
    for (std::string_view m : {"initialize", "notifications/initialized", "tools/list"}) {
      steps.push_back({{add(m, std::nullopt)}});
    }
  }
  const std::uint64_t more = rng.between(1, 4);
  const std::uint64_t risky = tool ? rng.below(more) : more;
  for (std::uint64_t i = 0; i < more; ++i) {
    McpStep step;
    step.batch = batches && i != risky && rng.chance(20);
    for (int n = 0; n < (step.batch ? 2 : 1); ++n) {
      const std::string_view method =
          i == risky ? "tools/call" : rng.pick(std::span<const std::string_view>(kMcpMethods));
      step.calls.push_back(add(method, i == risky ? tool : std::nullopt));
    }
    steps.push_back(std::move(step));
  }

  label_http(conv, "mcp", host, steps.front().calls.front().method, kMcpPath);
  HttpFlow http(conv, rng);
  for (const McpStep& step : steps) {
    const RpcExchange& first = step.calls.front();
    const bool initialize = first.method == "initialize";
    HttpFields f{{"User-Agent", std::string(client)},
                 {"Accept", std::string(kAcceptBoth)},
                 {"Content-Type", "application/json"}};
    if (!initialize) f.emplace_back("Mcp-Session-Id", session);
    if (!initialize && !batches) f.emplace_back("MCP-Protocol-Version", std::string(version));
    std::string body = step.batch ? "[" : "";
    std::string results = step.batch ? "[" : "";
    for (const RpcExchange& call : step.calls) {
      if (&call != &step.calls.front()) body += ',', results += ',';
      body += call.request;
      results += call.result;
    }
    if (step.batch) body += ']', results += ']';
    http.request(http_request("POST", kMcpPath, host, f, body));

    HttpFields reply;
    if (initialize) reply.emplace_back("mcp-session-id", session);
    const bool slow = first.method == "tools/call";
    const std::uint64_t work = slow ? rng.log_uniform(2'000, 250'000) : rng.between(500, 20'000);
    if (first.result.empty()) {
      http.respond(http_response(202, reply), rng.between(200, 3'000));
    } else if (!sse || step.batch) {
      reply.emplace_back("Content-Type", "application/json");
      http.respond(http_response(200, reply, results), work);
    } else {
      std::vector<std::string> pieces{sse_head(reply)};
      const std::int64_t progress = slow && rng.chance(50) ? rng.between(1, 3) : 0;
      for (std::int64_t p = 1; p <= progress; ++p) {
        pieces.push_back(http_chunk(sse_event(mcp_progress(first.id, p, progress + 1), "message")));
      }
      pieces.push_back(http_chunk(sse_event(results, "message")));
      pieces.emplace_back(kLastChunk);
      http.stream(pieces, rng.between(500, 5'000), work / 8 + 100, work / 4 + 200);
    }
    http.think();
  }
  if (rng.chance(30)) {  // the client ends the session
    http.request(http_request("DELETE", kMcpPath, host,
                              {{"User-Agent", std::string(client)}, {"Mcp-Session-Id", session}}));
    http.respond(http_response(200, {}), rng.between(300, 3'000));
  }
  http.close(Side::kClient);
}

std::unique_ptr<Scenario> make_mcp() { return std::make_unique<Mcp>(); }
std::unique_ptr<Scenario> make_a2a() { return std::make_unique<A2a>(); }

}  // namespace tcpr::gen
