// [[path]] and [routing]: semantic routing. Reference with defaults and meanings:
// config/example-paths.toml; README "Semantic routing".
#include <fmt/format.h>

#include <algorithm>

#include "reader.hpp"
#include "tcpr/config/config.hpp"

namespace tcpr::config::detail {

namespace {

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 32 || n == "drop") return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void read_strategy(Reader& r, const toml::node& n, const std::string& what, route::Strategy& out) {
  const auto* s = n.as_string();
  if (s == nullptr || !route::strategy_from_name(s->get(), out))
    r.fail(n, fmt::format("'{}' must be one of semantic, trust_weighted, least_loaded, lowest_latency, "
                          "redundant, consistent_hash",
                          what));
}

void read_path(const toml::table& t, Config& cfg) {
  Reader r(t, "path", cfg.source);
  route::PathConfig p;
  r.get_string("name", p.name, true);
  r.get_string("port", p.port, true);
  std::string mac;
  r.get_string("next_hop_mac", mac, true);
  if (!parse_mac(mac, p.next_hop_mac)) r.fail(*t.get("next_hop_mac"), fmt::format("'path.next_hop_mac' = '{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", mac));
  if (const toml::node* v = r.node("vlan")) {
    if (const auto* s = v->as_string(); s != nullptr && s->get() == "strip") {
      p.vlan = route::VlanAction::kStrip;
      r.mark_seen("vlan");
    } else if (v->as_integer() != nullptr) {
      r.get_uint("vlan", p.vlan_id, 1, 4094);
      p.vlan = route::VlanAction::kSet;
    } else {
      r.fail(*v, "'path.vlan' must be a VLAN id (1-4094) or \"strip\"");
    }
  }
  r.get_bool("l3", p.l3);
  r.get_string_array("classes", p.classes);
  r.get_string_array("capabilities", p.capabilities);
  r.get_number("capacity_mbps", p.capacity_mbps, 0.001, 1e7);
  r.get_number("latency_us", p.latency_us, 0.0, 1e9);
  r.get_number("min_trust", p.min_trust, 0.0, 1.0);
  r.get_bool("exclusive", p.exclusive);
  std::string role;
  r.get_string("role", role);
  if (role == "quarantine") p.role = route::PathRole::kQuarantine;
  else if (role == "monitor") p.role = route::PathRole::kMonitor;
  else if (!role.empty()) r.fail(*t.get("role"), "'path.role' must be \"quarantine\" or \"monitor\"");
  r.finish();
  if (!valid_name(p.name)) r.fail(t, fmt::format("path name '{}' must be 1-32 of [a-z0-9_-] and not 'drop'", p.name));
  if (cfg.routing.path_index(p.name) >= 0) r.fail(t, fmt::format("duplicate path name '{}'", p.name));
  if (p.exclusive && p.capabilities.empty())
    r.fail(*t.get("exclusive"), "'path.exclusive' needs capabilities: no flow could use the path");
  const int port = cfg.port_index(p.port);
  if (port < 0) r.fail(*t.get("port"), fmt::format("path.port: no port named '{}'", p.port));
  p.port_index = static_cast<std::uint16_t>(port);
  cfg.routing.paths.push_back(std::move(p));
}

// True when [routing.needs] was given (it replaces the built-in need).
bool read_routing_table(Reader& root, Config& cfg) {
  const toml::table* t = root.get_table("routing");
  if (t == nullptr) return false;
  route::RoutingConfig& rc = cfg.routing;
  Reader r(*t, "routing", cfg.source);
  if (const toml::node* n = r.node("strategy")) {
    r.mark_seen("strategy");
    read_strategy(r, *n, "routing.strategy", rc.strategy);
  }
  if (const toml::table* w = r.get_table("weights")) {
    Reader wr(*w, "routing.weights", cfg.source);
    wr.get_number("affinity", rc.w_affinity, 0.0, 1e6);
    wr.get_number("trust", rc.w_trust, 0.0, 1e6);
    wr.get_number("load", rc.w_load, 0.0, 1e6);
    wr.get_number("capability", rc.w_capability, 0.0, 1e6);
    wr.finish();
  }
  r.get_number("behavioral_sensitivity", rc.behavioral_sensitivity, 0.0, 1.0);
  r.get_number("min_score", rc.min_score, 0.0, 1e6);
  r.get_bool("needs_hard", rc.needs_hard);
  r.get_string("default_path", rc.default_path);
  r.get_number("load_interval", rc.load_interval, 0.001, 60.0);
  r.get_number("load_alpha", rc.load_alpha, 0.001, 1.0);
  if (const toml::table* c = r.get_table("classes")) {
    for (const auto& [k, v] : *c) {
      route::ClassStrategy cs{std::string(k.str()), route::Strategy::kSemantic};
      read_strategy(r, v, fmt::format("routing.classes.{}", k.str()), cs.strategy);
      rc.class_strategy.push_back(std::move(cs));
    }
    // The most specific glob first: the longest, then by name (TOML tables have no order).
    std::stable_sort(rc.class_strategy.begin(), rc.class_strategy.end(), [](const auto& a, const auto& b) {
      return a.class_glob.size() != b.class_glob.size() ? a.class_glob.size() > b.class_glob.size()
                                                        : a.class_glob < b.class_glob;
    });
  }
  if (const toml::table* z = r.get_table("zones")) {
    for (const auto& [k, v] : *z) {
      const behavior::Zone zone = behavior::zone_from_name(k.str());
      if (zone >= rc.zone_strategy.size()) r.fail(v, fmt::format("routing.zones: '{}' is not a zone", k.str()));
      read_strategy(r, v, fmt::format("routing.zones.{}", k.str()), rc.zone_strategy[zone]);
    }
  }
  const toml::table* needs = r.get_table("needs");
  if (needs != nullptr) {
    rc.needs.clear();
    for (const auto& [k, v] : *needs) {
      route::Need need{std::string(k.str()), {}};
      const auto* a = v.as_array();
      if (a == nullptr) r.fail(v, fmt::format("'routing.needs.{}' must be an array of capability names", k.str()));
      for (const auto& e : *a) {
        const auto* s = e.as_string();
        if (s == nullptr) r.fail(e, fmt::format("'routing.needs.{}' must contain only strings", k.str()));
        const bool offered = std::any_of(rc.paths.begin(), rc.paths.end(), [&](const route::PathConfig& p) {
          return std::find(p.capabilities.begin(), p.capabilities.end(), s->get()) != p.capabilities.end();
        });
        if (!offered) r.fail(e, fmt::format("routing.needs.{}: no path has capability '{}'", k.str(), s->get()));
        need.capabilities.push_back(s->get());
      }
      rc.needs.push_back(std::move(need));
    }
  }
  r.finish();
  if (!rc.default_path.empty() && rc.path_index(rc.default_path) < 0)
    r.fail(*t->get("default_path"), fmt::format("routing.default_path: no path named '{}'", rc.default_path));
  return needs != nullptr;
}

}  // namespace

// A MAC address as agents keyed by MAC are written (behavior::parse_agent parses them).
bool parse_mac(const std::string& s, route::Mac& out) {
  const auto k = behavior::parse_agent(s, behavior::KeyMode::kMac);
  if (!k) return false;
  std::copy(k.value().addr, k.value().addr + 6, out.begin());
  return true;
}

// Paths refer to ports, so this runs after read_ports(); ports' `egress = "route"` is checked here.
void read_routing(Reader& root, Config& cfg) {
  if (const toml::array* a = root.get_array_of_tables("path")) {
    for (const auto& e : *a) read_path(*e.as_table(), cfg);
    if (cfg.routing.paths.size() > route::kMaxPaths) root.fail(*a, fmt::format("at most {} paths", route::kMaxPaths));
    std::vector<std::string> caps;
    for (const auto& p : cfg.routing.paths)
      for (const auto& c : p.capabilities)
        if (std::find(caps.begin(), caps.end(), c) == caps.end()) caps.push_back(c);
    if (caps.size() > route::kMaxCapabilities) root.fail(*a, fmt::format("at most {} distinct capabilities", route::kMaxCapabilities));
  }
  if (!read_routing_table(root, cfg)) {
    // The built-in need (secrets go to a DLP path) applies only where a DLP path exists.
    const bool dlp = std::any_of(cfg.routing.paths.begin(), cfg.routing.paths.end(), [](const route::PathConfig& p) {
      return std::find(p.capabilities.begin(), p.capabilities.end(), "dlp") != p.capabilities.end();
    });
    if (!dlp) cfg.routing.needs.clear();
  }
  const bool ordinary = std::any_of(cfg.routing.paths.begin(), cfg.routing.paths.end(),
                                    [](const route::PathConfig& p) { return p.role == route::PathRole::kNone; });
  for (const auto& port : cfg.ports) {
    if (port.egress != "route") continue;
    if (!ordinary) {
      const toml::node* n = root.node("port");
      root.fail(n != nullptr ? *n : root.table(),
                fmt::format("port '{}': egress = \"route\" needs at least one [[path]] without a role", port.name));
    }
  }
}

void read_enforce(Reader& root, Config& cfg) {
  const toml::table* t = root.get_table("enforce");
  if (t == nullptr) return;
  EnforceConfig& e = cfg.enforce;
  Reader r(*t, "enforce", cfg.source);
  r.get_bool("enabled", e.enabled);
  r.get_string("bpffs", e.bpffs);
  r.get_string_array("interfaces", e.interfaces);
  std::string mode = "native", zone = "TRUSTED";
  r.get_string("mode", mode);
  if (mode != "native" && mode != "generic") r.fail(*t->get("mode"), "'enforce.mode' must be \"native\" or \"generic\"");
  e.generic = mode == "generic";
  r.get_string("default_zone", zone);
  e.default_zone = behavior::zone_from_name(zone);
  if (e.default_zone >= TCPR_ZONE__COUNT) r.fail(*t->get("default_zone"), fmt::format("'enforce.default_zone' = '{}' is not a zone", zone));
  r.get_bool("sample_monitored", e.sample_monitored);
  r.get_bool("allow_dhcp", e.allow_dhcp);
  std::vector<std::string> services;
  r.get_string_array("services", services);
  for (const auto& s : services) {
    auto p = behavior::parse_prefix(s);
    if (!p || p.value().bits != 128) r.fail(*t->get("services"), fmt::format("'enforce.services': '{}' is not an address", s));
    e.services.push_back(p.value().net);
  }
  r.get_bool("detach_on_exit", e.detach_on_exit);
  r.finish();
  if (e.bpffs.empty() || e.bpffs[0] != '/' || e.bpffs.rfind("/sys/fs/bpf", 0) != 0)
    r.fail(*t, fmt::format("'enforce.bpffs' = '{}' must be a directory under /sys/fs/bpf", e.bpffs));
}

void read_control(Reader& root, Config& cfg) {
  const toml::table* t = root.get_table("control");
  if (t == nullptr) return;
  control::ControlConfig& c = cfg.control;
  Reader r(*t, "control", cfg.source);
  r.get_bool("enabled", c.enabled);
  r.get_string("socket", c.socket);
  r.get_string("group", c.group);
  r.get_uint("max_clients", c.max_clients, 1, 1024);
  r.get_uint("max_line", c.max_line, 256, 16u << 20);
  r.get_uint("max_output", c.max_output, 4096, 1u << 30);
  r.get_number("idle_timeout", c.idle_timeout, 0.1, 86400.0);
  r.get_string("metrics", c.metrics);
  r.finish();
  if (!c.metrics.empty())
    if (auto ok = control::check_metrics_address(c.metrics); !ok) r.fail(*t->get("metrics"), ok.error());
  // sockaddr_un holds 107 bytes and a NUL.
  if (c.socket.empty() || c.socket[0] != '/' || c.socket.size() > 107)
    r.fail(t->get("socket") != nullptr ? *t->get("socket") : static_cast<const toml::node&>(*t),
           fmt::format("'control.socket' = '{}' must be an absolute path of at most 107 bytes", c.socket));
}

}  // namespace tcpr::config::detail
