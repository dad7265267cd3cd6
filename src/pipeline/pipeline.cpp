#include "tcpr/pipeline/pipeline.hpp"

#include "tcpr/packet/flow_key.hpp"
#include "tcpr/packet/parser.hpp"

namespace tcpr::pipeline {

Pipeline::Pipeline(const PipelineConfig& cfg, flow::FlowSink sink)
    : flows_(cfg.flow, sink), egress_(cfg.egress), expire_budget_(cfg.expire_budget) {
  counters_.egress.resize(egress_.ports());
}

Verdict Pipeline::process_one(const packet::PacketView& pkt) noexcept {
  packet::ParsedPacket p;
  const DropReason r = packet::parse(pkt, p);
  if (r != TCPR_DROP_NONE) return {route::kNoEgress, r};

  std::uint16_t egress = egress_.egress_for(pkt.port);
  packet::FlowKey key;
  packet::Side sender;
  if (packet::key_for(p, key, sender)) {
    bool created = false;
    flow::FlowEntry& f = flows_.update(key, sender, p, pkt.wire_len, pkt.ts_ns, created);
    if (created) {
      f.ingress_port = pkt.port;
      f.egress = egress == route::kNoEgress ? flow::kEgressDrop : egress;
    }
  } else {
    ++counters_.no_flow;
  }
  if (egress == route::kNoEgress) return {route::kNoEgress, TCPR_DROP_NO_EGRESS};
  return {egress, TCPR_DROP_NONE};
}

void Pipeline::process(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept {
  std::uint64_t now = 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    const Verdict v = process_one(pkts[i]);
    out[i] = v;
    ++counters_.packets;
    counters_.bytes += pkts[i].wire_len;
    if (v.drop != TCPR_DROP_NONE) {
      counters_.drops.add(v.drop);
    } else if (v.egress < counters_.egress.size()) {
      ++counters_.egress[v.egress].packets;
      counters_.egress[v.egress].bytes += pkts[i].wire_len;
    }
    if (pkts[i].ts_ns > now) now = pkts[i].ts_ns;
  }
  // Incremental ageing: a bounded amount of work per burst, on the burst's clock.
  if (n != 0) flows_.expire(now, expire_budget_);
}

}  // namespace tcpr::pipeline
