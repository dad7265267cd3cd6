// [behavior]: who the agents are, ticks, cohorts, scoring, trust and zones. Reference with
// defaults and meanings: config/tcp-route.toml; README "Behaviour".
#include <fmt/format.h>

#include "reader.hpp"
#include "tcpr/config/config.hpp"

namespace tcpr::config::detail {

namespace {

void read_prefixes(Reader& r, std::string_view key, behavior::PrefixSet& out) {
  const toml::node* n = r.node(key);
  std::vector<std::string> items;
  r.get_string_array(key, items);
  for (const auto& item : items) {
    auto p = behavior::parse_prefix(item);
    if (!p) r.fail(*n, fmt::format("'{}': {}", r.qualified(key), p.error()));
    out.add(p.value());
  }
}

}  // namespace

void read_behavior(Reader& root, Config& cfg) {
  const toml::table* t = root.get_table("behavior");
  if (t == nullptr) return;
  behavior::BehaviorConfig& b = cfg.behavior;
  Reader r(*t, "behavior", cfg.source);
  read_prefixes(r, "agents", b.agents);
  r.get_string_array("agent_ports", b.agent_ports);
  read_prefixes(r, "internal", b.internal);
  std::string key = "ip";
  r.get_string("key", key);
  if (key == "ip") b.key_mode = behavior::KeyMode::kIp;
  else if (key == "mac") b.key_mode = behavior::KeyMode::kMac;
  else if (key == "vlan_ip") b.key_mode = behavior::KeyMode::kVlanIp;
  else r.fail(*t->get("key"), "'behavior.key' must be \"ip\", \"mac\" or \"vlan_ip\"");
  r.get_number("tick", b.tick_seconds, 0.001, 60.0);
  r.get_uint("max_agents", b.max_agents, 16, 1u << 24);
  r.get_uint("tick_agents", b.tick_agents, 16, 1u << 24);
  r.get_number("idle_timeout", b.idle_timeout, 1.0, 86400.0 * 30);

  if (const toml::table* ct = r.get_table("cohorts")) {
    Reader c(*ct, "behavior.cohorts", cfg.source);
    c.get_uint("prefix_v4", b.cohort_prefix_v4, 0, 32);
    c.get_uint("parent_prefix_v4", b.parent_prefix_v4, 0, 32);
    c.get_uint("prefix_v6", b.cohort_prefix_v6, 0, 128);
    c.get_uint("parent_prefix_v6", b.parent_prefix_v6, 0, 128);
    c.get_uint("min_agents", b.min_cohort, 2, 1u << 20);
    c.finish();
    if (b.parent_prefix_v4 > b.cohort_prefix_v4 || b.parent_prefix_v6 > b.cohort_prefix_v6)
      c.fail(*ct, "'behavior.cohorts': a parent prefix must not be longer than the cohort prefix");
  }
  if (const toml::array* groups = r.get_array_of_tables("group")) {
    for (const auto& e : *groups) {
      Reader g(*e.as_table(), "behavior.group", cfg.source);
      behavior::CohortGroup grp;
      g.get_string("name", grp.name, true);
      read_prefixes(g, "prefixes", grp.prefixes);
      g.finish();
      if (grp.prefixes.empty()) g.fail(e, "'behavior.group.prefixes' must name at least one prefix");
      b.cohorts.push_back(std::move(grp));
    }
  }
  if (const toml::table* st = r.get_table("score")) {
    Reader s(*st, "behavior.score", cfg.source);
    s.get_number("alpha_fast", b.alpha_fast, 0.001, 1.0);
    s.get_number("alpha_medium", b.alpha_medium, 0.001, 1.0);
    s.get_number("alpha_slow", b.alpha_slow, 0.0001, 1.0);
    s.get_number("alpha_cohort", b.alpha_cohort, 0.001, 1.0);
    s.get_uint("warmup_ticks", b.warmup_ticks, 1, 1u << 20);
    s.get_number("shrinkage", b.scorer.shrinkage, 0.0, 1.0);
    s.get_number("variance_floor", b.scorer.variance_floor, 0.001, 100.0);
    s.get_number("distance_scale", b.scorer.distance_scale, 0.01, 1e6);
    s.get_number("own_weight", b.scorer.own_weight, 0.0, 1.0);
    s.finish();
  }
  if (const toml::table* bt = r.get_table("burst")) {
    Reader s(*bt, "behavior.burst", cfg.source);
    s.get_bool("enabled", b.burst.enabled);
    s.get_number("floor", b.burst.floor, 1e-6, 1e6);
    s.get_number("quiet_floor", b.burst.quiet_floor, 1e-9, 1e6);
    s.get_number("scale", b.burst.scale, 0.01, 1e6);
    s.get_number("cold_spread", b.burst.cold_spread, 0, 100);
    s.finish();
  }
  if (const toml::table* tt = r.get_table("trust")) {
    Reader s(*tt, "behavior.trust", cfg.source);
    s.get_number("initial", b.trust_initial, 0.0, 1.0);
    s.get_number("gain", b.trust_gain, 0.0, 1.0);
    s.get_number("loss", b.trust_loss, 0.0, 1.0);
    s.get_number("threshold", b.trust_threshold, 0.0, 1.0);
    s.get_number("restore", b.restore_trust, 0.0, 1.0);
    s.finish();
  }
  if (const toml::table* zt = r.get_table("zones")) {
    Reader z(*zt, "behavior.zones", cfg.source);
    z.get_number("monitor_above", b.monitor_above, 0.0, 1.0);
    z.get_number("quarantine_above", b.quarantine_above, 0.0, 1.0);
    z.get_number("restore_below", b.restore_below, 0.0, 1.0);
    z.get_uint("quarantine_ticks", b.quarantine_ticks, 1, 1u << 20);
    z.get_uint("trusted_ticks", b.trusted_ticks, 1, 1u << 20);
    z.get_uint("min_dwell_ticks", b.min_dwell_ticks, 0, 1u << 20);
    z.get_uint("isolate_violations", b.isolate_violations, 1, 1u << 20);
    z.get_uint("restore_min_ticks", b.restore_min_ticks, 1, 1u << 24);
    read_prefixes(z, "remediation", b.remediation);
    z.get_string_array("quarantine_classes", b.quarantine_classes);
    z.get_string_array("hard_tags", b.hard_tags);
    z.finish();
    if (!(b.restore_below < b.monitor_above && b.monitor_above < b.quarantine_above))
      z.fail(*zt, "'behavior.zones': need restore_below < monitor_above < quarantine_above");
  }
  if (const toml::array* pins = r.get_array_of_tables("pin")) {
    for (const auto& e : *pins) {
      Reader p(*e.as_table(), "behavior.pin", cfg.source);
      std::string agent, zone;
      p.get_string("agent", agent, true);
      p.get_string("zone", zone, true);
      p.finish();
      auto k = behavior::parse_agent(agent, b.key_mode);
      if (!k) p.fail(*e.as_table()->get("agent"), fmt::format("'behavior.pin.agent': {}", k.error()));
      const behavior::Zone z = behavior::zone_from_name(zone);
      if (z >= TCPR_ZONE__COUNT)
        p.fail(*e.as_table()->get("zone"), fmt::format("'behavior.pin.zone' = '{}' is not a zone", zone));
      b.pins.emplace_back(k.value(), z);
    }
  }
  r.finish();
  for (const auto& name : b.agent_ports) {
    if (cfg.port_index(name) < 0)
      r.fail(*t->get("agent_ports"), fmt::format("'behavior.agent_ports': no port named '{}'", name));
  }
  b.enabled = !b.agents.empty() || !b.agent_ports.empty();
}

}  // namespace tcpr::config::detail
