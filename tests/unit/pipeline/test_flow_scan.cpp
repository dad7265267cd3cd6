// The flows query (flow_scan.hpp): a worker's largest flows by bytes, walked a slice at a time
// between bursts; filtered by class and by agent. Expected tops are the flows' own byte counts,
// summed by hand from the frame sizes below.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../support/frames.hpp"
#include "tcpr/config/config.hpp"
#include "tcpr/pipeline/pipeline.hpp"

using namespace tcpr;

namespace {

packet::PacketView view(const std::vector<std::uint8_t>& f, std::uint64_t ts) {
  return {f.data(), static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()), 0, ts};
}

// Polls until the box has its answer; returns how many polls it took.
int run_scan(pipeline::Pipeline& pl, pipeline::FlowScanBox& box) {
  int polls = 0;
  while (!box.done() && polls < 1000) {
    pl.poll();
    ++polls;
  }
  return polls;
}

}  // namespace

TEST_CASE("flows query: the top flows by bytes, a slice per poll, by class and by agent", "[pipeline]") {
  pipeline::PipelineConfig cfg;
  cfg.flow.capacity = 10000;   // 3 slices of kSliceEntries = 4096
  cfg.egress = route::StaticEgress({1, 0});
  auto db = classify::ClassDb::parse(config::embedded_classes(), "classes.toml");
  REQUIRE(db.ok());
  cfg.classes = db.value();
  pipeline::Pipeline pl(cfg, pipeline::ReportSink{});
  pipeline::FlowScanBox box;
  pl.set_flow_scan_box(&box);

  // Flow i (client 10.0.0.i:4000+i → 10.0.1.1:80) carries i data packets of 100 payload bytes:
  // 154-byte frames (14 + 20 + 20 + 100), so i·154 bytes. Flow 7 is an LLM API call instead.
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::uint8_t i = 1; i <= 10; ++i)
    for (std::uint8_t k = 0; k < i; ++k)
      frames.push_back(test::tcp4({10, 0, 0, i}, static_cast<std::uint16_t>(4000 + i), {10, 0, 1, 1}, 80, packet::kTcpAck, 100));
  const std::string llm =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nAuthorization: Bearer sk-x\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  const auto llm_frame = test::tcp4_data({10, 0, 0, 50}, 5000, {10, 0, 1, 2}, 443, 1, llm);
  frames.push_back(llm_frame);
  std::vector<packet::PacketView> views;
  std::uint64_t ts = 1'000'000'000;
  for (const auto& f : frames) views.push_back(view(f, ts += 1000));
  std::vector<pipeline::Verdict> v(views.size());
  for (std::size_t off = 0; off < views.size(); off += 32) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(32, views.size() - off));
    pl.process(views.data() + off, n, v.data() + off);
  }

  SECTION("top 3 of everything: flows 10, 9, 8") {
    REQUIRE(box.ask({3, "", std::nullopt}));
    CHECK_FALSE(box.ask({3, "", std::nullopt}));   // one query at a time
    CHECK(run_scan(pl, box) == 3);                  // 10000 entries, 4096 a poll
    const auto top = box.take();
    REQUIRE(top.size() == 3);
    CHECK(top[0].bytes == 10 * 154);
    CHECK(top[0].packets == 10);
    CHECK(top[1].bytes == 9 * 154);
    CHECK(top[2].bytes == 8 * 154);
    CHECK(top[0].key.port_a + top[0].key.port_b == 80 + 4010);
    // The box is free again.
    CHECK(box.ask({1, "", std::nullopt}));
    run_scan(pl, box);
    CHECK(box.take().size() == 1);
  }
  SECTION("one class") {
    REQUIRE(box.ask({5, "llm.api", std::nullopt}));
    run_scan(pl, box);
    const auto top = box.take();
    REQUIRE(top.size() == 1);
    CHECK(top[0].cls == "llm.api");
    CHECK(top[0].bytes == llm_frame.size());
  }
  SECTION("one agent") {
    const std::uint8_t a4[4] = {10, 0, 0, 4};
    REQUIRE(box.ask({5, "", packet::IpAddr::from_v4(a4)}));
    run_scan(pl, box);
    const auto top = box.take();
    REQUIRE(top.size() == 1);
    CHECK(top[0].bytes == 4 * 154);
  }
  SECTION("more asked than there are: all 11, largest first") {
    REQUIRE(box.ask({100, "", std::nullopt}));
    run_scan(pl, box);
    const auto top = box.take();
    REQUIRE(top.size() == 11);
    for (std::size_t i = 1; i < top.size(); ++i) CHECK(top[i - 1].bytes >= top[i].bytes);
  }
}
