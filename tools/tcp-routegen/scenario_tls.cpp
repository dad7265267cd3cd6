// scenario_tls.cpp — TLS 1.3 connections to port 443: tls_hello (any service) and llm_tls (an
// LLM provider's API, recognisable only by its SNI).
//
// Both: a ClientHello as Chrome, Firefox, an OpenSSL-based library or Go writes it (SNI, ALPN),
// the server's ServerHello + ChangeCipherSpec + encrypted flight, the client's ChangeCipherSpec +
// Finished with its first request, then encrypted requests and responses, usually a close_notify.
// An LLM answer is often streamed: many small records, a token or an event each, over time.
#include <fmt/format.h>

#include "scenario_kinds.hpp"
#include "tcp_session.hpp"

namespace tcpr::gen {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::string_view kAlpnH2[] = {"h2", "http/1.1"};
constexpr std::string_view kAlpnH1[] = {"http/1.1"};

struct TlsFlow {
  std::string sni;
  TlsClient client = TlsClient::kOpenSsl;
  bool streamed_answers = false;
};

// Whose TLS stack: percentages for Chrome, Firefox, OpenSSL; the rest is Go.
TlsClient pick_client(Rng& rng, std::uint32_t chrome, std::uint32_t firefox,
                      std::uint32_t openssl) {
  const std::uint64_t r = rng.below(100);
  if (r < chrome) return TlsClient::kChrome;
  if (r < chrome + firefox) return TlsClient::kFirefox;
  return r < chrome + firefox + openssl ? TlsClient::kOpenSsl : TlsClient::kGo;
}

void emit_tls(Conversation& conv, Rng& rng, const TlsFlow& flow) {
  // Finished (4 + 32 bytes with SHA-256) + inner content type + 16-byte AEAD tag.
  constexpr std::size_t kFinishedRecord = kTlsRecordHeader + 53;
  constexpr std::size_t kCloseNotifyRecord = kTlsRecordHeader + 19;
  using Alpn = std::span<const std::string_view>;
  // Python and curl on OpenSSL often offer http/1.1 only; browsers and Go offer h2 first.
  const bool h1_only = flow.client == TlsClient::kOpenSsl && rng.chance(60);
  const Alpn alpn = h1_only ? Alpn(kAlpnH1) : Alpn(kAlpnH2);
  TcpSession tcp(conv, rng);
  tcp.connect();

  Bytes client_flight;
  TlsSessionId session_id{};
  tls_client_hello(client_flight, {flow.sni, alpn, flow.client}, rng, session_id);
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
    if (flow.streamed_answers && rng.chance(60)) {
      // Response head, then one record per flushed event, tens of ms apart.
      tls_app_records(server_flight, rng.between(200, 600), rng);
      conv.advance_us(rng.log_uniform(60'000, 350'000));  // time to the first token
      tcp.send(Side::kServer, server_flight);
      const std::uint64_t events = rng.between(6, 16);
      for (std::uint64_t e = 0; e < events; ++e) {
        server_flight.clear();
        tls_app_records(server_flight, rng.between(90, 600), rng);
        conv.advance_us(rng.between(3'000, 25'000));
        tcp.send(Side::kServer, server_flight);
      }
    } else {
      tls_app_records(server_flight, rng.log_uniform(200, 12'000), rng);
      conv.advance_us(flow.streamed_answers ? rng.log_uniform(50'000, 700'000)
                                            : rng.log_uniform(2'000, 150'000));
      tcp.send(Side::kServer, server_flight);
    }
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

class TlsHello final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "tls_hello"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, 443);
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    TlsFlow flow{std::string(conv.endpoint(Side::kServer).name), pick_client(rng, 35, 15, 35)};
    conv.label().content_class = "tls";
    conv.label().sni = flow.sni;
    emit_tls(conv, rng, flow);
  }
};

// The API host names of LLM providers, as their SDKs connect to them.
std::string llm_sni(Rng& rng) {
  static constexpr std::string_view kHosts[] = {"api.openai.com",
                                                "api.openai.com",
                                                "api.anthropic.com",
                                                "api.anthropic.com",
                                                "generativelanguage.googleapis.com",
                                                "api.mistral.ai",
                                                "api.groq.com",
                                                "api.together.xyz",
                                                "api.cohere.com",
                                                "openrouter.ai",
                                                "api.deepseek.com",
                                                "azure",
                                                "bedrock"};
  static constexpr std::string_view kAzure[] = {"contoso-eastus", "acme-ai-prod", "agents-weu",
                                                "northwind-oai"};
  static constexpr std::string_view kRegions[] = {"us-east-1", "us-west-2", "eu-central-1",
                                                  "ap-northeast-1"};
  using Names = std::span<const std::string_view>;
  const std::string_view host = rng.pick(Names(kHosts));
  if (host == "azure") return fmt::format("{}.openai.azure.com", rng.pick(Names(kAzure)));
  if (host == "bedrock") {
    return fmt::format("bedrock-runtime.{}.amazonaws.com", rng.pick(Names(kRegions)));
  }
  return std::string(host);
}

class LlmTls final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "llm_tls"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, 443);
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    TlsFlow flow{llm_sni(rng), pick_client(rng, 15, 5, 65), true};
    conv.label().content_class = "llm.api";
    conv.label().sni = flow.sni;
    emit_tls(conv, rng, flow);
  }
};

}  // namespace

std::unique_ptr<Scenario> make_tls_hello() { return std::make_unique<TlsHello>(); }
std::unique_ptr<Scenario> make_llm_tls() { return std::make_unique<LlmTls>(); }

}  // namespace tcpr::gen
