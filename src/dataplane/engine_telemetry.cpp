// DPDK telemetry (issue 8): read-only /tcpr/... commands, so that dpdk-telemetry.py (and anything
// speaking the telemetry socket) shows tcp-routed's status and counters beside DPDK's own:
//   /tcpr/status   version, uptime, workers, packets, bytes, agents, drops, tick_us
//   /tcpr/drops    dataplane drops by reason      /tcpr/zones    agents per zone
//   /tcpr/classes  packets per class              /tcpr/paths    packets per path
//   /tcpr/xdp      the XDP guard's counters (ZONE_action, malformed_REASON)
//
// Telemetry callbacks run on DPDK's telemetry thread and take no user data: they read a snapshot
// the control thread publishes once a second (Engine::control_metrics), under a mutex of this
// file, never the engine's live state.
#include <rte_telemetry.h>

#include <cctype>
#include <mutex>

#include "engine_parts.hpp"

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

}  // namespace tcpr::dataplane
