// scenario_llm.cpp — llm_http: LLM API calls in clear HTTP/1.1 (see llm_api.hpp).
//
// An agent calls one API once or twice on a keep-alive connection to its LLM gateway, vLLM
// or Ollama; non-streamed answers come after the model's whole generation time, streamed ones
// after the time to the first token, then event by event. Label: class llm.api, the first call's
// path; the credential header is the API's own, so no tag.
#include "http_flow.hpp"
#include "http_wire.hpp"
#include "scenario_kinds.hpp"

namespace tcpr::gen {
namespace {

class LlmHttp final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "llm_http"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, pick_llm_port(rng));
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    emit_llm_http(conv, rng, {});
  }
};

}  // namespace

void emit_llm_http(Conversation& conv, Rng& rng, const LlmExtras& extras) {
  const Endpoint& server = conv.endpoint(Side::kServer);
  const std::string host = host_field(server);
  const std::uint64_t calls = rng.chance(20) ? 2 : 1;
  LlmApi api = pick_llm_api(server.port, rng, extras);
  HttpFlow http(conv, rng);
  for (std::uint64_t i = 0; i < calls; ++i) {
    const LlmExchange ex = llm_exchange(api, host, rng, i == 0 ? extras : LlmExtras{});
    if (i == 0) label_http(conv, "llm.api", host, "POST", ex.path);
    http.request(ex.request);
    if (ex.streamed) {
      http.stream(ex.response, rng.log_uniform(60'000, 400'000), 3'000, 25'000);
    } else {  // the whole generation time; kept short so conversations stay under 2 s
      http.respond(ex.response.front(), rng.log_uniform(50'000, 700'000));
    }
    http.think();
    api = pick_llm_api(server.port, rng, {});  // agents mix endpoints of one gateway
  }
  http.close(Side::kClient);
}

std::unique_ptr<Scenario> make_llm_http() { return std::make_unique<LlmHttp>(); }

}  // namespace tcpr::gen
