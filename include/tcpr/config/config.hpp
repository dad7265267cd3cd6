// config.hpp — tcp-routed's configuration: TOML (toml++) → validated plain structs.
//
// load_config() reads a file, parse_config() a string (the embedded default). Every key is
// checked: an unknown key, a wrong type or an out-of-range value is an Error whose message starts
// with "FILE:LINE:COLUMN: " and names the key, and start-up stops there. Defaults are documented
// in config/tcp-route.toml, the commented reference configuration.
//
// Keys: [dataplane] workers, burst_size, mbufs, mbuf_cache, rx_descriptors, tx_descriptors,
// tx_drain_us, eal_args; [flow] capacity, expire_budget, [flow.timeouts] tcp_opening,
// tcp_established, tcp_closing, tcp_closed, udp, other (seconds); [classify] enabled, classes,
// inspect_depth, head_bytes, head_slots; [[port]] name, device, egress, mac; [replay] ingress;
// [behavior] (src/config/config_behavior.cpp); [[path]], [routing] (src/config/config_route.cpp);
// [enforce] (src/config/config_route.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tcpr/behavior/behavior.hpp"
#include "tcpr/classify/classifier.hpp"
#include "tcpr/control/control_config.hpp"
#include "tcpr/flow/flow_table.hpp"
#include "tcpr/route/route_config.hpp"
#include "tcpr/util/result.hpp"

namespace tcpr::config {

struct PortConfig {
  std::string name;    // [a-z0-9_-]{1,32}; names the output capture in replay (out/<name>.pcap)
  std::string device;  // DPDK device string: a PCI address or a vdev ("net_af_packet0,iface=veth0")
  std::string egress;  // packets received here: a port name, "drop", or "route" (semantic routing)
  route::Mac mac{};    // source MAC of routed packets leaving here (`mac`); else the device's own
  bool has_mac = false;
};

// [enforce]: the XDP zone guard (src/enforce/, README "XDP enforcement").
struct EnforceConfig {
  bool enabled = false;
  std::string bpffs = "/sys/fs/bpf/tcp-route";   // maps and program pinned here
  std::vector<std::string> interfaces;           // the guard is attached to these at start
  bool generic = false;                          // mode = "generic" (skb) instead of "native"
  std::uint8_t default_zone = TCPR_ZONE_TRUSTED; // addresses the maps do not hold
  bool sample_monitored = false;
  bool allow_dhcp = true;
  std::vector<packet::IpAddr> services;          // DNS servers QUARANTINED agents may ask
  bool detach_on_exit = false;                   // else the guard stays attached when tcp-routed exits
};

struct DataplaneConfig {
  std::uint32_t workers = 1;
  std::uint32_t burst_size = 32;
  std::uint32_t mbufs = 16383;          // per mempool; 2^n - 1 is optimal for the ring
  std::uint32_t mbuf_cache = 256;
  std::uint32_t rx_descriptors = 1024;
  std::uint32_t tx_descriptors = 1024;
  std::uint32_t tx_drain_us = 100;      // flush partially filled TX buffers after this long
  std::vector<std::string> eal_args;    // before those given after `--` on the command line
};

struct Config {
  DataplaneConfig dataplane;
  flow::FlowTableConfig flow;
  std::uint32_t expire_budget = 64;     // flows aged per worker per burst at most
  bool classify_enabled = true;
  std::string classes_path;             // empty: the built-in config/classes.toml
  classify::ClassifyConfig classify;
  std::vector<PortConfig> ports;
  behavior::BehaviorConfig behavior;   // [behavior]; on when agents or agent ports are set
  route::RoutingConfig routing;        // [[path]] and [routing]; on when paths exist
  EnforceConfig enforce;               // [enforce]
  control::ControlConfig control;      // [control]: the control socket (live mode)
  std::string replay_ingress;           // port the capture is received on; default: the first
  std::string source;                   // file name the config came from, for messages

  // Index of the port named `name`, or -1.
  int port_index(std::string_view name) const noexcept;
};

Result<Config> load_config(const std::string& path);
Result<Config> parse_config(std::string_view text, const std::string& source_name);

// The default replay configuration, compiled in from config/replay.toml.
std::string_view embedded_replay_config() noexcept;
// The default class definitions, compiled in from config/classes.toml.
std::string_view embedded_classes() noexcept;

// The class database the configuration names (classify.classes, or the built-in one); null when
// classification is off.
Result<std::shared_ptr<const classify::ClassDb>> load_classes(const Config& cfg);

}  // namespace tcpr::config
