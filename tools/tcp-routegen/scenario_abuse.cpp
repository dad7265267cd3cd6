// scenario_abuse.cpp — application-shaped anomalies: exfil_burst, tool_storm, secret_leak,
// prompt_flood.
//
// exfil_burst   HTTP POSTs of 200 KB–2 MB of application/octet-stream to one server, each on a
//               new connection as soon as the previous one closed, for 2.5–3.5 s (at most 32 MB).
// tool_storm    MCP tools/call requests (mcp_exchange) of one session to one server, each on a new
//               connection, arriving as a Poisson process of 20–50 a second.
// secret_leak   one HTTP POST whose JSON body holds an AWS access key id and secret key, a PEM
//               private key, or both (risk_text.hpp: what the router's `secret` rules match).
// prompt_flood  LLM API chat calls (llm_exchange) with 8–32 KB prompts to one gateway, each on a
//               new connection, a Poisson process of 20–50 a second.
#include <fmt/format.h>

#include <vector>

#include "agent_rpc.hpp"
#include "behavior_kinds.hpp"
#include "http_flow.hpp"
#include "http_wire.hpp"
#include "json_text.hpp"
#include "llm_api.hpp"
#include "risk_text.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

using Json = nlohmann::ordered_json;

std::string address(const Host& host, std::uint16_t port) {
  return fmt::format("{}:{}", format_ipv4(host.ip), port);
}

class ExfilBurst final : public AnomalyBase {
 public:
  explicit ExfilBurst(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    target_ = &pick_server(rng);
    port_ = rng.chance(70) ? 80 : 8080;
    end_us_ = onset_us_ + rng.between(2'500'000, 3'500'000);
    name_ = hex_id(rng, 6);
  }

  Json params() const override {
    return {{"target", address(*target_, port_)},
            {"seconds", static_cast<double>(end_us_ - onset_us_) / 1e6}};
  }

 private:
  static constexpr std::uint64_t kMaxBytes = 32'000'000;

  std::unique_ptr<Conversation> build(std::uint64_t k, Rng& rng, bool brief) override {
    auto conv = open(*target_, port_, rng, "exfil_burst");
    const std::string host = host_field(conv->endpoint(Side::kServer));
    const std::string path = fmt::format("/upload/{}.part{:03}", name_, k);
    std::string body(brief ? 200'000 : rng.between(200'000, 2'000'000), '\0');
    rng.fill({reinterpret_cast<std::uint8_t*>(body.data()), body.size()});
    sent_ += body.size();
    label_http(*conv, "http", host, "POST", path);
    HttpFlow http(*conv, rng);
    http.request(http_request("POST", path, host,
                              {{"User-Agent", "curl/8.5.0"},
                               {"Accept", "*/*"},
                               {"Content-Type", "application/octet-stream"}},
                              body));
    http.respond(http_response(201, {{"Content-Type", "application/json"}},
                               fmt::format(R"({{"stored":{},"part":{}}})", body.size(), k)),
                 rng.between(2'000, 30'000));
    http.close(Side::kClient);
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t, std::uint64_t start_us,
                                        std::uint64_t length_us, Rng& rng) override {
    const std::uint64_t next = start_us + length_us + rng.between(200, 5'000);
    if (next >= end_us_ || sent_ >= kMaxBytes) return std::nullopt;
    return next;
  }

  const Host* target_ = nullptr;
  std::uint16_t port_ = 0;
  std::uint64_t end_us_ = 0;
  std::uint64_t sent_ = 0;
  std::string name_;
};

class ToolStorm final : public AnomalyBase {
 public:
  explicit ToolStorm(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    target_ = &pick_server(rng);
    port_ = rng.chance(70) ? 8080 : 3000;
    session_ = uuid4(rng);
    first_id_ = static_cast<std::int64_t>(rng.between(3, 40));
    rate_ = rng.between(20, 50);
  }

  Json params() const override { return {{"target", address(*target_, port_)}, {"rate", rate_}}; }

 private:
  std::unique_ptr<Conversation> build(std::uint64_t k, Rng& rng, bool brief) override {
    static constexpr std::string_view kVersion = "2025-06-18";
    auto conv = open(*target_, port_, rng, "tool_storm");
    const std::string host = host_field(conv->endpoint(Side::kServer));
    const RpcExchange ex =
        mcp_exchange("tools/call", first_id_ + static_cast<std::int64_t>(k), rng, kVersion);
    label_http(*conv, "mcp", host, "tools/call", "/mcp");
    HttpFlow http(*conv, rng);
    http.request(http_request("POST", "/mcp", host,
                              {{"User-Agent", "python-httpx/0.28.1"},
                               {"Accept", "application/json, text/event-stream"},
                               {"Content-Type", "application/json"},
                               {"Mcp-Session-Id", session_},
                               {"MCP-Protocol-Version", std::string(kVersion)}},
                              ex.request));
    http.respond(http_response(200, {{"Content-Type", "application/json"}}, ex.result),
                 rng.log_uniform(2'000, brief ? 20'000 : 150'000));
    http.close(Side::kClient);
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t, std::uint64_t start_us, std::uint64_t,
                                        Rng& rng) override {
    return start_us + exp_gap_us(rng, rate_ * 1'000'000);
  }

  const Host* target_ = nullptr;
  std::uint16_t port_ = 0;
  std::string session_;
  std::int64_t first_id_ = 0;
  std::uint64_t rate_ = 0;
};

class SecretLeak final : public AnomalyBase {
 public:
  explicit SecretLeak(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    target_ = &pick_server(rng);
    port_ = rng.chance(70) ? 80 : 8080;
    const std::uint64_t which = rng.below(4);
    aws_ = which != 2;
    pem_ = which >= 2;
  }

  Json params() const override {
    return {{"target", address(*target_, port_)},
            {"secret", aws_ && pem_ ? "aws+pem"
                       : aws_       ? "aws"
                                    : "pem"}};
  }

 private:
  std::unique_ptr<Conversation> build(std::uint64_t, Rng& rng, bool) override {
    auto conv = open(*target_, port_, rng, "secret_leak");
    const std::string host = host_field(conv->endpoint(Side::kServer));
    std::string body;
    JsonWriter j(body);
    j.object().key("integration").str(words(rng, 1)).key("config").object();
    std::vector<Secret> secrets;
    if (aws_) secrets.push_back(make_secret(rng, SecretKind::kAwsKeyPair));
    if (pem_) secrets.push_back(make_secret(rng, SecretKind::kPrivateKey));
    for (const Secret& secret : secrets) {
      for (const auto& [name, value] : secret.fields) j.key(name).str(value);
    }
    j.key("region").str("eu-west").end().key("notes").str(words(rng, rng.between(20, 200))).end();
    label_http(*conv, "http", host, "POST", "/api/v1/integrations");
    conv->label().tags.push_back("secret");
    HttpFlow http(*conv, rng);
    http.request(http_request(
        "POST", "/api/v1/integrations", host,
        {{"User-Agent", "python-httpx/0.27.0"}, {"Content-Type", "application/json"}}, body));
    http.respond(http_response(200, {{"Content-Type", "application/json"}},
                               fmt::format(R"({{"status":"ok","id":"{}"}})", hex_id(rng, 8))),
                 rng.log_uniform(500, 40'000));
    http.close(Side::kClient);
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t, std::uint64_t, std::uint64_t,
                                        Rng&) override {
    return std::nullopt;  // one request; the agent then goes on with its normal work
  }

  const Host* target_ = nullptr;
  std::uint16_t port_ = 0;
  bool aws_ = true;
  bool pem_ = false;
};

class PromptFlood final : public AnomalyBase {
 public:
  explicit PromptFlood(const AnomalySetup& setup) : AnomalyBase(setup) {
    Rng rng(seed_);
    target_ = &pick_server(rng);
    static constexpr std::uint16_t kPorts[] = {80, 4000, 8080};
    port_ = rng.pick(std::span<const std::uint16_t>(kPorts));
    rate_ = rng.between(20, 50);
  }

  Json params() const override { return {{"target", address(*target_, port_)}, {"rate", rate_}}; }

 private:
  std::unique_ptr<Conversation> build(std::uint64_t, Rng& rng, bool brief) override {
    static constexpr LlmApi kChat[] = {LlmApi::kOpenAiChat, LlmApi::kAnthropicMessages,
                                       LlmApi::kGemini, LlmApi::kCompatibleChat};
    auto conv = open(*target_, port_, rng, "prompt_flood");
    const std::string host = host_field(conv->endpoint(Side::kServer));
    const LlmApi api = rng.pick(std::span<const LlmApi>(kChat));
    // The request body ends up within about a kilobyte of `size` (the rest is the API's).
    const std::uint64_t size = brief ? 9'000 : rng.between(9'000, 32'000);
    const LlmExchange ex = llm_exchange(api, host, rng, {words(rng, size - 1'000), {}});
    label_http(*conv, "llm.api", host, "POST", ex.path);
    HttpFlow http(*conv, rng);
    http.request(ex.request);
    if (ex.streamed) {  // a loaded server: first token late, then tokens close together
      http.stream(ex.response, rng.between(20'000, brief ? 60'000 : 150'000), 200,
                  brief ? 800 : 4'000);
    } else {
      http.respond(ex.response.front(), rng.between(30'000, brief ? 100'000 : 400'000));
    }
    http.close(Side::kClient);
    return conv;
  }
  std::optional<std::uint64_t> next_due(std::uint64_t, std::uint64_t start_us, std::uint64_t,
                                        Rng& rng) override {
    return start_us + exp_gap_us(rng, rate_ * 1'000'000);
  }

  const Host* target_ = nullptr;
  std::uint16_t port_ = 0;
  std::uint64_t rate_ = 0;
};

}  // namespace

std::unique_ptr<AnomalyDriver> exfil_burst_driver(const AnomalySetup& setup) {
  return std::make_unique<ExfilBurst>(setup);
}
std::unique_ptr<AnomalyDriver> tool_storm_driver(const AnomalySetup& setup) {
  return std::make_unique<ToolStorm>(setup);
}
std::unique_ptr<AnomalyDriver> secret_leak_driver(const AnomalySetup& setup) {
  return std::make_unique<SecretLeak>(setup);
}
std::unique_ptr<AnomalyDriver> prompt_flood_driver(const AnomalySetup& setup) {
  return std::make_unique<PromptFlood>(setup);
}

}  // namespace tcpr::gen
