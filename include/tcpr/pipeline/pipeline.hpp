// pipeline.hpp — the per-worker packet path, DPDK-free: one burst of PacketViews in, one Verdict
// per packet out.
//
//   parse ─▶ flow table ─▶ classify ─▶ route (static egress) ─▶ verdict
//
// Later stages slot in between classify and route (agent statistics, zone gate). Classification
// runs when the config carries a ClassDb; a flow's verdict reaches the ReportSink when the flow
// ends (expired, evicted, or drained at the end of a replay). A packet
// ends as "emit on egress port E" or "drop with reason R"; drops are counted per reason in
// `counters().drops`. Packets that have no flow (ARP, non-IP, later IP fragments) skip the flow
// table and are routed on their ingress port alone; they are counted.
//
// Owned by one worker; not thread-safe by design. Nothing here allocates per packet.
#pragma once

#include <cstdint>
#include <vector>

#include "tcpr/classify/classifier.hpp"
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
  classify::ClassifyConfig classify;
  std::shared_ptr<const classify::ClassDb> classes;  // null: no classification
};

// What an ended flow leaves: valid only during the sink call.
struct FlowReport {
  const flow::FlowEntry* flow = nullptr;
  const classify::FlowClass* cls = nullptr;   // null without classification
  const classify::FlowMeta* meta = nullptr;
  const classify::ClassDb* db = nullptr;      // the database cls refers to
  flow::EndReason why = flow::EndReason::kDrained;
};

struct ReportSink {
  void* ctx = nullptr;
  void (*fn)(void* ctx, const FlowReport& r) = nullptr;
};

class Pipeline {
 public:
  Pipeline(const PipelineConfig& cfg, ReportSink sink);

  void process(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept;

  // Ages idle flows on a worker that has no packets to process (live mode's drain timer).
  void age(std::uint64_t now_ns) noexcept { flows_.expire(now_ns, expire_budget_); }

  // Counts a drop decided outside the pipeline (e.g. a full TX queue).
  void count_drop(DropReason r) noexcept { counters_.drops.add(r); }

  // A new class database (reload), taken between bursts; held and offered again at the next
  // burst while the classifier has no free generation.
  void set_classes(std::shared_ptr<const classify::ClassDb> db);

  const PipelineCounters& counters() const noexcept { return counters_; }
  flow::FlowTable& flows() noexcept { return flows_; }
  const classify::Classifier* classifier() const noexcept { return classifier_.get(); }

 private:
  // Up to kStage packets: parse + key + hash + prefetch slot for all, prefetch entries for all,
  // prefetch LRU neighbours for all, then finish each packet (DPDK's "prefetch, then process").
  static constexpr std::uint16_t kStage = 32;
  struct Staged {
    packet::ParsedPacket p;
    packet::FlowKey key;
    std::uint64_t hash;
    std::uint32_t entry;   // prefetched entry index, or flow::kNil
    DropReason drop;
    packet::Side sender;
    bool has_flow;
  };
  void process_stage(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept;
  Verdict finish_one(const packet::PacketView& pkt, Staged& s) noexcept;
  Staged staged_[kStage];
  static void on_flow_end(void* ctx, const flow::FlowEntry& f, flow::EndReason why);

  ReportSink sink_;
  flow::FlowTable flows_;
  std::unique_ptr<classify::Classifier> classifier_;
  std::shared_ptr<const classify::ClassDb> pending_classes_;
  route::StaticEgress egress_;
  std::uint32_t expire_budget_;
  PipelineCounters counters_;
};

}  // namespace tcpr::pipeline
