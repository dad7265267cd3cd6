// scenarios.cpp — the conversation kinds and their registry (see scenarios.hpp).
#include "scenarios.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "dns_wire.hpp"
#include "tcp_session.hpp"
#include "text_gen.hpp"
#include "tls_wire.hpp"

namespace tcpr::gen {
namespace {

using Bytes = std::vector<std::uint8_t>;

Peer any_server(const Topology& topology, Rng& rng, std::uint16_t port) {
  return {&rng.pick(std::span<const Host>(topology.servers())), port};
}

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
// tls_hello: a TLS 1.3 connection to port 443 — ClientHello with SNI and ALPN, the server's
// ServerHello + ChangeCipherSpec + encrypted flight, the client's ChangeCipherSpec + Finished with
// its first request, then encrypted requests and responses, and usually a close_notify.
class TlsHello final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "tls_hello"; }

  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, 443);
  }

  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    static constexpr std::string_view kAlpnH2[] = {"h2", "http/1.1"};
    static constexpr std::string_view kAlpnH1[] = {"http/1.1"};
    // Finished (4 + 32 bytes with SHA-256) + inner content type + 16-byte AEAD tag.
    constexpr std::size_t kFinishedRecord = kTlsRecordHeader + 53;
    constexpr std::size_t kCloseNotifyRecord = kTlsRecordHeader + 19;

    const Endpoint& server = conv.endpoint(Side::kServer);
    conv.label().content_class = "tls";
    conv.label().sni = std::string(server.name);
    using Alpn = std::span<const std::string_view>;
    const Alpn alpn = rng.chance(70) ? Alpn(kAlpnH2) : Alpn(kAlpnH1);
    TcpSession tcp(conv, rng);
    tcp.connect();

    Bytes client_flight;
    TlsSessionId session_id{};
    tls_client_hello(client_flight, {server.name, alpn}, rng, session_id);
    conv.advance_us(rng.between(50, 600));
    tcp.send(Side::kClient, client_flight);

    Bytes server_flight;
    tls_server_hello(server_flight, session_id, rng);
    tls_change_cipher_spec(server_flight);
    // EncryptedExtensions, Certificate, CertificateVerify, Finished: mostly the certificate chain.
    tls_app_records(server_flight, rng.between(2'400, 4'800), rng);
    conv.advance_us(rng.between(200, 3'000));
    tcp.send(Side::kServer, server_flight);

    const std::uint64_t exchanges = rng.chance(25) ? 2 : 1;
    for (std::uint64_t i = 0; i < exchanges; ++i) {
      client_flight.clear();
      if (i == 0) {
        tls_change_cipher_spec(client_flight);
        tls_app_records(client_flight, kFinishedRecord, rng);
      }
      tls_app_records(client_flight, rng.log_uniform(150, 2'500), rng);
      conv.advance_us(i == 0 ? rng.between(100, 2'000) : rng.log_uniform(500, 60'000));
      tcp.send(Side::kClient, client_flight);

      server_flight.clear();
      if (i == 0) {  // two NewSessionTickets follow the client's Finished
        tls_app_records(server_flight, rng.between(230, 290), rng);
        tls_app_records(server_flight, rng.between(230, 290), rng);
      }
      tls_app_records(server_flight, rng.log_uniform(200, 12'000), rng);
      conv.advance_us(rng.log_uniform(2'000, 150'000));
      tcp.send(Side::kServer, server_flight);
    }
    conv.advance_us(rng.log_uniform(100, 30'000));
    const Side closer = rng.chance(80) ? Side::kClient : Side::kServer;
    if (rng.chance(70)) {
      Bytes alert;
      tls_app_records(alert, kCloseNotifyRecord, rng);  // encrypted, so it looks like data
      tcp.send(closer, alert);
    }
    tcp.close(closer);
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
    const auto id = static_cast<std::uint16_t>(rng.below(65536));
    const bool with_aaaa = rng.chance(50);
    const auto ttl = static_cast<std::uint32_t>(rng.between(30, 300));
    conv.label().content_class = "dns";
    conv.label().host = target.name;

    Bytes message;
    dns_query(message, id, target.name, kDnsTypeA);
    conv.send_udp(Side::kClient, message);
    if (with_aaaa) {
      message.clear();
      dns_query(message, static_cast<std::uint16_t>(id + 1), target.name, kDnsTypeAaaa);
      conv.advance_us(rng.between(10, 60));
      conv.send_udp(Side::kClient, message);
    }
    // A cache hit costs the round trip to the resolver; a miss also its upstream lookup.
    conv.advance_us(conv.rtt_us() + (rng.chance(30) ? rng.log_uniform(4'000, 60'000) : 0));
    message.clear();
    const std::array<std::uint32_t, 1> address{target.ip};
    dns_response(message, id, target.name, kDnsTypeA, address, ttl);
    conv.send_udp(Side::kServer, message);
    if (with_aaaa) {
      message.clear();
      dns_response(message, static_cast<std::uint16_t>(id + 1), target.name, kDnsTypeAaaa, {}, ttl);
      conv.advance_us(rng.between(10, 200));
      conv.send_udp(Side::kServer, message);
    }
  }
};

template <class T>
std::unique_ptr<Scenario> make() {
  return std::make_unique<T>();
}

// The registry: one line per kind — name, help, default weight in the mix, factory.
constexpr ScenarioKind kKinds[] = {
    {"http_json", "HTTP/1.1 POSTs with JSON bodies and JSON responses (port 80/8080)", 5,
     &make<HttpJson>},
    {"tls_hello", "TLS 1.3 to port 443: ClientHello with SNI and ALPN, encrypted exchanges", 3,
     &make<TlsHello>},
    {"dns_query", "DNS A (and AAAA) queries over UDP to the resolver, with answers", 2,
     &make<DnsQuery>},
};

}  // namespace

std::span<const ScenarioKind> scenario_kinds() noexcept { return kKinds; }

}  // namespace tcpr::gen
