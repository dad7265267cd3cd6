// explain (explain.hpp): the frame it builds from a 5-tuple, and each stage's decision for it,
// against what the stages are specified to do: an LLM call classified llm.api with its host; an
// ISOLATED agent stopped at the gate; a QUARANTINED agent let through only to remediation; the
// static egress of the arrival port; a runt dropped at parse.
#include <catch2/catch.hpp>

#include "tcpr/config/config.hpp"
#include "tcpr/pipeline/explain.hpp"

using namespace tcpr;

namespace {

pipeline::ExplainContext context(const behavior::BehaviorConfig* b, std::vector<std::pair<behavior::AgentKey, behavior::Zone>> zones) {
  pipeline::ExplainContext ctx;
  ctx.base.egress = route::StaticEgress({1, 0});
  auto db = classify::ClassDb::parse(config::embedded_classes(), "classes.toml");
  REQUIRE(db.ok());
  ctx.base.classes = db.value();
  ctx.behavior = b;
  ctx.zones = std::move(zones);
  ctx.port_names = {"agents", "world"};
  return ctx;
}

behavior::AgentKey ip_key(const char* text) {
  auto k = behavior::parse_agent(text, behavior::KeyMode::kIp);
  REQUIRE(k.ok());
  return k.value();
}

const std::string kLlm =
    "POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nx-api-key: sk-ant-test\r\n"
    "content-type: application/json\r\ncontent-length: 2\r\n\r\n{}";

}  // namespace

TEST_CASE("explain: the frame built from a 5-tuple", "[pipeline]") {
  auto f = pipeline::build_frame("tcp", "10.1.0.5", 40000, "10.2.0.9", 443, "hello");
  REQUIRE(f.ok());
  const auto& b = f.value();
  REQUIRE(b.size() == 14 + 20 + 20 + 5);
  CHECK((b[12] << 8 | b[13]) == 0x0800);
  CHECK((b[16] << 8 | b[17]) == 20 + 20 + 5);   // IPv4 total length
  CHECK(b[23] == 6);
  // RFC 1071: the one's-complement sum over a header with its checksum is 0xffff.
  std::uint32_t sum = 0;
  for (int i = 14; i < 34; i += 2) sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  CHECK(sum == 0xffff);
  CHECK((b[34] << 8 | b[35]) == 40000);
  CHECK((b[36] << 8 | b[37]) == 443);
  CHECK(b[47] == 0x18);   // PSH|ACK
  CHECK(std::string(b.end() - 5, b.end()) == "hello");
  auto u6 = pipeline::build_frame("udp", "fd00::1", 5353, "fd00::2", 53, "q");
  REQUIRE(u6.ok());
  CHECK(u6.value().size() == 14 + 40 + 8 + 1);
  CHECK(u6.value()[20] == 17);
  CHECK_FALSE(pipeline::build_frame("tcp", "10.1.0.5", 1, "fd00::2", 2, "").ok());
  CHECK_FALSE(pipeline::build_frame("sctp", "10.1.0.5", 1, "10.1.0.6", 2, "").ok());
  CHECK_FALSE(pipeline::build_frame("tcp", "10.1.0.0/24", 1, "10.1.0.6", 2, "").ok());
}

TEST_CASE("explain: each stage's decision", "[pipeline]") {
  behavior::BehaviorConfig bc;
  bc.enabled = true;
  REQUIRE(behavior::parse_prefix_list("10.1.0.0/16", bc.agents).ok());
  REQUIRE(behavior::parse_prefix_list("10.9.0.0/24", bc.remediation).ok());
  const auto llm = pipeline::build_frame("tcp", "10.1.0.5", 40000, "10.2.0.9", 443, kLlm).value();

  SECTION("a MONITORED agent's LLM call passes to the other port, classified") {
    const auto j = pipeline::explain_frame(context(&bc, {{ip_key("10.1.0.5"), TCPR_ZONE_MONITORED}}), llm, 0);
    CHECK(j["parse"]["src"] == "10.1.0.5:40000");
    CHECK(j["flow"]["client"] == "10.1.0.5:40000");
    CHECK(j["classify"]["class"] == "llm.api");
    CHECK(j["classify"]["host"] == "api.anthropic.com");
    CHECK(j["gate"] == "pass");
    CHECK(j["route"]["port"] == "world");
    CHECK(j["verdict"] == "forward to port world");
  }
  SECTION("an ISOLATED agent stops at the gate") {
    const auto j = pipeline::explain_frame(context(&bc, {{ip_key("10.1.0.5"), TCPR_ZONE_ISOLATED}}), llm, 0);
    CHECK(j["agents"][0]["zone"] == "ISOLATED");
    CHECK(j["gate"] == "drop: zone_isolated");
    CHECK(j["verdict"] == "drop: zone_isolated");
  }
  SECTION("a QUARANTINED agent: dropped, except towards remediation") {
    const auto ctx = context(&bc, {{ip_key("10.1.0.5"), TCPR_ZONE_QUARANTINED}});
    CHECK(pipeline::explain_frame(ctx, llm, 0)["verdict"] == "drop: zone_quarantined");
    const auto fix = pipeline::build_frame("tcp", "10.1.0.5", 40000, "10.9.0.7", 443, "GET / HTTP/1.1\r\n\r\n").value();
    CHECK(pipeline::explain_frame(ctx, fix, 0)["gate"] == "pass");
  }
  SECTION("without behaviour the gate is off; a runt stops at parse") {
    const auto ctx = context(nullptr, {});
    CHECK(pipeline::explain_frame(ctx, llm, 1)["gate"] == "off");
    CHECK(pipeline::explain_frame(ctx, llm, 1)["route"]["port"] == "agents");
    const auto j = pipeline::explain_frame(ctx, std::vector<std::uint8_t>(10, 0), 0);
    CHECK(j["parse"]["ok"] == false);
    CHECK(j["verdict"] == "drop: l2_truncated");
  }
}
