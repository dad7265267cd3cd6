// pipeline.hpp — the per-worker packet path, DPDK-free: one burst of PacketViews in, one Verdict
// per packet out.
//
//   parse ─▶ flow table ─▶ route (static egress) ─▶ verdict
//
// Later stages slot in between flow and route (classify, agent statistics, zone gate). A packet
// ends as "emit on egress port E" or "drop with reason R"; drops are counted per reason in
// `counters().drops`. Packets that have no flow (ARP, non-IP, later IP fragments) skip the flow
// table and are routed on their ingress port alone; they are counted.
//
// Owned by one worker; not thread-safe by design. Nothing here allocates per packet.
#pragma once

#include <cstdint>
#include <vector>

#include "tcpr/flow/flow_table.hpp"
#include "tcpr/packet/drop.hpp"
#include "tcpr/packet/packet_view.hpp"
#include "tcpr/route/static_egress.hpp"

namespace tcpr::pipeline {

struct Verdict {
  std::uint16_t egress = route::kNoEgress;  // port index when drop == NONE
  DropReason drop = TCPR_DROP_NONE;
};

struct PortCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

struct PipelineCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t no_flow = 0;       // ARP, non-IP, later fragments
  DropCounters drops;
  std::vector<PortCounters> egress;  // per egress port index: what the pipeline sent there
};

struct PipelineConfig {
  flow::FlowTableConfig flow;
  std::uint32_t expire_budget = 64;
  route::StaticEgress egress;
};

class Pipeline {
 public:
  Pipeline(const PipelineConfig& cfg, flow::FlowSink sink);

  void process(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept;

  // Ages idle flows on a worker that has no packets to process (live mode's drain timer).
  void age(std::uint64_t now_ns) noexcept { flows_.expire(now_ns, expire_budget_); }

  // Counts a drop decided outside the pipeline (e.g. a full TX queue).
  void count_drop(DropReason r) noexcept { counters_.drops.add(r); }

  const PipelineCounters& counters() const noexcept { return counters_; }
  flow::FlowTable& flows() noexcept { return flows_; }

 private:
  Verdict process_one(const packet::PacketView& pkt) noexcept;

  flow::FlowTable flows_;
  route::StaticEgress egress_;
  std::uint32_t expire_budget_;
  PipelineCounters counters_;
};

}  // namespace tcpr::pipeline
