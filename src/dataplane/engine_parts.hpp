// engine_parts.hpp — the engine's per-port and per-worker state, shared by engine.cpp (start,
// run, the loops) and engine_report.cpp (counters, statistics, reloads). Private to
// src/dataplane.
#pragma once

#include <rte_ethdev.h>
#include <rte_ring.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "engine.hpp"
#include "tcpr/dataplane/idle_run.hpp"
#include "tcpr/pipeline/report.hpp"

namespace tcpr::dataplane {

inline constexpr unsigned kMaxBurst = 512;

// A routed packet's header rewrite on its first segment (engine_route.cpp).
DropReason rewrite_mbuf(rte_mbuf* m, const route::RewriteSpec& spec) noexcept;

struct Engine::Port {
  std::string name;
  std::uint16_t port_id = 0;
  bool direct = true;          // a queue pair per worker
  std::uint16_t n_queues = 1;
};

struct alignas(64) Engine::Worker {
  struct Rx {
    std::uint16_t port_id, queue, port_index;
  };
  struct Tx {
    std::uint16_t port_id = 0, queue = 0;
    rte_eth_dev_tx_buffer* buffer = nullptr;  // direct ports
    rte_ring* ring = nullptr;                 // shared ports: drained by the main lcore
    std::uint64_t dropped = 0;                // filled by the TX buffer's error callback
  };

  unsigned index = 0;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  rte_mempool* pool = nullptr;                 // mirrored copies
  std::vector<Rx> rx;
  rte_ring* in_ring = nullptr;
  std::vector<Tx> tx;                          // by config port index
  std::vector<std::uint16_t> port_index_of;    // DPDK port id -> config port index
  std::vector<pipeline::FlowRecord> ended;
  packet::PacketView views[kMaxBurst];        // process_burst's scratch
  pipeline::Verdict verdicts[kMaxBurst];
  std::uint64_t received = 0;                // the worker's own; read by others only after it finished
  std::atomic<std::uint64_t> processed{0};   // ring packets done (replay tick barriers)
  IdleRun idle;                              // direct replay: its run of empty polls
  pipeline::FlowScanBox scan_box;            // the control thread's flows query (flow_scan.hpp)
  std::atomic<bool> finished{false};
  const std::atomic<bool>* stop = nullptr;  // set by run(): the engine's halt flag
};

// What the control thread and the main lcore hand each other (engine_control.cpp). The main lcore
// only try_locks `mu`: a busy control thread never holds up its I/O loop.
struct Engine::ControlShared {
  struct PathRequest {
    std::uint64_t client = 0;
    std::uint16_t path = 0;
    bool up = true;
  };
  std::mutex mu;
  std::vector<PathRequest> path_requests;   // control → main lcore
  std::vector<PathRequest> path_waiting;    // in route_pending_, not yet published
  // A reload asked over the socket: the configuration it read, and the one before (restored when
  // the classes are refused). Outcomes go back to the control thread, which applies the rest.
  struct ReloadWaiter {
    std::uint64_t client = 0;
    std::shared_ptr<const config::Config> next, prev;
  };
  struct ReloadOutcome {
    ReloadWaiter waiter;
    std::shared_ptr<const classify::ClassDb> applied;   // null: refused
    std::string refusal;
  };
  std::vector<ReloadWaiter> reload_waiters;
  std::vector<ReloadOutcome> reload_outcomes;
  std::shared_ptr<const route::RouteTable> route_replace;   // a reloaded [routing], for the main lcore
  std::vector<std::pair<std::uint64_t, Result<control::Json>>> done;   // main lcore → control: replies
  std::shared_ptr<const route::RouteTable> route_view;                // what workers route by
  std::shared_ptr<const classify::ClassDb> classes_view;
  // Control thread only.
  std::vector<PortStats> rates_prev;
  std::chrono::steady_clock::time_point rates_at;
  std::size_t events_sent = 0;
  std::chrono::steady_clock::time_point metrics_due;
  // The flows query under way (one at a time): who asked, for how many, since when.
  struct FlowsAsk {
    std::uint64_t client = 0;
    std::size_t top = 0;
    std::chrono::steady_clock::time_point since;
  };
  std::optional<FlowsAsk> flows;
};

}  // namespace tcpr::dataplane
