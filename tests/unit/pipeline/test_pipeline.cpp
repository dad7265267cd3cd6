// The pipeline: verdicts, drop counting, flows and the static egress, on hand-built frames.
#include <catch2/catch.hpp>

#include <vector>

#include "../support/frames.hpp"
#include "tcpr/pipeline/pipeline.hpp"

using namespace tcpr;
using tcpr::test::tcp4;

namespace {
packet::PacketView view(const std::vector<std::uint8_t>& f, std::uint16_t port, std::uint64_t ts) {
  return {f.data(), static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()), port, ts};
}
}  // namespace

TEST_CASE("a burst gets one verdict per packet and drops are counted by reason", "[pipeline]") {
  pipeline::PipelineConfig cfg;
  cfg.flow.capacity = 16;
  // Port 0 -> 1, port 1 -> 0, port 2 has no egress.
  cfg.egress = route::StaticEgress({1, 0, route::kNoEgress});
  pipeline::Pipeline pl(cfg, pipeline::ReportSink{});

  const auto syn = tcp4({10, 0, 0, 5}, 40000, {10, 0, 0, 1}, 443, packet::kTcpSyn);
  const auto synack = tcp4({10, 0, 0, 1}, 443, {10, 0, 0, 5}, 40000, packet::kTcpSyn | packet::kTcpAck);
  const auto data = tcp4({10, 0, 0, 5}, 40000, {10, 0, 0, 1}, 443, packet::kTcpAck, 100);
  auto bad_ihl = data;
  bad_ihl[14] = 0x44;  // IHL 4 < 5
  const auto arp = test::arp_request();
  const std::vector<std::uint8_t> runt(10, 0);

  const packet::PacketView burst[] = {view(syn, 0, 1000), view(synack, 1, 2000), view(data, 0, 3000),
                                      view(bad_ihl, 0, 4000), view(arp, 0, 5000), view(runt, 0, 6000),
                                      view(data, 2, 7000)};
  pipeline::Verdict v[7];
  pl.process(burst, 7, v);

  CHECK(v[0].drop == TCPR_DROP_NONE);
  CHECK(v[0].egress == 1);
  CHECK(v[1].egress == 0);
  CHECK(v[2].egress == 1);
  CHECK(v[3].drop == TCPR_DROP_IPV4_BAD_IHL);
  CHECK(v[4].drop == TCPR_DROP_NONE);  // ARP passes by its port's egress, outside any flow
  CHECK(v[4].egress == 1);
  CHECK(v[5].drop == TCPR_DROP_L2_TRUNCATED);
  CHECK(v[6].drop == TCPR_DROP_NO_EGRESS);

  const auto& c = pl.counters();
  CHECK(c.packets == 7);
  CHECK(c.bytes == syn.size() + synack.size() + 2 * data.size() + bad_ihl.size() + arp.size() + runt.size());
  CHECK(c.drops[TCPR_DROP_IPV4_BAD_IHL] == 1);
  CHECK(c.drops[TCPR_DROP_L2_TRUNCATED] == 1);
  CHECK(c.drops[TCPR_DROP_NO_EGRESS] == 1);
  CHECK(c.drops.total() == 3);
  CHECK(c.no_flow == 1);
  CHECK(c.egress[1].packets == 3);  // syn, data, arp
  CHECK(c.egress[0].packets == 1);  // synack
  CHECK(pl.flows().size() == 1);    // all four TCP packets, both directions, one flow
}

TEST_CASE("the flow remembers where it came in and where it goes", "[pipeline]") {
  pipeline::PipelineConfig cfg;
  cfg.flow.capacity = 4;
  cfg.egress = route::StaticEgress({route::kNoEgress, 0});
  std::vector<flow::FlowEntry> ended;
  pipeline::ReportSink sink{&ended, [](void* ctx, const pipeline::FlowReport& r) {
                              static_cast<std::vector<flow::FlowEntry>*>(ctx)->push_back(*r.flow);
                            }};
  pipeline::Pipeline pl(cfg, sink);
  const auto a = tcp4({10, 0, 0, 5}, 40000, {10, 0, 0, 1}, 443, packet::kTcpSyn);
  const auto b = tcp4({10, 0, 0, 6}, 40000, {10, 0, 0, 1}, 443, packet::kTcpSyn);
  const packet::PacketView burst[] = {view(a, 1, 1), view(b, 0, 2)};
  pipeline::Verdict v[2];
  pl.process(burst, 2, v);
  pl.flows().drain();
  REQUIRE(ended.size() == 2);
  for (const auto& f : ended) {
    if (f.ingress_port == 1) CHECK(f.egress == 0);
    else CHECK(f.egress == flow::kEgressDrop);
  }
}
