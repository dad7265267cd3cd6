#include "tcpr/config/config.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "embedded_classes.hpp"
#include "embedded_replay_config.hpp"
#include "reader.hpp"

namespace tcpr::config {

namespace {

using detail::ConfigError;
using detail::Reader;

bool valid_port_name(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return s != "drop" && s != "route";
}

constexpr std::uint64_t kSecond = 1'000'000'000ull;

void read_flow(Reader& root, Config& cfg) {
  const toml::table* t = root.get_table("flow");
  if (t == nullptr) return;
  Reader r(*t, "flow", cfg.source);
  r.get_uint("capacity", cfg.flow.capacity, 1, 1u << 26);
  r.get_uint("expire_budget", cfg.expire_budget, 1, 65536);
  if (const toml::table* tt = r.get_table("timeouts")) {
    Reader tr(*tt, "flow.timeouts", cfg.source);
    static constexpr const char* kNames[flow::kTimeoutClasses] = {
        "tcp_opening", "tcp_established", "tcp_closing", "tcp_closed", "udp", "other"};
    for (std::size_t i = 0; i < flow::kTimeoutClasses; ++i) {
      std::uint64_t secs = cfg.flow.timeout_ns[i] / kSecond;
      tr.get_uint(kNames[i], secs, 1, 86400);
      cfg.flow.timeout_ns[i] = secs * kSecond;
    }
    tr.finish();
  }
  r.finish();
}

void read_classify(Reader& root, Config& cfg) {
  const toml::table* t = root.get_table("classify");
  if (t == nullptr) return;
  Reader r(*t, "classify", cfg.source);
  r.get_bool("enabled", cfg.classify_enabled);
  r.get_string("classes", cfg.classes_path);
  r.get_uint("inspect_depth", cfg.classify.inspect_depth, 64, 65535);
  r.get_uint("head_bytes", cfg.classify.head_bytes, 64, 16384);
  r.get_uint("head_slots", cfg.classify.head_slots, 1, 1u << 20);
  r.finish();
  if (cfg.classify.head_bytes > cfg.classify.inspect_depth) {
    const toml::node* hb = t->get("head_bytes");
    r.fail(hb != nullptr ? *hb : static_cast<const toml::node&>(*t),
           "'classify.head_bytes' must not exceed 'classify.inspect_depth'");
  }
  // A relative classes path is relative to the configuration file.
  if (!cfg.classes_path.empty() && cfg.classes_path[0] != '/') {
    const auto slash = cfg.source.rfind('/');
    if (slash != std::string::npos) cfg.classes_path = cfg.source.substr(0, slash + 1) + cfg.classes_path;
  }
}

void read_dataplane(Reader& root, Config& cfg) {
  const toml::table* t = root.get_table("dataplane");
  if (t == nullptr) return;
  Reader r(*t, "dataplane", cfg.source);
  auto& d = cfg.dataplane;
  r.get_uint("workers", d.workers, 1, 64);
  r.get_uint("burst_size", d.burst_size, 1, 512);
  r.get_uint("mbufs", d.mbufs, 1023, 1u << 24);
  r.get_uint("mbuf_cache", d.mbuf_cache, 0, 512);
  r.get_uint("rx_descriptors", d.rx_descriptors, 64, 16384);
  r.get_uint("tx_descriptors", d.tx_descriptors, 64, 16384);
  r.get_uint("tx_drain_us", d.tx_drain_us, 1, 1'000'000);
  r.get_string_array("eal_args", d.eal_args);
  r.finish();
}

void read_ports(Reader& root, Config& cfg) {
  const toml::array* a = root.get_array_of_tables("port");
  if (a == nullptr) return;
  for (const auto& e : *a) {
    Reader r(*e.as_table(), "port", cfg.source);
    PortConfig p;
    r.get_string("name", p.name, true);
    r.get_string("device", p.device);
    r.get_string("egress", p.egress);
    std::string mac;
    r.get_string("mac", mac);
    if (!mac.empty() && !detail::parse_mac(mac, p.mac))
      r.fail(*e.as_table()->get("mac"), fmt::format("'port.mac' = '{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", mac));
    p.has_mac = !mac.empty();
    r.finish();
    if (!valid_port_name(p.name))
      r.fail(e, fmt::format("port name '{}' must be 1-32 of [a-z0-9_-] and not 'drop' or 'route'", p.name));
    if (cfg.port_index(p.name) >= 0) r.fail(e, fmt::format("duplicate port name '{}'", p.name));
    cfg.ports.push_back(std::move(p));
  }
  if (cfg.ports.size() > 32) root.fail(*a, "at most 32 ports");
  // Egress names refer to ports declared anywhere in the file, so check once all are known.
  for (std::size_t i = 0; i < cfg.ports.size(); ++i) {
    const PortConfig& p = cfg.ports[i];
    if (!p.egress.empty() && p.egress != "drop" && p.egress != "route" && cfg.port_index(p.egress) < 0)
      root.fail(*(*a)[i].as_table()->get("egress"),
                fmt::format("port.egress: no port named '{}' (nor \"drop\" or \"route\")", p.egress));
  }
}

}  // namespace

int Config::port_index(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (ports[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<Config> parse_config(std::string_view text, const std::string& source_name) {
  Config cfg;
  cfg.source = source_name;
  try {
    const toml::table doc = toml::parse(text, source_name);
    Reader root(doc, "", cfg.source);
    read_dataplane(root, cfg);
    read_flow(root, cfg);
    read_classify(root, cfg);
    read_ports(root, cfg);
    detail::read_behavior(root, cfg);
    detail::read_routing(root, cfg);
    detail::read_enforce(root, cfg);
    detail::read_control(root, cfg);
    if (const toml::table* t = root.get_table("replay")) {
      Reader r(*t, "replay", cfg.source);
      r.get_string("ingress", cfg.replay_ingress);
      r.finish();
      if (!cfg.replay_ingress.empty() && cfg.port_index(cfg.replay_ingress) < 0)
        r.fail(*t->get("ingress"), fmt::format("replay.ingress: no port named '{}'", cfg.replay_ingress));
    }
    root.finish();
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Error{fmt::format("{}:{}:{}: {}", source_name, b.line, b.column, e.description())};
  } catch (const ConfigError& e) {
    return Error{e.message};
  }
  return cfg;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open configuration file", path)};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{fmt::format("{}: cannot read configuration file", path)};
  return parse_config(ss.str(), path);
}

std::string_view embedded_replay_config() noexcept { return kEmbeddedReplayConfig; }

std::string_view embedded_classes() noexcept { return kEmbeddedClasses; }

Result<std::shared_ptr<const classify::ClassDb>> load_classes(const Config& cfg) {
  if (!cfg.classify_enabled) return std::shared_ptr<const classify::ClassDb>{};
  if (cfg.classes_path.empty()) return classify::ClassDb::parse(kEmbeddedClasses, "<built-in classes.toml>");
  return classify::ClassDb::load(cfg.classes_path);
}

}  // namespace tcpr::config
