// scenarios.cpp — the conversation kinds and their registry (see scenarios.hpp).
#include "scenarios.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "dns_wire.hpp"
#include "scenario_kinds.hpp"
#include "tcp_session.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

using Bytes = std::vector<std::uint8_t>;

template <class T>
const T& pick(Rng& rng, std::span<const T> items) {
  return rng.pick(items);
}

// ---------------------------------------------------------------------------------------------
// http_json: HTTP/1.1 POSTs of JSON task requests on one keep-alive connection (usually one,
// sometimes 2–3), each answered with a JSON body. Port 80 or 8080. Either side may close.
class HttpJson final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "http_json"; }

  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(70) ? 80 : 8080);
  }

  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    struct Route {
      std::string_view path;
      std::string_view action;
    };
    static constexpr Route kRoutes[] = {
        {"/api/v1/search", "search"},           {"/api/v1/records", "update_record"},
        {"/api/v1/jobs", "schedule_job"},       {"/api/v2/reports/query", "fetch_report"},
        {"/api/v1/inventory/lookup", "lookup"}, {"/api/v1/events", "list_events"},
        {"/internal/v1/tasks", "create_task"},  {"/api/v1/kb/query", "query_kb"},
    };
    static constexpr std::string_view kUserAgents[] = {"python-httpx/0.27.0", "aiohttp/3.9.5",
                                                       "node-fetch/3.3.2", "agent-runtime/1.4.2"};
    static constexpr std::string_view kServers[] = {"nginx/1.24.0", "uvicorn", "envoy",
                                                    "gunicorn/21.2.0"};
    const Endpoint& client = conv.endpoint(Side::kClient);
    const Endpoint& server = conv.endpoint(Side::kServer);
    const std::string host = server.port == 80 ? std::string(server.name)
                                               : fmt::format("{}:{}", server.name, server.port);
    const std::string_view user_agent = pick<std::string_view>(rng, kUserAgents);
    const std::string_view software = pick<std::string_view>(rng, kServers);
    const bool server_closes = rng.chance(30);  // the client asked for "Connection: close"
    const std::uint64_t exchanges = rng.chance(30) ? rng.between(2, 3) : 1;

    conv.label().content_class = "http";
    conv.label().host = host;
    TcpSession tcp(conv, rng);
    tcp.connect();
    for (std::uint64_t i = 0; i < exchanges; ++i) {
      const bool last = i + 1 == exchanges;
      const std::string_view connection = last && server_closes ? "Connection: close\r\n" : "";
      const Route& route = pick<Route>(rng, kRoutes);
      const std::string id = hex_id(rng, 8);
      const std::string body =
          json_task_request(rng, {client.name, id, route.action, rng.log_uniform(120, 3'000)});
      if (i == 0) {
        conv.label().method = "POST";
        conv.label().path = std::string(route.path);
      }
      conv.advance_us(rng.between(30, 400));  // the application writes its request
      tcp.send(Side::kClient,
               fmt::format("POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\n"
                           "Accept: application/json\r\nContent-Type: application/json\r\n"
                           "Content-Length: {}\r\n{}\r\n{}",
                           route.path, host, user_agent, body.size(), connection, body));
      conv.advance_us(rng.log_uniform(1'000, 120'000));  // the server works on it
      const std::string reply = json_task_response(rng, id, rng.log_uniform(200, 8'000));
      tcp.send(Side::kServer,
               fmt::format("HTTP/1.1 200 OK\r\nServer: {}\r\nContent-Type: application/json\r\n"
                           "Content-Length: {}\r\n{}\r\n{}",
                           software, reply.size(), connection, reply));
      conv.advance_us(rng.log_uniform(100, 40'000));  // the agent thinks, then goes on or closes
    }
    tcp.close(server_closes ? Side::kServer : Side::kClient);
  }
};

// ---------------------------------------------------------------------------------------------
// dns_query: an agent resolves one of the servers' names at the resolver: an A query (and, half
// the time, an AAAA query from the same socket, as glibc does) and the answers.
class DnsQuery final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "dns_query"; }

  Peer choose_peer(const Topology& topology, Rng&) const override {
    return {&topology.resolver(), kDnsPort};
  }

  void emit(Conversation& conv, Rng& rng, const Topology& topology) const override {
    const Host& target = rng.pick(std::span<const Host>(topology.servers()));
    emit_dns_lookup(conv, rng, target.name, target.ip);
  }
};

}  // namespace

void emit_dns_lookup(Conversation& conv, Rng& rng, std::string_view name, std::uint32_t address) {
  const auto id = static_cast<std::uint16_t>(rng.below(65536));
  const bool with_aaaa = rng.chance(50);
  const auto ttl = static_cast<std::uint32_t>(rng.between(30, 300));
  conv.label().content_class = "dns";
  conv.label().host = name;

  Bytes message;
  dns_query(message, id, name, kDnsTypeA);
  conv.send_udp(Side::kClient, message);
  if (with_aaaa) {
    message.clear();
    dns_query(message, static_cast<std::uint16_t>(id + 1), name, kDnsTypeAaaa);
    conv.advance_us(rng.between(10, 60));
    conv.send_udp(Side::kClient, message);
  }
  // A cache hit costs the round trip to the resolver; a miss also its upstream lookup.
  conv.advance_us(conv.rtt_us() + (rng.chance(30) ? rng.log_uniform(4'000, 60'000) : 0));
  message.clear();
  const std::array<std::uint32_t, 1> addresses{address};
  dns_response(message, id, name, kDnsTypeA, addresses, ttl);
  conv.send_udp(Side::kServer, message);
  if (with_aaaa) {
    message.clear();
    dns_response(message, static_cast<std::uint16_t>(id + 1), name, kDnsTypeAaaa, {}, ttl);
    conv.advance_us(rng.between(10, 200));
    conv.send_udp(Side::kServer, message);
  }
}

namespace {

template <class T>
std::unique_ptr<Scenario> make() {
  return std::make_unique<T>();
}

// The registry: one line per kind — name, help, default weight in the mix, factory. The default
// weights add up to 100, so each is the percentage of conversations of that kind.
constexpr ScenarioKind kKinds[] = {
    {"http_json", "HTTP/1.1 POSTs with JSON bodies and JSON responses (port 80/8080)", 16,
     &make<HttpJson>},
    {"http_get", "HTTP/1.1 GETs of HTML pages and JSON resources, some answers chunked", 8,
     &make_http_get},
    {"http_chunked", "HTTP/1.1 POSTs with chunked request bodies (NDJSON/JSON uploads)", 4,
     &make_http_chunked},
    {"http_nearmiss", "HTTP lookalikes with no tag: tools/callback, short AKIA, LLM path in text",
     2, &make_http_nearmiss},
    {"tls_hello", "TLS 1.3 to port 443: browser/library ClientHellos, encrypted exchanges", 12,
     &make_tls_hello},
    {"dns_query", "DNS A (and AAAA) queries over UDP to the resolver, with answers", 10,
     &make<DnsQuery>},
    {"llm_http", "LLM API calls in clear HTTP (OpenAI, Anthropic, Gemini, Ollama, ...), SSE", 12,
     &make_llm_http},
    {"llm_tls", "TLS 1.3 to an LLM provider's API (SNI api.openai.com, ...), streamed answers", 10,
     &make_llm_tls},
    {"mcp", "MCP over Streamable HTTP: initialize, tools/*, resources/*, prompts/get, SSE", 10,
     &make_mcp},
    {"a2a", "A2A: agent card GETs, message/send, message/stream (SSE), tasks/get", 4, &make_a2a},
    {"grpc", "gRPC over h2c (prior knowledge): HPACK headers, framed messages, trailers", 5,
     &make_grpc},
    {"websocket", "WebSocket upgrade, masked client and unmasked server frames, close", 3,
     &make_websocket},
    {"ssh", "SSH: banners, KEXINITs, curve25519 key exchange, encrypted session", 2, &make_ssh},
    {"secret_leak", "a secret (AWS key, PEM key, tokens, sk- key, JWT) in a request: tag secret", 1,
     &make_secret_leak},
    {"shell_cmd", "a shell command in a request body (MCP tool call, job API, LLM tool call)", 1,
     &make_shell_cmd},
};

}  // namespace

std::span<const ScenarioKind> scenario_kinds() noexcept { return kKinds; }

}  // namespace tcpr::gen
