// scenario_risk.cpp — conversations carrying risk content (risk_text.hpp); the tag is set here,
// the class is the carrier's.
//
// secret_leak  a secret where no credential belongs, in one of these carriers:
//              http: a JSON body, a URL query, an urlencoded form, a multipart file upload (an
//              AWS credentials file, id_rsa, a .env), a non-credential header (X-Debug-Context),
//              or an sk- API key as the Bearer credential of a non-LLM API;
//              llm.api: pasted into the user's message of an LLM API call;
//              mcp: in the arguments of an MCP tools/call.
// shell_cmd    a shell command in a request body: an MCP tools/call (mcp), a job-runner API's JSON
//              body (http), or an earlier tool call replayed in an LLM API conversation (llm.api).
#include <fmt/format.h>

#include "codec.hpp"
#include "http_flow.hpp"
#include "http_wire.hpp"
#include "json_text.hpp"
#include "risk_text.hpp"
#include "scenario_kinds.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

using Fields = std::vector<std::pair<std::string_view, std::string>>;
constexpr std::string_view kClient = "python-httpx/0.27.0";

// One request and a short JSON answer on a fresh connection; labels it as http.
void single_request(Conversation& conv, Rng& rng, std::string_view method, std::string_view target,
                    const HttpFields& fields, std::string_view body) {
  const std::string host = host_field(conv.endpoint(Side::kServer));
  label_http(conv, "http", host, method, target);
  HttpFlow http(conv, rng);
  http.request(http_request(method, target, host, fields, body));
  http.respond(http_response(200, {{"Content-Type", "application/json"}},
                             fmt::format(R"({{"status":"ok","id":"{}"}})", hex_id(rng, 8))),
               rng.log_uniform(500, 40'000));
  http.close(Side::kClient);
}

std::string secret_json(Rng& rng, const Secret& secret) {
  std::string body;
  JsonWriter j(body);
  j.object().key("integration").str(words(rng, 1)).key("config").object();
  for (const auto& [name, value] : secret.fields) j.key(name).str(value);
  j.key("region").str("eu-west").end().key("notes").str(words(rng, rng.between(20, 200))).end();
  return body;
}

std::string secret_lines(const Secret& secret, std::string_view sep) {
  std::string out;
  for (const auto& [name, value] : secret.fields) out += fmt::format("{}{}{}\n", name, sep, value);
  return out;
}

void leak_over_http(Conversation& conv, Rng& rng, int carrier) {
  const HttpFields json_fields{{"User-Agent", std::string(kClient)},
                               {"Content-Type", "application/json"}};
  Secret secret = make_secret(rng);
  if (secret.multiline() && (carrier == 1 || carrier == 4)) {
    secret = make_secret(rng, SecretKind::kGithubToken);  // a PEM block fits no query or header
  }
  switch (carrier) {
    case 0:
      return single_request(conv, rng, "POST", "/api/v1/integrations", json_fields,
                            secret_json(rng, secret));
    case 1: {
      std::string target = fmt::format("/api/v1/export?format=csv&limit={}", rng.between(10, 500));
      for (const auto& [name, value] : secret.fields) {
        target += fmt::format("&{}={}", name, percent_encode(value, true));
      }
      return single_request(conv, rng, "GET", target, {{"User-Agent", std::string(kClient)}}, {});
    }
    case 2: {
      Fields pairs{{"name", words(rng, 1)}, {"enabled", "true"}};
      pairs.insert(pairs.end(), secret.fields.begin(), secret.fields.end());
      return single_request(conv, rng, "POST", "/settings/integrations",
                            {{"User-Agent", std::string(kClient)},
                             {"Content-Type", "application/x-www-form-urlencoded"}},
                            form_body(pairs));
    }
    case 3: {
      const std::string boundary = hex_id(rng, 16);
      SecretFile file = secret_file(rng, secret);
      const FormPart parts[] = {{"description", {}, {}, words(rng, rng.between(10, 60))},
                                {"file", file.name, file.content_type, std::move(file.content)}};
      return single_request(conv, rng, "POST", "/api/v1/files",
                            {{"User-Agent", std::string(kClient)},
                             {"Content-Type", "multipart/form-data; boundary=" + boundary}},
                            multipart_body(boundary, parts));
    }
    case 4: {
      std::string context = fmt::format("agent={}", conv.endpoint(Side::kClient).name);
      for (const auto& [name, value] : secret.fields)
        context += fmt::format("; {}={}", name, value);
      return single_request(conv, rng, "GET", "/api/v1/status",
                            {{"User-Agent", std::string(kClient)}, {"X-Debug-Context", context}},
                            {});
    }
    default: {  // an LLM-style key used as the credential of an unrelated API
      HttpFields fields = json_fields;
      fields.emplace_back("Authorization", "Bearer " + openai_key(rng));
      const std::string body =
          json_task_request(rng, {conv.endpoint(Side::kClient).name, hex_id(rng, 8), "search",
                                  rng.log_uniform(120, 1'500)});
      return single_request(conv, rng, "POST", "/api/v1/search", fields, body);
    }
  }
}

class SecretLeak final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "secret_leak"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(70) ? 80 : 8080);
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    const std::uint64_t carrier = rng.below(8);
    if (carrier < 6) {
      leak_over_http(conv, rng, static_cast<int>(carrier));
    } else if (carrier == 6) {
      const Secret secret = make_secret(rng);
      emit_llm_http(
          conv, rng,
          {fmt::format("Here is the config that fails:\n{}", secret_lines(secret, " = ")), {}});
    } else {
      const Secret secret = make_secret(rng);
      std::string args;
      JsonWriter j(args);
      j.object().key("service").str(words(rng, 1));
      for (const auto& [name, value] : secret.fields) j.key(name).str(value);
      j.end();
      emit_mcp_session(conv, rng, ToolCall{"configure_integration", args});
    }
    conv.label().tags.push_back("secret");
  }
};

class ShellCmd final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "shell_cmd"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(70) ? 80 : 8080);
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    const std::string command = shell_command(rng);
    const std::uint64_t carrier = rng.below(10);
    if (carrier < 4) {
      std::string args;
      JsonWriter(args).object().key("command").str(command).key("timeout").num(30).end();
      emit_mcp_session(conv, rng, ToolCall{"run_command", args});
    } else if (carrier < 7) {
      std::string body;
      JsonWriter(body).object().key("job").str(hex_id(rng, 6)).key("cmd").str(command).end();
      single_request(conv, rng, "POST", "/internal/v1/jobs/run",
                     {{"User-Agent", std::string(kClient)}, {"Content-Type", "application/json"}},
                     body);
    } else {
      emit_llm_http(conv, rng, {{}, command});
    }
    conv.label().tags.push_back("shell");
  }
};

}  // namespace

std::unique_ptr<Scenario> make_secret_leak() { return std::make_unique<SecretLeak>(); }
std::unique_ptr<Scenario> make_shell_cmd() { return std::make_unique<ShellCmd>(); }

}  // namespace tcpr::gen
