// scenario_web.cpp — other HTTP/1.1 traffic of agents (class http, no tag):
//
// http_get       GETs of HTML pages (a headless browser) or JSON resources (an HTTP client),
//                answered with Content-Length or chunked bodies, now and then a 404.
// http_chunked   POSTs whose request body is sent in chunked transfer coding (a streamed NDJSON
//                or JSON upload), answered with JSON.
// http_nearmiss  requests that look like other classes or tags and are not: a JSON-RPC method
//                "tools/callback" on a webhook API (not MCP), a part number "AKIA" + fewer than
//                16 characters (not an AWS key id), "/v1/chat/completions" inside a JSON string
//                posted to a documentation API (not an LLM call).
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

using Names = std::span<const std::string_view>;
constexpr std::string_view kBrowser =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36";
constexpr std::string_view kClients[] = {"python-httpx/0.27.0", "python-requests/2.31.0",
                                         "node-fetch/3.3.2", "Go-http-client/1.1"};

std::string html_page(Rng& rng, std::size_t approx) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}"
      "</title></head>\n<body><h1>{}</h1>\n",
      words(rng, 20), words(rng, 16));
  while (out.size() < approx) out += fmt::format("<p>{}</p>\n", words(rng, rng.between(60, 400)));
  return out + "</body></html>\n";
}

class HttpGet final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "http_get"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(70) ? 80 : 8080);
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    static constexpr std::string_view kPages[] = {"/", "/docs/getting-started", "/status",
                                                  "/reports/weekly", "/help/faq"};
    static constexpr std::string_view kResources[] = {"/api/v1/items", "/api/v1/status",
                                                      "/api/v2/catalog/search", "/api/v1/orders"};
    const std::string host = host_field(conv.endpoint(Side::kServer));
    const bool browser = rng.chance(40);
    const std::uint64_t gets = rng.chance(35) ? rng.between(2, 3) : 1;
    HttpFlow http(conv, rng);
    for (std::uint64_t i = 0; i < gets; ++i) {
      std::string target(browser ? rng.pick(Names(kPages)) : rng.pick(Names(kResources)));
      if (!browser && rng.chance(60)) {
        target += fmt::format("?q={}&page={}&limit={}", percent_encode(words(rng, 12), true),
                              rng.between(1, 9), 10 * rng.between(1, 10));
      }
      if (i == 0) label_http(conv, "http", host, "GET", target);
      HttpFields request{
          {"User-Agent", std::string(browser ? kBrowser : rng.pick(Names(kClients)))}};
      request.emplace_back("Accept", browser ? "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
                                             : "application/json");
      http.request(http_request("GET", target, host, request));
      const bool missing = rng.chance(7);
      const bool chunk = rng.chance(40);
      const std::string body =
          missing   ? std::string("<html><body><h1>404 Not Found</h1></body></html>\n")
          : browser ? html_page(rng, rng.log_uniform(400, 12'000))
                    : json_task_response(rng, hex_id(rng, 8), rng.log_uniform(100, 6'000));
      HttpFields reply{
          {"Server", "nginx/1.24.0"},
          {"Content-Type", browser || missing ? "text/html; charset=utf-8" : "application/json"}};
      const std::uint64_t work = rng.log_uniform(500, 60'000);
      if (chunk && !missing) {  // the head and the chunks, then the last chunk on its own
        reply.emplace_back("Transfer-Encoding", "chunked");
        std::string text = http_response(200, reply);
        for (const std::string& piece : chunks(body, rng)) text += piece;
        const std::string pieces[] = {text, std::string(kLastChunk)};
        http.stream(pieces, work, 20, 300);
      } else {
        http.respond(http_response(missing ? 404 : 200, reply, body), work);
      }
      http.think();
    }
    http.close(Side::kClient);
  }
};

class HttpChunked final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "http_chunked"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(70) ? 80 : 8080);
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    static constexpr std::string_view kPaths[] = {"/api/v1/bulk", "/api/v1/events/ingest",
                                                  "/api/v1/uploads", "/internal/v1/sync"};
    const std::string host = host_field(conv.endpoint(Side::kServer));
    const std::string_view path = rng.pick(Names(kPaths));
    const bool ndjson = rng.chance(60);
    std::string body;
    if (ndjson) {
      const std::uint64_t lines = rng.between(3, 60);
      for (std::uint64_t i = 0; i < lines; ++i) {
        body += json_task_request(rng, {conv.endpoint(Side::kClient).name, hex_id(rng, 8),
                                        "update_record", rng.log_uniform(80, 600)});
        body += '\n';
      }
    } else {
      body = json_task_request(rng, {conv.endpoint(Side::kClient).name, hex_id(rng, 8), "import",
                                     rng.log_uniform(500, 20'000)});
    }
    label_http(conv, "http", host, "POST", path);
    HttpFlow http(conv, rng);
    // The client library writes the head, then the body chunk by chunk as it serialises it.
    http.request(
        http_request("POST", path, host,
                     {{"User-Agent", std::string(rng.pick(Names(kClients)))},
                      {"Content-Type", ndjson ? "application/x-ndjson" : "application/json"},
                      {"Transfer-Encoding", "chunked"}}));
    for (const std::string& piece : chunks(body, rng)) http.request(piece);
    http.request(kLastChunk);
    const std::string reply = json_task_response(rng, hex_id(rng, 8), rng.log_uniform(60, 1'500));
    http.respond(
        http_response(rng.chance(50) ? 200 : 202, {{"Content-Type", "application/json"}}, reply),
        rng.log_uniform(1'000, 150'000));
    http.close(rng.chance(80) ? Side::kClient : Side::kServer);
  }
};

class HttpNearMiss final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "http_nearmiss"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(70) ? 80 : 8080);
  }
  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    const std::string host = host_field(conv.endpoint(Side::kServer));
    std::string path;
    std::string body;
    JsonWriter j(body);
    switch (rng.below(3)) {
      case 0:  // JSON-RPC-looking, on a webhook API: not MCP
        path = "/api/v1/webhooks/jobs";
        j.object().key("jsonrpc").str("2.0").key("id").num(
            static_cast<std::int64_t>(rng.below(1000)));
        j.key("method").str("tools/callback").key("params").object().key("job").str(hex_id(rng, 8));
        j.key("state").str("done").key("summary").str(words(rng, rng.between(40, 300))).end().end();
        break;
      case 1:  // a part number that starts like an AWS access key id and is too short for one
        path = "/api/v1/inventory/lookup";
        j.object().key("sku").str(short_akia(rng)).key("warehouse").str(words(rng, 1));
        j.key("quantity").num(static_cast<std::int64_t>(rng.between(1, 500)));
        j.key("notes").str(words(rng, rng.between(20, 200))).end();
        break;
      default:  // an LLM path mentioned in a document, posted to a documentation API
        path = "/api/v1/docs";
        j.object().key("title").str("Gateway migration notes").key("body");
        j.str(fmt::format("Clients keep calling /v1/chat/completions on the old gateway; {}",
                          words(rng, rng.between(40, 400))));
        j.key("tags").array().str("gateway").str("migration").end().end();
    }
    label_http(conv, "http", host, "POST", path);
    HttpFlow http(conv, rng);
    http.request(http_request("POST", path, host,
                              {{"User-Agent", std::string(rng.pick(Names(kClients)))},
                               {"Content-Type", "application/json"},
                               {"Accept", "application/json"}},
                              body));
    http.respond(http_response(200, {{"Content-Type", "application/json"}}, R"({"status":"ok"})"),
                 rng.log_uniform(500, 40'000));
    http.close(Side::kClient);
  }
};

}  // namespace

Peer any_server(const Topology& topology, Rng& rng, std::uint16_t port) {
  return {&rng.pick(std::span<const Host>(topology.servers())), port};
}

std::unique_ptr<Scenario> make_http_get() { return std::make_unique<HttpGet>(); }
std::unique_ptr<Scenario> make_http_chunked() { return std::make_unique<HttpChunked>(); }
std::unique_ptr<Scenario> make_http_nearmiss() { return std::make_unique<HttpNearMiss>(); }

}  // namespace tcpr::gen
