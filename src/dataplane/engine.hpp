// engine.hpp — EAL, ports, workers: the part of tcp-routed that knows rte_mbuf.
//
// Two shapes of packet path, chosen per port:
//  * direct — the port has an RX and a TX queue for every worker: each worker polls its own RX
//    queue and sends on its own TX queue (run to completion, symmetric RSS keeps a flow on one
//    worker);
//  * shared — the port has fewer queues than workers (net_pcap, a single-queue af_packet): the
//    main lcore receives from its queue 0, spreads packets over workers by the symmetric flow
//    hash through SPSC rings, and sends what workers put in their per-port TX rings.
// With one worker every port is direct and the main lcore only supervises.
//
// `lossless` (replay) makes every hand-off wait instead of drop, so a report never depends on
// timing; live mode drops and counts TX_FULL instead.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tcpr/config/config.hpp"
#include "tcpr/control/metrics.hpp"
#include "tcpr/control/server.hpp"
#include "tcpr/enforce/enforcer.hpp"
#include "tcpr/flow/flow_table.hpp"
#include "tcpr/pipeline/pipeline.hpp"
#include "tcpr/pipeline/report.hpp"
#include "tcpr/util/result.hpp"
#include "tcpr/util/snapshot.hpp"

struct rte_mempool;
struct rte_ring;
struct rte_eth_dev_tx_buffer;

namespace tcpr::dataplane {

struct EngineOptions {
  std::vector<std::string> eal_args;   // full argv for rte_eal_init (argv[0] included)
  std::vector<std::string> devices;    // one per configured port, in config order
  std::uint32_t workers = 1;
  bool lossless = false;
  bool collect_flows = false;          // keep ended flows for the report
  int replay_ingress = -1;             // config port index the capture arrives on
  std::uint64_t replay_packets = 0;    // stop after this many received packets (replay)
  double stats_interval = 0;           // live: print a rate line every this many seconds (0: never)
  std::shared_ptr<const classify::ClassDb> classes;  // null: no classification
  double reload_interval = 0;          // replay testing aid: reload the classes every this many s
  const behavior::BehaviorConfig* behavior = nullptr;  // null or disabled: no agent statistics
  std::vector<route::PathEvent> path_events;            // replay: scheduled path up/down
  const config::EnforceConfig* enforce = nullptr;       // live: the XDP maps' writer, when enabled
};

struct ReloadCounters {
  std::uint64_t applied = 0;   // published to every worker
  std::uint64_t refused = 0;   // the file had a mistake: the old classes stay
};

struct PortStats {
  std::string name;
  std::uint64_t rx = 0, tx = 0, rx_missed = 0, rx_errors = 0, tx_errors = 0, rx_nombuf = 0;
  bool link_up = false;
};

class Engine {
 public:
  explicit Engine(const config::Config& cfg);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Result<bool> start(const EngineOptions& opt);   // EAL, mempool, ports, worker state
  // Launches workers and runs the main lcore's loop until the replay ends or stop is set.
  Result<bool> run(const std::atomic<bool>& stop);
  void shutdown() noexcept;                       // stops ports, cleans up EAL

  pipeline::PipelineCounters counters() const;    // summed over workers
  flow::FlowCounters flow_counters() const;
  std::vector<pipeline::FlowRecord> take_flows(); // replay: every ended flow
  classify::ClassifyCounters classify_counters() const;
  std::vector<PortStats> port_stats() const;
  behavior::Behavior* behavior() noexcept { return behavior_.get(); }
  // Semantic routing: path names (empty without routing) and every worker's route events.
  std::vector<std::string> path_names() const;
  std::vector<route::RouteEvent> route_events() const;
  route::RouterCounters route_counters() const;
  const enforce::Enforcer* enforcer() const noexcept { return enforcer_.get(); }
  // Replay: runs the tick that holds the capture's last packets (workers have finished).
  void finish_behavior();
  std::uint64_t received() const noexcept;

  struct Worker;

 private:
  struct Port;
  Result<bool> setup_port(std::size_t idx, const std::string& device);
  void io_loop(const std::atomic<bool>& stop);
  void print_stats_if_due() noexcept;
  void service_control() noexcept;     // the main lcore's periodic duties
  void start_routing(pipeline::PipelineConfig& pcfg);   // engine_route.cpp
  void watch_links() noexcept;         // a path whose port's link goes down goes down
  void wait_workers_drained(const std::vector<std::uint64_t>& dispatched) noexcept;
  void control_thread_main(const std::atomic<bool>& stop);
  // The control socket (engine_control.cpp): commands, and the hand-offs to the main lcore.
  struct ControlShared;
  Result<bool> start_control();
  void control_poll(int ms);
  void control_after_tick();
  void control_metrics();
  void finish_flows();
  void add_inspect_commands(control::Server& s);   // engine_inspect.cpp
  void register_telemetry();   // engine_telemetry.cpp
  void publish_telemetry(const control::MetricsSnapshot& m, double uptime_s, std::uint32_t workers);
  void take_path_requests() noexcept;
  void route_published() noexcept;
  void reload_finished(const std::shared_ptr<const classify::ClassDb>& applied, const std::string& refusal) noexcept;

 public:
  // Asks for the classes to be re-read (SIGHUP); the main lcore does it off the fast path.
  void request_reload() noexcept { reload_requested_.store(true, std::memory_order_relaxed); }
  ReloadCounters reload_counters() const noexcept { return reloads_; }

 private:

  const config::Config& cfg_;
  EngineOptions opt_;
  bool eal_up_ = false;
  rte_mempool* pool_ = nullptr;
  std::shared_ptr<route::RouteShared> routes_;
  std::unique_ptr<enforce::Enforcer> enforcer_;
  std::shared_ptr<const route::RouteTable> route_current_, route_pending_;   // main lcore only
  std::vector<char> link_up_;          // last seen link state per port
  std::uint64_t last_link_tsc_ = 0;
  std::vector<std::unique_ptr<Port>> ports_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> input_done_{false};
  std::uint64_t io_received_ = 0;
  bool stalled_ = false;
  std::atomic<bool> halt_{false};   // what workers stop on: the caller's stop, or a stall
  bool any_shared_ = false;            // some port has fewer queue pairs than workers
  std::uint64_t stats_last_tsc_ = 0, stats_start_tsc_ = 0;
  std::uint64_t stats_last_rx_ = 0, stats_last_tx_ = 0;
  std::unique_ptr<SnapshotPublisher<classify::ClassDb>> classes_pub_;
  std::shared_ptr<const classify::ClassDb> pending_classes_;
  std::atomic<bool> reload_requested_{false};
  // Compiling a class database takes tens to hundreds of ms: a helper thread does it, so the
  // main lcore keeps serving shared ports meanwhile.
  std::thread reloader_;
  std::atomic<bool> reload_running_{false}, reload_ready_{false};
  Result<std::shared_ptr<const classify::ClassDb>> reload_result_{std::shared_ptr<const classify::ClassDb>{}};
  std::uint64_t last_reload_tsc_ = 0;
  ReloadCounters reloads_;
  std::unique_ptr<behavior::Behavior> behavior_;
  std::thread control_;                // live mode: behaviour ticks, the control socket
  std::atomic<bool> control_stop_{false};
  std::unique_ptr<control::Server> control_srv_;   // control thread only (after start)
  std::unique_ptr<ControlShared> ctl_;
  std::unique_ptr<control::MetricsExporter> metrics_;
  pipeline::PipelineConfig explain_base_;
  std::vector<route::Mac> route_macs_;   // the ports' source MACs (a reloaded route table's)
  // The configuration classes are read from: the start's (null) or the last reload's. Written by
  // the control thread, read by the main lcore when it starts a reload.
  std::atomic<std::shared_ptr<const config::Config>> classes_cfg_;
  control::Json apply_reload(const config::Config& next);   // engine_reload.cpp
  void reload_outcomes();   // [control] metrics: Prometheus endpoint
  std::chrono::steady_clock::time_point started_;
};

}  // namespace tcpr::dataplane
