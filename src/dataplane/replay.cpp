// Replay: the capture drives the same engine as live mode through net_pcap devices.
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "capture_scan.hpp"
#include "engine.hpp"
#include "tcpr/dataplane/dataplane.hpp"
#include "tcpr/pipeline/report.hpp"

namespace tcpr::dataplane {

namespace {

namespace fs = std::filesystem;

// Every lcore may run on any CPU this process may use: replay is correct whatever the machine,
// and the clock is the capture's, so sharing CPUs changes speed only.
std::string lcores_arg(std::uint32_t workers) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (!CPU_ISSET(c, &set)) continue;
      if (!cpus.empty()) cpus.push_back(',');
      cpus.append(fmt::format("{}", c));
    }
  }
  return fmt::format("--lcores=(0-{})@({})", workers, cpus.empty() ? std::string_view("0") : cpus);
}

void print_summary(const pipeline::ReplayTotals& t, const std::vector<pipeline::FlowRecord>& flows,
                   const std::string& dir) {
  std::uint64_t dropped = 0;
  for (std::size_t r = 1; r < kDropReasonCount; ++r) dropped += t.counters.drops.count[r];
  fmt::print("replayed {}: {} packets, {} bytes, {} flows, {:.3f} s of capture\n", t.capture,
             t.counters.packets, t.counters.bytes, t.flows, t.last_ts - t.first_ts);
  for (std::size_t i = 0; i < t.port_names.size(); ++i) {
    const auto pc = i < t.counters.egress.size() ? t.counters.egress[i] : pipeline::PortCounters{};
    fmt::print("  egress {:<12} {:>10} packets {:>12} bytes\n", t.port_names[i], pc.packets, pc.bytes);
  }
  for (std::size_t i = 0; i < t.path_names.size(); ++i) {
    const auto pc = i < t.counters.paths.size() ? t.counters.paths[i] : pipeline::PortCounters{};
    fmt::print("  path   {:<12} {:>10} packets {:>12} bytes\n", t.path_names[i], pc.packets, pc.bytes);
  }
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> classes;  // flows, bytes
  std::map<std::string, std::uint64_t> tags;
  for (const auto& r : flows) {
    auto& c = classes[r.cls];
    ++c.first;
    c.second += r.flow.bytes[0] + r.flow.bytes[1];
    for (const auto& tag : r.tags) ++tags[tag];
  }
  fmt::print("  classes:\n");
  for (const auto& [name, c] : classes) fmt::print("    {:<12} {:>8} flows {:>12} bytes\n", name, c.first, c.second);
  for (const auto& [name, n] : tags) fmt::print("  tag {:<10} {:>8} flows\n", name, n);
  fmt::print("  dropped {} packets\n", dropped);
  for (std::size_t r = 1; r < kDropReasonCount; ++r) {
    if (t.counters.drops.count[r] != 0)
      fmt::print("    {:<28} {}\n", drop_reason_name(static_cast<DropReason>(r)), t.counters.drops.count[r]);
  }
  fmt::print("  {} workers, {:.3f} s, {:.0f} packets/s\n", t.workers, t.wall_seconds,
             t.wall_seconds > 0 ? static_cast<double>(t.counters.packets) / t.wall_seconds : 0.0);
  fmt::print("report: {0}/flows.jsonl {0}/summary.json {0}/out/\n", dir);
}

}  // namespace

int run_replay(const config::Config& cfg, const ReplayOptions& opt) {
  const auto fail = [](const std::string& msg) {
    fmt::print(stderr, "tcp-routed: {}\n", msg);
    return 1;
  };
  auto info = scan_capture(opt.capture);
  if (!info) return fail(info.error());
  if (cfg.ports.empty()) return fail(fmt::format("{}: no [[port]] configured", cfg.source));
  const int ingress = cfg.replay_ingress.empty() ? 0 : cfg.port_index(cfg.replay_ingress);
  const std::uint32_t workers = opt.workers != 0 ? opt.workers : cfg.dataplane.workers;
  if (workers < 1 || workers > 64) return fail("--workers must be within [1, 64]");

  std::error_code ec;
  const fs::path dir(opt.report_dir);
  fs::create_directories(dir / "out", ec);
  if (ec) return fail(fmt::format("cannot create report directory {}: {}", (dir / "out").string(), ec.message()));
  const fs::path out_dir = fs::absolute(dir / "out", ec);
  if (out_dir.string().find(',') != std::string::npos)
    return fail("the report directory path must not contain ','");
  const std::string capture = fs::absolute(opt.capture, ec).string();

  auto classes = config::load_classes(cfg);
  if (!classes) return fail(classes.error());
  behavior::BehaviorConfig bcfg = cfg.behavior;
  if (!opt.agents.empty()) {
    bcfg.agents = behavior::PrefixSet{};
    if (auto r = behavior::parse_prefix_list(opt.agents, bcfg.agents); !r)
      return fail(fmt::format("--agents: {}", r.error()));
    bcfg.enabled = true;
  }
  if (opt.tick_seconds > 0) bcfg.tick_seconds = opt.tick_seconds;

  EngineOptions eo;
  if (!opt.path_events.empty()) {
    if (!cfg.routing.enabled()) return fail("--path-events: the configuration has no [[path]]");
    std::ifstream in(opt.path_events, std::ios::binary);
    if (!in) return fail(fmt::format("{}: cannot open the path events file", opt.path_events));
    std::ostringstream text;
    text << in.rdbuf();
    // Relative times count from the capture's first packet (pcap resolution: microseconds).
    const auto first_ns = static_cast<std::uint64_t>(std::llround(info.value().first_ts * 1e6)) * 1000;
    auto ev = route::parse_path_events(text.str(), opt.path_events, cfg.routing, first_ns);
    if (!ev) return fail(ev.error());
    eo.path_events = std::move(ev.value());
  }
  eo.classes = classes.value();
  eo.reload_interval = opt.reload_interval;
  eo.behavior = &bcfg;
  eo.workers = workers;
  eo.lossless = true;
  eo.collect_flows = true;
  eo.replay_ingress = ingress;
  eo.replay_packets = info.value().packets;
  for (std::size_t i = 0; i < cfg.ports.size(); ++i) {
    const auto& p = cfg.ports[i];
    std::string dev = fmt::format("net_pcap_{}", p.name);
    if (static_cast<int>(i) == ingress) dev += fmt::format(",rx_pcap={}", capture);
    dev += fmt::format(",tx_pcap={}", (out_dir / (p.name + ".pcap")).string());
    eo.devices.push_back(dev);
  }
  // Memory for the mempool (data room plus mbuf header) with headroom for rings and EAL.
  const std::uint64_t mem_mb = 64 + static_cast<std::uint64_t>(cfg.dataplane.mbufs) * 2560 / (1 << 20);
  eo.eal_args = {"tcp-routed", "--no-huge", "-m", std::to_string(mem_mb), "--no-shconf",
                 fmt::format("--file-prefix=tcpr-replay-{}", ::getpid()), "--no-pci",
                 "--no-telemetry", "--log-level=*:error", lcores_arg(workers)};
  eo.eal_args.insert(eo.eal_args.end(), opt.eal_args.begin(), opt.eal_args.end());

  const auto t0 = std::chrono::steady_clock::now();
  Engine engine(cfg);
  if (auto r = engine.start(eo); !r) return fail(r.error());
  static const std::atomic<bool> never_stop{false};
  if (auto r = engine.run(never_stop); !r) return fail(r.error());
  engine.finish_behavior();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  pipeline::ReplayTotals totals;
  totals.counters = engine.counters();
  totals.flow_counters = engine.flow_counters();
  for (const auto& p : cfg.ports) totals.port_names.push_back(p.name);
  totals.capture = opt.capture;
  totals.capture_packets = info.value().packets;
  totals.first_ts = info.value().first_ts;
  totals.last_ts = info.value().last_ts;
  totals.workers = workers;
  totals.wall_seconds = wall;
  totals.classify = engine.classify_counters();
  totals.reloads_applied = engine.reload_counters().applied;
  totals.reloads_refused = engine.reload_counters().refused;
  if (eo.classes != nullptr) {
    totals.classes_revision = eo.classes->revision;
    totals.stream_state_bytes = eo.classes->stream_size(classify::Place::kC2s) + eo.classes->stream_size(classify::Place::kS2c);
  }
  std::vector<behavior::AgentReport> agents;
  std::vector<behavior::ZoneEvent> events;
  if (const behavior::Behavior* b = engine.behavior(); b != nullptr) {
    agents = b->report();
    events = b->events();
    totals.has_behavior = true;
    totals.behavior.tick_seconds = bcfg.tick_seconds;
    totals.behavior.counters = b->counters();
    totals.behavior.agents = agents.size();
    for (const auto& a : agents) ++totals.behavior.zones[a.zone];
    totals.behavior.events = events.size();
    totals.behavior.tick_ms = b->tick_ms();
  }
  totals.path_names = engine.path_names();
  totals.routing = engine.route_counters();
  std::vector<route::RouteEvent> moves = engine.route_events();
  std::vector<pipeline::FlowRecord> flows = engine.take_flows();
  totals.flows = flows.size();
  engine.shutdown();  // closes the TX captures

  if (auto r = pipeline::write_flows((dir / "flows.jsonl").string(), flows, totals.port_names, totals.path_names); !r)
    return fail(r.error());
  if (auto r = pipeline::write_summary((dir / "summary.json").string(), totals, flows); !r) return fail(r.error());
  if (auto r = pipeline::write_agents((dir / "agents.jsonl").string(), agents); !r) return fail(r.error());
  if (auto r = pipeline::write_events((dir / "events.jsonl").string(), std::move(events), std::move(moves), totals.path_names); !r)
    return fail(r.error());
  if (!opt.quiet) print_summary(totals, flows, opt.report_dir);
  return 0;
}

}  // namespace tcpr::dataplane
