// The numbers tcp-routed shows outside its control socket (issue 8): control_metrics() gathers them
// once a second on the control thread for the Prometheus endpoint (src/control/metrics.cpp) and for
// DPDK telemetry — read-only /tcpr/... commands, so that dpdk-telemetry.py (and anything speaking
// the telemetry socket) shows tcp-routed's status and counters beside DPDK's own:
//   /tcpr/status   version, uptime, workers, packets, bytes, agents, drops, tick_us
//   /tcpr/drops    dataplane drops by reason      /tcpr/zones    agents per zone
//   /tcpr/classes  packets per class              /tcpr/paths    packets per path
//   /tcpr/xdp      the XDP guard's counters (ZONE_action, malformed_REASON)
//
// Telemetry callbacks run on DPDK's telemetry thread and take no user data: they read a snapshot
// the control thread publishes once a second (Engine::control_metrics), under a mutex of this
// file, never the engine's live state.
#include <rte_telemetry.h>

#include <chrono>

#include <cctype>
#include <mutex>

#include "engine_parts.hpp"
#include "tcpr/enforce/zone_guard.hpp"

namespace tcpr::dataplane {

namespace {

std::mutex g_mu;
control::MetricsSnapshot g_snap;
double g_uptime = 0;
std::uint32_t g_workers = 0;
bool g_have = false;

using Pairs = std::vector<std::pair<std::string, std::uint64_t>>;

// Telemetry names are letters, digits, '_', '-' and '/': "llm.api" is shown as "llm_api".
std::string tel_name(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '/') c = '_';
  return s;
}

int dict_of(rte_tel_data* d, const Pairs& pairs, bool skip_zero) {
  rte_tel_data_start_dict(d);
  unsigned n = 0;
  for (const auto& [k, v] : pairs) {
    if (skip_zero && v == 0) continue;
    if (++n > RTE_TEL_MAX_DICT_ENTRIES) break;
    rte_tel_data_add_dict_u64(d, tel_name(k).c_str(), v);
  }
  return 0;
}

int tel_status(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> g(g_mu);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "version", "0.1.0");
  rte_tel_data_add_dict_u64(d, "ready", g_have ? 1 : 0);
  rte_tel_data_add_dict_u64(d, "uptime_s", static_cast<std::uint64_t>(g_uptime));
  rte_tel_data_add_dict_u64(d, "workers", g_workers);
  rte_tel_data_add_dict_u64(d, "packets", g_snap.packets);
  rte_tel_data_add_dict_u64(d, "bytes", g_snap.bytes);
  std::uint64_t agents = 0, drops = 0;
  for (const auto& [z, n] : g_snap.agents) agents += n;
  for (const auto& [r, n] : g_snap.drops) drops += n;
  rte_tel_data_add_dict_u64(d, "agents", agents);
  rte_tel_data_add_dict_u64(d, "drops", drops);
  if (g_snap.tick_seconds >= 0) rte_tel_data_add_dict_u64(d, "tick_us", static_cast<std::uint64_t>(g_snap.tick_seconds * 1e6));
  return 0;
}

int tel_drops(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> g(g_mu);
  return dict_of(d, g_snap.drops, true);
}

int tel_zones(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> g(g_mu);
  return dict_of(d, g_snap.agents, false);
}

int tel_classes(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> g(g_mu);
  return dict_of(d, g_snap.class_packets, false);
}

int tel_paths(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> g(g_mu);
  Pairs p;
  for (const auto& t : g_snap.paths) p.emplace_back(t.name, t.packets);
  return dict_of(d, p, false);
}

int tel_xdp(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> g(g_mu);
  Pairs p;
  for (const auto& [za, n] : g_snap.xdp) p.emplace_back(za.first + "_" + za.second, n);
  for (const auto& [r, n] : g_snap.xdp_malformed) p.emplace_back("malformed_" + r, n);
  return dict_of(d, p, true);
}

}  // namespace

// Once per process (DPDK keeps the commands for its lifetime).
void Engine::register_telemetry() {
  static std::once_flag once;
  std::call_once(once, [] {
    rte_telemetry_register_cmd("/tcpr/status", tel_status, "tcp-routed: version, uptime, workers, packets, agents, drops, tick. No parameters");
    rte_telemetry_register_cmd("/tcpr/drops", tel_drops, "tcp-routed: dataplane drops by reason (non-zero). No parameters");
    rte_telemetry_register_cmd("/tcpr/zones", tel_zones, "tcp-routed: agents per zone. No parameters");
    rte_telemetry_register_cmd("/tcpr/classes", tel_classes, "tcp-routed: packets per content class. No parameters");
    rte_telemetry_register_cmd("/tcpr/paths", tel_paths, "tcp-routed: packets per egress path. No parameters");
    rte_telemetry_register_cmd("/tcpr/xdp", tel_xdp, "tcp-routed: the XDP guard's counters (non-zero). No parameters");
  });
}

void Engine::publish_telemetry(const control::MetricsSnapshot& m, double uptime_s, std::uint32_t workers) {
  std::lock_guard<std::mutex> g(g_mu);
  g_snap = m;
  g_uptime = uptime_s;
  g_workers = workers;
  g_have = true;
}

// Control thread: the numbers of the Prometheus endpoint and of the DPDK telemetry commands, at
// most once a second (scrapers ask every 15 s or so; the agents' zones are counted over every agent).
void Engine::control_metrics() {
  if (ctl_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < ctl_->metrics_due) return;
  ctl_->metrics_due = now + std::chrono::seconds(1);
  control::MetricsSnapshot m;
  const auto c = counters();
  m.packets = c.packets;
  m.bytes = c.bytes;
  {
    std::shared_ptr<const classify::ClassDb> db;
    {
      std::lock_guard<std::mutex> g(ctl_->mu);
      db = ctl_->classes_view;
    }
    if (db != nullptr)
      for (std::size_t i = 0; i < db->classes().size() && i < c.class_packets.size(); ++i)
        m.class_packets.emplace_back(db->classes()[i].name, c.class_packets[i]);
  }
  const auto names = path_names();
  for (std::size_t i = 0; i < names.size() && i < c.paths.size(); ++i) m.paths.push_back({names[i], c.paths[i].packets, c.paths[i].bytes});
  for (std::size_t i = 1; i < kDropReasonCount; ++i)
    m.drops.emplace_back(std::string(drop_reason_name(static_cast<DropReason>(i))), c.drops.count[i]);
  if (enforcer_ != nullptr) {
    static constexpr const char* kActions[] = {"pass", "counted", "allowed", "dropped", "sampled", "sample_lost"};
    if (auto x = enforce::read_pinned_counters(cfg_.enforce.bpffs); x) {
      for (unsigned z = 0; z < TCPR_ZONE__COUNT; ++z)
        for (unsigned a = 0; a < TCPR_XDP_ACTIONS; ++a)
          m.xdp.push_back({{behavior::zone_name(static_cast<behavior::Zone>(z)), kActions[a]}, x.value()[tcpr_counter_index(z, a)]});
      for (unsigned d = 1; d < TCPR_DROP__COUNT; ++d)
        m.xdp_malformed.emplace_back(std::string(drop_reason_name(static_cast<DropReason>(d))), x.value()[tcpr_drop_counter_index(d)]);
    }
  }
  if (behavior_ != nullptr) {
    const auto zones = behavior_->zone_counts();
    for (unsigned z = 0; z < TCPR_ZONE__COUNT; ++z) m.agents.emplace_back(behavior::zone_name(static_cast<behavior::Zone>(z)), zones[z]);
    const auto& t = behavior_->tick_ms();
    m.tick_seconds = t.empty() ? 0.0 : t.back() / 1e3;
  }
  m.control_requests = control_srv_->counters().requests;
  m.control_errors = control_srv_->counters().errors;
  publish_telemetry(m, std::chrono::duration<double>(now - started_).count(), opt_.workers);
  if (metrics_ != nullptr) metrics_->update(m);
}

}  // namespace tcpr::dataplane
