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
};

// Sorts `flows` in report order and writes DIR/flows.jsonl.
Result<bool> write_flows(const std::string& path, std::vector<flow::FlowEntry>& flows,
                         const std::vector<std::string>& port_names);

Result<bool> write_summary(const std::string& path, const ReplayTotals& totals);

// One flows.jsonl line (without the newline), for tests and for tcp-routectl later.
std::string flow_json_line(const flow::FlowEntry& f, const std::vector<std::string>& port_names);

}  // namespace tcpr::pipeline
