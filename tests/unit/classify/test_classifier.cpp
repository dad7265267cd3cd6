// The classify stage on hand-made streams: order, gaps, priorities, ports, credentials, depth,
// reload. Class rules here are small and inline so each test shows the behaviour it pins.
#include <catch2/catch.hpp>

#include <string>

#include "../support/frames.hpp"
#include "tcpr/classify/classifier.hpp"
#include "tcpr/packet/parser.hpp"

using namespace tcpr;
using namespace tcpr::classify;

namespace {

constexpr const char* kRules = R"(
[[class]]
name = "alpha"
priority = 10
[[class.rule]]
on = "c2s"
literal = "HELLO-ALPHA"

[[class]]
name = "beta"
priority = 20
[[class.rule]]
on = "c2s"
literal = "beta!"
[[class.rule]]
on = "s2c"
regex = '^BETA-SERVER'

[[class]]
name = "ported"
priority = 30
[[class.rule]]
on = "c2s"
literal = "PORTED"
ports = [7777]

[[class]]
name = "llm.api"
priority = 40
[[class.rule]]
on = "path"
glob = "/v1/chat/completions"

[[class]]
name = "http"
priority = 1
[[class.rule]]
on = "method"
regex = '^[A-Z]+$'

[[tag]]
name = "secret"
[[tag.rule]]
kind = "api_key"
on = "c2s"
regex = 'sk-[A-Za-z0-9]{20,}'
credential = true
)";

std::shared_ptr<const ClassDb> db(const char* text = kRules) {
  auto r = ClassDb::parse(text, "test.toml");
  REQUIRE(r.ok());
  return r.value();
}

struct Feeder {
  Classifier& c;
  std::uint32_t flow;
  std::uint16_t server_port;
  void send(bool from_client, std::uint32_t seq, std::string_view payload) {
    const auto f = from_client ? test::tcp4_data({10, 0, 0, 5}, 40000, {10, 0, 0, 1}, server_port, seq, payload)
                               : test::tcp4_data({10, 0, 0, 1}, server_port, {10, 0, 0, 5}, 40000, seq, payload);
    packet::PacketView v{f.data(), static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()), 0, 0};
    packet::ParsedPacket p;
    REQUIRE(packet::parse(v, p) == TCPR_DROP_NONE);
    c.on_packet(flow, from_client, server_port, p, f.data(), static_cast<std::uint32_t>(f.size()));
  }
};

std::string class_of(const Classifier& c, std::uint32_t flow) {
  return c.db_of(flow).classes()[c.state(flow).class_id].name;
}

}  // namespace

TEST_CASE("a pattern split across segments matches; the verdict packet is counted", "[classify]") {
  Classifier c(ClassifyConfig{}, 8, db());
  c.start_flow(0);
  Feeder f{c, 0, 9000};
  f.send(true, 1000, "xxHELLO-");
  CHECK(class_of(c, 0) == "unknown");
  f.send(true, 1008, "ALPHAyy");
  CHECK(class_of(c, 0) == "alpha");
  CHECK(c.state(0).verdict_packet == 2);
}

TEST_CASE("the higher priority wins whatever the order", "[classify]") {
  Classifier c(ClassifyConfig{}, 8, db());
  c.start_flow(1);
  Feeder f{c, 1, 9000};
  f.send(true, 1, "beta! then HELLO-ALPHA");
  CHECK(class_of(c, 1) == "beta");
  c.start_flow(2);
  Feeder g{c, 2, 9000};
  g.send(false, 1, "BETA-SERVER hi");
  CHECK(class_of(c, 2) == "beta");
}

TEST_CASE("a rule with ports counts only on those server ports", "[classify]") {
  Classifier c(ClassifyConfig{}, 8, db());
  c.start_flow(0);
  Feeder{c, 0, 7777}.send(true, 1, "PORTED");
  CHECK(class_of(c, 0) == "ported");
  c.start_flow(1);
  Feeder{c, 1, 7778}.send(true, 1, "PORTED");
  CHECK(class_of(c, 1) == "unknown");
}

TEST_CASE("retransmitted bytes are not scanned twice; a gap is skipped and counted", "[classify]") {
  Classifier c(ClassifyConfig{}, 8, db());
  c.start_flow(0);
  Feeder f{c, 0, 9000};
  f.send(true, 100, "HELLO-");
  f.send(true, 100, "HELLO-");        // retransmission: ignored
  f.send(true, 106, "ALPHA");         // continues the stream
  CHECK(class_of(c, 0) == "alpha");
  CHECK(c.counters().gaps == 0);
  CHECK(c.counters().bytes_scanned == 11);

  c.start_flow(1);
  Feeder g{c, 1, 9000};
  g.send(true, 100, "HELLO-");
  g.send(true, 200, "ALPHA");         // 94 bytes missing: the halves must not join
  CHECK(c.counters().gaps == 1);
  CHECK(class_of(c, 1) == "unknown");
  g.send(true, 205, "HELLO-ALPHA");   // after a gap the direction is no longer inspected
  CHECK(class_of(c, 1) == "unknown");
  CHECK(c.counters().bytes_scanned == 11 + 6);
}

TEST_CASE("an API key in Authorization to an LLM API is the agent's own", "[classify]") {
  Classifier c(ClassifyConfig{}, 8, db());
  const std::string key = "sk-abcdefghijklmnopqrstuvwxyz012345";
  c.start_flow(0);
  Feeder{c, 0, 80}.send(true, 1, "POST /v1/chat/completions HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer " + key +
                                   "\r\nContent-Length: 0\r\n\r\n");
  c.end_flow(0);
  CHECK(class_of(c, 0) == "llm.api");
  CHECK(c.state(0).tags == 0);

  // The same header to another API, and the key in a body: tagged.
  c.start_flow(1);
  Feeder{c, 1, 80}.send(true, 1, "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
                                   "\r\nContent-Length: 0\r\n\r\n");
  c.end_flow(1);
  CHECK(class_of(c, 1) == "http");
  CHECK(c.state(1).tags == 1);
  c.start_flow(2);
  Feeder{c, 2, 80}.send(true, 1, "POST /v1/chat/completions HTTP/1.1\r\nHost: api\r\nContent-Length: 60\r\n\r\n{\"k\":\"" +
                                   key + "\"}");
  c.end_flow(2);
  CHECK(c.state(2).tags == 1);
  // Reported by kind and hash only.
  CHECK(c.db_of(2).kinds()[c.meta(2).secrets[0].kind] == "api_key");
  CHECK(c.meta(2).secrets[0].hash != 0);
}

TEST_CASE("inspection stops at the depth", "[classify]") {
  ClassifyConfig cfg;
  cfg.inspect_depth = 64;
  cfg.head_bytes = 64;
  Classifier c(cfg, 8, db());
  c.start_flow(0);
  Feeder f{c, 0, 9000};
  f.send(true, 1, std::string(60, '.'));
  f.send(true, 61, "HELLO-ALPHA");   // crosses byte 64: only 4 bytes scanned
  CHECK(class_of(c, 0) == "unknown");
  CHECK(c.counters().bytes_scanned == 64);
  f.send(true, 72, "HELLO-ALPHA");   // past the depth: not looked at
  CHECK(c.counters().bytes_scanned == 64);
  CHECK(class_of(c, 0) == "unknown");
}

TEST_CASE("a reload keeps flows under inspection on their database", "[classify]") {
  Classifier c(ClassifyConfig{}, 8, db());
  c.start_flow(0);
  Feeder f{c, 0, 9000};
  f.send(true, 1, "HELLO-");
  // The new database has no "alpha" class: the old flow still completes its match.
  auto gamma = db(R"([[class]]
name = "gamma"
[[class.rule]]
on = "c2s"
literal = "GAMMA"
)");
  REQUIRE(c.set_db(gamma));
  f.send(true, 7, "ALPHA");
  CHECK(class_of(c, 0) == "alpha");
  c.start_flow(1);
  Feeder g{c, 1, 9000};
  g.send(true, 1, "GAMMA HELLO-ALPHA");
  CHECK(class_of(c, 1) == "gamma");
  c.end_flow(0);
  c.retire(0);
  c.end_flow(1);
  c.retire(1);
}

TEST_CASE("a reload waits while every generation still holds flows", "[classify]") {
  Classifier c(ClassifyConfig{}, 8, db());
  // Generation 0 holds flow 0; three reloads fill generations 1-3, each holding one flow.
  c.start_flow(0);
  for (std::uint32_t f = 1; f < Classifier::kGenerations; ++f) {
    auto d = db();
    REQUIRE(c.set_db(d));
    c.start_flow(f);
  }
  auto next = db();
  CHECK_FALSE(c.set_db(next));        // no free generation: deferred, nothing cut
  CHECK(next != nullptr);
  CHECK(c.counters().reload_deferred == 1);
  c.end_flow(0);
  c.retire(0);                        // generation 0 is free again
  CHECK(c.set_db(next));
}

TEST_CASE("shipped rules: near misses stay clean, the real thing is tagged", "[classify]") {
  auto shipped = ClassDb::load(TCPR_SOURCE_DIR "/config/classes.toml");
  REQUIRE(shipped.ok());
  Classifier c(ClassifyConfig{}, 8, shipped.value());
  const auto tags_of = [&](std::uint32_t flow, const std::string& bytes) {
    c.start_flow(flow);
    Feeder{c, flow, 8080}.send(true, 1, bytes);
    c.end_flow(flow);
    return c.state(flow).tags;
  };
  // OpenSSH key-type names (RFC 8709 style "sk-" security-key algorithms) are not API keys.
  CHECK(tags_of(0, "SSH-2.0-x\r\nsk-ecdsa-sha2-nistp256-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com") == 0);
  // "AKIA" followed by fewer than 16 key characters.
  CHECK(tags_of(1, "POST /notes HTTP/1.1\r\nHost: n\r\nContent-Length: 20\r\n\r\n{\"id\":\"AKIA12345\"}") == 0);
  // A JSON-RPC-looking method that is not MCP's.
  CHECK(tags_of(2, "POST /rpc HTTP/1.1\r\nHost: n\r\nContent-Length: 50\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"tools/callback\"}") == 0);
  CHECK(class_of(c, 2) == "http");
  // An OpenAI project key in a body is a leak; 16 key characters after AKIA are an AWS key id.
  CHECK(tags_of(3, "POST /paste HTTP/1.1\r\nHost: p\r\nContent-Length: 60\r\n\r\nsk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0123") != 0);
  CHECK(tags_of(4, "GET /x?k=AKIAIOSFODNN7EXAMPLE HTTP/1.1\r\nHost: p\r\n\r\n") != 0);
  // "AIza" + 35 key characters inside a longer base64 run (an AWS session token, as tcp-routegen
  // wrote one) is chance, not a Google key; the same key standing alone in a URL is a leak.
  CHECK(tags_of(5, "POST /model/m/invoke HTTP/1.1\r\nHost: b\r\nX-Amz-Security-Token: "
                   "fUS2aqn1qIh8KAIzadHmO8CfU1Bpte76B5uuDncqrInTiU7MDAyXq69DYoGYq+AIzadHmO8CfU1Bpte76B5uuDncqrInTiU7MDAyX==\r\n\r\n") == 0);
  CHECK(tags_of(6, "GET /v1/models?key=AIzadHmO8CfU1Bpte76B5uuDncqrInTiU7MDAyX HTTP/1.1\r\nHost: p\r\n\r\n") != 0);
}
