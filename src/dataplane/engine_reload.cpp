// `reload` (issue 8): what of a re-read configuration can change while tcp-routed runs, and what
// takes a restart. Runs on the control thread once the new classes are compiled and published.
//
// Applied: the classes (already, by the main lcore); [routing] when its paths are the same (names
// and ports, in order — flows are pinned to path numbers), handed to the main lcore, which keeps
// the operator's and the links' path state; [enforce]'s policy maps (sampling, DHCP, DNS services);
// [control]'s limits. Everything else is state built at start: a change there is reported, not
// applied.
#include "engine_parts.hpp"

namespace tcpr::dataplane {

using control::Json;

namespace {

bool same_ports(const config::Config& a, const config::Config& b) {
  if (a.ports.size() != b.ports.size()) return false;
  for (std::size_t i = 0; i < a.ports.size(); ++i) {
    const auto &x = a.ports[i], &y = b.ports[i];
    if (x.name != y.name || x.device != y.device || x.egress != y.egress || x.has_mac != y.has_mac || x.mac != y.mac)
      return false;
  }
  return true;
}

bool same_dataplane(const config::DataplaneConfig& a, const config::DataplaneConfig& b) {
  return a.workers == b.workers && a.burst_size == b.burst_size && a.mbufs == b.mbufs && a.mbuf_cache == b.mbuf_cache &&
         a.rx_descriptors == b.rx_descriptors && a.tx_descriptors == b.tx_descriptors && a.tx_drain_us == b.tx_drain_us &&
         a.eal_args == b.eal_args;
}

std::vector<std::string> prefixes(const behavior::PrefixSet& s) {
  std::vector<std::string> out;
  for (const auto& p : s.prefixes()) out.push_back(behavior::to_string(p));
  return out;
}

// The parts of [behavior] an operator tunes; the agents' state is built from all of it.
bool same_behavior(const behavior::BehaviorConfig& a, const behavior::BehaviorConfig& b) {
  return a.enabled == b.enabled && a.key_mode == b.key_mode && prefixes(a.agents) == prefixes(b.agents) &&
         a.agent_ports == b.agent_ports && prefixes(a.internal) == prefixes(b.internal) &&
         prefixes(a.remediation) == prefixes(b.remediation) && a.quarantine_classes == b.quarantine_classes &&
         a.hard_tags == b.hard_tags && a.tick_seconds == b.tick_seconds && a.max_agents == b.max_agents &&
         a.tick_agents == b.tick_agents && a.idle_timeout == b.idle_timeout && a.warmup_ticks == b.warmup_ticks &&
         a.trust_initial == b.trust_initial && a.trust_gain == b.trust_gain && a.trust_loss == b.trust_loss &&
         a.trust_threshold == b.trust_threshold && a.monitor_above == b.monitor_above &&
         a.quarantine_above == b.quarantine_above && a.restore_below == b.restore_below &&
         a.restore_trust == b.restore_trust && a.min_dwell_ticks == b.min_dwell_ticks &&
         a.isolate_violations == b.isolate_violations && a.pins == b.pins;
}

bool same_paths(const route::RoutingConfig& a, const route::RoutingConfig& b) {
  if (a.paths.size() != b.paths.size()) return false;
  for (std::size_t i = 0; i < a.paths.size(); ++i)
    if (a.paths[i].name != b.paths[i].name || a.paths[i].port != b.paths[i].port) return false;
  return true;
}

}  // namespace

Json Engine::apply_reload(const config::Config& next) {
  Json applied = Json::array({"classes"}), restart = Json::array();
  if (!same_dataplane(cfg_.dataplane, next.dataplane)) restart.push_back("[dataplane]");
  if (!same_ports(cfg_, next)) restart.push_back("[[port]]");
  if (cfg_.flow.capacity != next.flow.capacity || cfg_.flow.timeout_ns != next.flow.timeout_ns) restart.push_back("[flow]");
  if (cfg_.classify_enabled != next.classify_enabled) restart.push_back("[classify] enabled");
  if (!same_behavior(cfg_.behavior, next.behavior)) restart.push_back("[behavior]");
  // Routing: the same paths, in the same order, on the same ports.
  if (routes_ != nullptr && next.routing.enabled() && same_paths(cfg_.routing, next.routing)) {
    auto table = std::make_shared<const route::RouteTable>(next.routing, route_macs_);
    std::lock_guard<std::mutex> g(ctl_->mu);
    ctl_->route_replace = std::move(table);
    applied.push_back("[routing]");
  } else if ((routes_ != nullptr) != next.routing.enabled() || (routes_ != nullptr && !same_paths(cfg_.routing, next.routing))) {
    restart.push_back("[[path]]");
  }
  // XDP: the policy maps; where the maps are, where the guard runs, and the default zone stay.
  const auto& e = cfg_.enforce;
  const auto& ne = next.enforce;
  if (e.enabled != ne.enabled || e.bpffs != ne.bpffs || e.interfaces != ne.interfaces || e.generic != ne.generic ||
      e.default_zone != ne.default_zone)
    restart.push_back("[enforce] enabled/bpffs/interfaces/mode/default_zone");
  if (enforcer_ != nullptr && ne.enabled && behavior_ != nullptr) {
    if (auto r = enforcer_->set_policy(ne, behavior_->config()); r) applied.push_back("[enforce] policy");
    else restart.push_back("[enforce] policy: " + r.error());
  }
  // The control socket: its limits now; where it is and who may use it at a restart.
  const auto& c = cfg_.control;
  const auto& nc = next.control;
  if (c.enabled != nc.enabled || c.socket != nc.socket || c.group != nc.group || c.metrics != nc.metrics)
    restart.push_back("[control] enabled/socket/group/metrics");
  control_srv_->set_limits(nc);
  applied.push_back("[control] limits");
  return Json{{"reloaded", true}, {"applied", applied}, {"needs_restart", restart}};
}

}  // namespace tcpr::dataplane
