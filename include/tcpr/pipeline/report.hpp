// report.hpp — the replay report files of DESIGN.md ("Data contracts"), DPDK-free.
//
// flows.jsonl: one line per flow, sorted by (first_ts, client, server, proto) so a report does
// not depend on how flows were spread over workers. summary.json: totals, per-class and per-port
// counts, drops by reason, flow-table counters, and a `processing` object (workers, wall time,
// rate) — the only part that differs between two replays of one capture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tcpr/flow/flow_table.hpp"
#include "tcpr/pipeline/pipeline.hpp"
#include "tcpr/util/result.hpp"

namespace tcpr::pipeline {

// What summary.json says of behaviour (agents configured).
struct BehaviorSummary {
  double tick_seconds = 0;
  behavior::BehaviorCounters counters;
  std::size_t agents = 0;
  std::uint64_t zones[TCPR_ZONE__COUNT] = {};
  std::size_t events = 0;
  std::vector<double> tick_ms;        // wall time of each tick (processing: varies run to run)
};

struct ReplayTotals {
  PipelineCounters counters;          // summed over workers
  flow::FlowCounters flow_counters;   // summed over workers
  std::uint64_t flows = 0;
  std::vector<std::string> port_names;
  std::string capture;
  std::uint64_t capture_packets = 0;  // records in the capture
  double first_ts = 0, last_ts = 0;   // capture seconds
  std::uint32_t workers = 1;
  double wall_seconds = 0;
  classify::ClassifyCounters classify;
  std::string classes_revision;
  std::size_t stream_state_bytes = 0;   // Hyperscan stream state of a flow, both directions
  std::uint64_t reloads_applied = 0, reloads_refused = 0;
  bool has_behavior = false;
  BehaviorSummary behavior;
  std::vector<std::string> path_names;   // semantic routing: empty when off
  route::RouterCounters routing;
};

// A flow as the report shows it: the table entry plus the classifier's verdict, with names
// resolved while the class database it refers to is at hand. Secrets appear as kind and hash.
struct FlowRecord {
  flow::FlowEntry flow;
  std::string cls = "unknown";
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::uint32_t>> secrets;  // (kind, short hash)
  std::string sni, host, method, path;                         // empty: null in the report
  unsigned verdict_packet = 0;   // payload packets seen when the class was decided (0: never)
};

FlowRecord make_record(const FlowReport& r);

// Sorts `flows` in report order and writes DIR/flows.jsonl. With path names (routing on), a
// routed flow's `egress` is its path ("drop" if none was eligible) and `mirror` its mirror path.
Result<bool> write_flows(const std::string& path, std::vector<FlowRecord>& flows,
                         const std::vector<std::string>& port_names, const std::vector<std::string>& path_names = {});

// Totals per class and tag come from the records.
Result<bool> write_summary(const std::string& path, const ReplayTotals& totals,
                           const std::vector<FlowRecord>& flows);

// DIR/agents.jsonl (sorted by agent) and DIR/events.jsonl (by time): zone transitions, and
// route events (`"kind": "route"`: a pinned flow moved, with client, server, from/to paths and
// the reason), sorted by time then content so that the file does not depend on workers.
Result<bool> write_agents(const std::string& path, const std::vector<behavior::AgentReport>& agents);
Result<bool> write_events(const std::string& path, std::vector<behavior::ZoneEvent> events,
                          std::vector<route::RouteEvent> moves = {}, const std::vector<std::string>& path_names = {});

// One flows.jsonl line (without the newline), for tests and for tcp-routectl later.
std::string flow_json_line(const FlowRecord& r, const std::vector<std::string>& port_names,
                           const std::vector<std::string>& path_names = {});

}  // namespace tcpr::pipeline
