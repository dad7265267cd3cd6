// pipeline.hpp — the per-worker packet path, DPDK-free: one burst of PacketViews in, one Verdict
// per packet out.
//
//   parse ─▶ flow table ─▶ classify ─▶ agent stats ─▶ zone gate ─▶ route ─▶ verdict
//
// Agent statistics and the zone gate run when the config carries a Behavior (agents
// configured): the worker's AgentTracker counts the packet for its agents and says which zone
// they are in; ISOLATED agents' packets are dropped both ways (ZONE_ISOLATED); QUARANTINED
// agents' packets pass only to and from remediation prefixes or in allowed classes
// (ZONE_QUARANTINED otherwise). With `inline_ticks` (a replay with one worker) the pipeline
// runs the behaviour tick itself when a packet's capture time crosses a tick boundary, before
// that packet, so the packet is judged by the zones of the tick that just ended. Classification
// runs when the config carries a ClassDb; a flow's verdict reaches the ReportSink when the flow
// ends (expired, evicted, or drained at the end of a replay).
//
// Routing: packets received on a port with `egress = "route"` are placed by the worker's
// route::Router when the config has paths. A flow's path is decided at its client's first packet
// and pinned on the flow (FlowEntry::route); the decision is made again when the router's check()
// says so — a decision made before the class was known moves silently when the class is
// decided, every other move is a route event. Client-to-server packets leave on the pinned path
// (Verdict::path: the dataplane rewrites them for it); server-to-client packets on such a port go
// back out of the port the flow's client came in on. A flow with a mirror has every packet, both
// ways, copied to the mirror path (Verdict::mirror). Packets without a flow on a routed port take
// `routing.default_path`, unrewritten. Paths count packets and bytes, and feed the router's
// load measurement.
//
// A packet ends as "emit on egress port E" or "drop with reason R"; drops are counted per reason in
// `counters().drops`. Packets that have no flow (ARP, non-IP, later IP fragments) skip the flow
// table and are routed on their ingress port alone; they are counted.
//
// Owned by one worker; not thread-safe by design. Nothing here allocates per packet.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "tcpr/behavior/behavior.hpp"
#include "tcpr/classify/classifier.hpp"
#include "tcpr/flow/flow_table.hpp"
#include "tcpr/packet/drop.hpp"
#include "tcpr/pipeline/flow_scan.hpp"
#include "tcpr/packet/packet_view.hpp"
#include "tcpr/route/router.hpp"
#include "tcpr/route/static_egress.hpp"

namespace tcpr::pipeline {

struct Verdict {
  std::uint16_t egress = route::kNoEgress;  // port index when drop == NONE
  DropReason drop = TCPR_DROP_NONE;
  std::uint16_t path = route::kNoPath;      // routed: rewrite for this path before sending
  std::uint16_t mirror = route::kNoPath;    // also send a copy, rewritten for this path (on its port)
  std::uint8_t class_id = 0;                // the flow's content class (0: unknown or none), for counters
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
  std::vector<PortCounters> paths;   // per path: what left on it (mirrored copies included)
  std::vector<std::uint64_t> mirrored;   // per path: of which mirrored copies
  // Per class id of the current class database: packets of flows in that class (dropped ones too).
  std::array<std::uint64_t, 256> class_packets{};
};

struct PipelineConfig {
  flow::FlowTableConfig flow;
  std::uint32_t expire_budget = 64;
  route::StaticEgress egress;
  classify::ClassifyConfig classify;
  std::shared_ptr<const classify::ClassDb> classes;  // null: no classification
  behavior::Behavior* behavior = nullptr;             // null: no agent statistics, no zone gate
  unsigned worker = 0;                                // this pipeline's tracker in `behavior`
  bool inline_ticks = false;                          // run behaviour ticks on the capture clock here
  std::shared_ptr<route::RouteShared> routes;         // null: no semantic routing
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

  // Between bursts (also when idle): the behaviour tracker adopts new zones and takes table
  // swaps the control thread asked for.
  void poll() noexcept {
    if (tracker_ != nullptr) tracker_->poll();
    if (router_ != nullptr) router_->poll();
    if (scan_box_ != nullptr && scan_box_->asked()) scan_flows();
  }

  // Where the control thread asks this worker for its largest flows (flow_scan.hpp).
  void set_flow_scan_box(FlowScanBox* box) noexcept { scan_box_ = box; }

  // Counts a drop decided outside the pipeline (e.g. a full TX queue).
  void count_drop(DropReason r) noexcept { counters_.drops.add(r); }

  // A new class database (reload), taken between bursts; held and offered again at the next
  // burst while the classifier has no free generation.
  void set_classes(std::shared_ptr<const classify::ClassDb> db);

  const PipelineCounters& counters() const noexcept { return counters_; }
  flow::FlowTable& flows() noexcept { return flows_; }
  const classify::Classifier* classifier() const noexcept { return classifier_.get(); }
  const route::Router* router() const noexcept { return router_.get(); }

 private:
  // One slice of the walk for the scan box's query (flow_scan.cpp).
  void scan_flows() noexcept;
  FlowScanBox* scan_box_ = nullptr;
  std::uint32_t scan_next_ = 0;          // next entry index of the walk under way
  bool scanning_ = false;
  std::vector<FlowSummary> scan_top_;    // a min-heap by bytes, at most query.top

  // Up to kStage packets: parse + key + hash + prefetch slot for all, prefetch entries for all,
  // prefetch LRU neighbours for all, then finish each packet (DPDK's "prefetch, then process").
  static constexpr std::uint16_t kStage = 32;
  struct Staged {
    packet::ParsedPacket p;
    packet::FlowKey key;
    std::uint64_t hash;
    std::uint32_t entry;   // prefetched entry index, or flow::kNil
    std::uint32_t flow;    // the packet's flow once finish_one found it, or flow::kNil
    DropReason drop;
    packet::Side sender;
    bool has_flow;
  };
  void process_stage(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept;
  Verdict finish_one(const packet::PacketView& pkt, Staged& s) noexcept;
  Staged staged_[kStage];
  static void on_flow_end(void* ctx, const flow::FlowEntry& f, flow::EndReason why);
  void process_run(const packet::PacketView* pkts, std::uint16_t n, Verdict* out) noexcept;
  DropReason gate(const packet::ParsedPacket& p, std::uint32_t flow, const behavior::AgentTracker::PacketInfo& info,
                  behavior::AgentTracker::Agents& agents) noexcept;
  Verdict route_flow(const packet::PacketView& pkt, const Staged& s, std::uint32_t flow,
                     const behavior::AgentTracker::PacketInfo& info, const behavior::AgentTracker::Agents& agents) noexcept;
  // Per class database: class id → ClassGroup, allowed-in-quarantine, and the hard-tag mask;
  // the routing view of its classes and tags.
  struct DbView {
    const classify::ClassDb* db = nullptr;
    std::vector<std::int8_t> group;
    std::vector<bool> quarantine_ok;
    std::uint16_t hard_tags = 0;
    route::ClassView route;
  };
  const DbView& view_of(const classify::ClassDb& db);
  void adopt_pending_classes();

  ReportSink sink_;
  flow::FlowTable flows_;
  std::unique_ptr<classify::Classifier> classifier_;
  std::shared_ptr<const classify::ClassDb> pending_classes_;
  route::StaticEgress egress_;
  std::uint32_t expire_budget_;
  unsigned worker_ = 0;
  behavior::Behavior* behavior_ = nullptr;
  behavior::AgentTracker* tracker_ = nullptr;
  std::unique_ptr<route::Router> router_;
  route::ClassView no_classes_;           // routing without classification
  bool inline_ticks_ = false;
  DbView views_[classify::Classifier::kGenerations + 1];
  unsigned next_view_ = 0;
  PipelineCounters counters_;
};

}  // namespace tcpr::pipeline
