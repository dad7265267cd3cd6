// Live mode: configured ports, workers until SIGINT/SIGTERM, final counters on the way out.
#include <fmt/format.h>

#include <atomic>
#include <csignal>

#include "engine.hpp"
#include "tcpr/dataplane/dataplane.hpp"

namespace tcpr::dataplane {

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "signal handler stores to it");

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

std::atomic<Engine*> g_engine{nullptr};
// SIGHUP: re-read the classes; the main lcore compiles and publishes them (an atomic store here).
void on_hup(int) {
  if (Engine* e = g_engine.load(std::memory_order_relaxed)) e->request_reload();
}

bool is_vdev(const std::string& dev) { return dev.rfind("net_", 0) == 0 || dev.rfind("eth_", 0) == 0; }

}  // namespace

int run_live(const config::Config& cfg, const LiveOptions& opt) {
  const auto fail = [](const std::string& msg) {
    fmt::print(stderr, "tcp-routed: {}\n", msg);
    return 1;
  };
  if (cfg.ports.empty()) return fail(fmt::format("{}: no [[port]] configured", cfg.source));
  auto classes = config::load_classes(cfg);
  if (!classes) return fail(classes.error());
  EngineOptions eo;
  eo.classes = classes.value();
  eo.workers = cfg.dataplane.workers;
  eo.eal_args.push_back("tcp-routed");
  eo.eal_args.insert(eo.eal_args.end(), cfg.dataplane.eal_args.begin(), cfg.dataplane.eal_args.end());
  eo.eal_args.insert(eo.eal_args.end(), opt.eal_args.begin(), opt.eal_args.end());
  eo.stats_interval = opt.stats_interval;
  eo.behavior = &cfg.behavior;
  config::EnforceConfig enforce = cfg.enforce;
  enforce.detach_on_exit = enforce.detach_on_exit || opt.detach_on_exit;
  if (enforce.enabled && !cfg.behavior.enabled)
    return fail(fmt::format("{}: [enforce] needs [behavior] agents (the zones it writes)", cfg.source));
  eo.enforce = &enforce;
  for (const auto& p : cfg.ports) {
    if (p.device.empty()) return fail(fmt::format("{}: port '{}' has no device", cfg.source, p.name));
    // Virtual devices are probed after EAL start-up (Engine::start), so that a bad one is
    // reported with its port's name; PCI devices must be allowed before the bus scan.
    if (!is_vdev(p.device)) eo.eal_args.push_back("--allow=" + p.device);
    eo.devices.push_back(p.device);
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  Engine engine(cfg);
  if (auto r = engine.start(eo); !r) return fail(r.error());
  g_engine.store(&engine);
  std::signal(SIGHUP, on_hup);
  if (const enforce::Enforcer* e = engine.enforcer(); e != nullptr) {
    const auto& r = e->start_reconcile();
    fmt::print("tcp-routed: XDP zone guard pinned in {}, attached to {} interface(s); maps reconciled: {} kept, {} "
               "written, {} stale removed\n",
               enforce.bpffs, enforce.interfaces.size(), r.kept, r.written, r.removed);
  }
  fmt::print("tcp-routed: {} ports, {} workers; SIGINT or SIGTERM stops\n", cfg.ports.size(), eo.workers);
  std::fflush(stdout);
  if (auto r = engine.run(g_stop); !r) return fail(r.error());

  g_engine.store(nullptr);
  std::signal(SIGHUP, SIG_DFL);
  const auto c = engine.counters();
  fmt::print("tcp-routed: stopped after {} packets; classes reloaded {} times, {} refused\n", c.packets,
             engine.reload_counters().applied, engine.reload_counters().refused);
  for (const auto& s : engine.port_stats()) {
    fmt::print("  port {:<12} link {:<4} rx {:>12} tx {:>12} missed {:>8} rx_err {:>8} tx_err {:>8} nombuf {:>8}\n",
               s.name, s.link_up ? "up" : "down", s.rx, s.tx, s.rx_missed, s.rx_errors, s.tx_errors, s.rx_nombuf);
  }
  for (std::size_t r = 1; r < kDropReasonCount; ++r) {
    if (c.drops.count[r] != 0)
      fmt::print("  drop {:<28} {}\n", drop_reason_name(static_cast<DropReason>(r)), c.drops.count[r]);
  }
  if (const behavior::Behavior* b = engine.behavior(); b != nullptr) {
    const auto bc = b->counters();
    const auto zones = b->zone_counts();
    fmt::print("  behavior ticks {} agents {} trusted {} monitored {} quarantined {} isolated {} events {}\n", bc.ticks,
               b->agent_count(), zones[TCPR_ZONE_TRUSTED], zones[TCPR_ZONE_MONITORED], zones[TCPR_ZONE_QUARANTINED],
               zones[TCPR_ZONE_ISOLATED], b->events().size());
  }
  if (const enforce::Enforcer* e = engine.enforcer(); e != nullptr) {
    const auto& ec = e->counters();
    fmt::print("  enforce syncs {} written {} removed {} local {} (longest packet → map {:.0f} us) errors {} "
               "MAC-keyed {} longest sync {:.0f} us\n",
               ec.syncs, ec.entries_written, ec.entries_removed, ec.local_written, ec.max_local_us, ec.errors,
               ec.not_ip_keyed, ec.max_sync_us);
  }
  engine.shutdown();
  return 0;
}

}  // namespace tcpr::dataplane
