// route_config.hpp — semantic routing's configuration: paths ([[path]]) and the [routing] table,
// as plain values. Read and validated by src/config/config_route.cpp; resolved into an immutable
// RouteTable (route_table.hpp) when the dataplane starts. The reference is
// config/example-paths.toml.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tcpr::route {

inline constexpr unsigned kMaxPaths = 32;          // a path set is a 32-bit mask
inline constexpr unsigned kMaxCapabilities = 32;   // capabilities are bits
inline constexpr std::uint16_t kNoPath = 0xffff;

// How a path is picked for a flow (DESIGN.md, "Semantic routing").
enum class Strategy : std::uint8_t {
  kSemantic = 0,     // the best score
  kTrustWeighted,    // a draw weighted by score^(1 + 4·trust), fixed per flow by its hash
  kLeastLoaded,      // the lowest measured load (ties: the better score)
  kLowestLatency,    // the lowest configured latency (ties: the better score)
  kRedundant,        // the best score, plus a copy on the monitor path (else the second best)
  kConsistentHash,   // rendezvous hashing over the eligible paths: a lost path moves only its flows
  kCount
};
const char* strategy_name(Strategy s) noexcept;
bool strategy_from_name(std::string_view name, Strategy& out) noexcept;

// A path with a role is never an ordinary choice: `quarantine` carries QUARANTINED agents'
// permitted flows, `monitor` receives mirrored copies.
enum class PathRole : std::uint8_t { kNone = 0, kQuarantine, kMonitor };

enum class VlanAction : std::uint8_t {
  kKeep = 0,   // leave the frame's tags as they are
  kSet,        // rewrite the outer tag's VLAN id, or push an 802.1Q tag onto an untagged frame
  kStrip       // remove the outer tag
};

using Mac = std::array<std::uint8_t, 6>;

struct PathConfig {
  std::string name;                       // [a-z0-9_-]{1,32}
  std::string port;                       // egress port name
  std::uint16_t port_index = 0;           // resolved by the config reader
  Mac next_hop_mac{};
  VlanAction vlan = VlanAction::kKeep;
  std::uint16_t vlan_id = 0;              // with kSet: 1..4094
  bool l3 = false;                        // decrement TTL / hop limit (RFC 1624 checksum update)
  std::vector<std::string> classes;       // affinity: class names or globs ("llm.*")
  std::vector<std::string> capabilities;  // e.g. "dlp", "inspect"
  double capacity_mbps = 1000;
  double latency_us = 100;
  double min_trust = 0;                   // agents with less trust may not use the path
  bool exclusive = false;                 // only flows needing one of its capabilities may use it
  PathRole role = PathRole::kNone;
};

// A strategy for flows whose class matches a glob, first match wins.
struct ClassStrategy {
  std::string class_glob;
  Strategy strategy = Strategy::kSemantic;
};

// Capabilities a flow needs: `match` is a class glob ("llm.*") or "tag:NAME" ("tag:secret").
struct Need {
  std::string match;
  std::vector<std::string> capabilities;
};

struct RoutingConfig {
  std::vector<PathConfig> paths;          // empty: no routing (ports' static egress)
  Strategy strategy = Strategy::kSemantic;
  std::vector<ClassStrategy> class_strategy;
  // By zone (tcpr_zone order); kCount: none. A zone's `redundant` adds a mirror to whatever the
  // class strategy picked; any other strategy replaces the class strategy for that zone.
  std::array<Strategy, 4> zone_strategy{Strategy::kCount, Strategy::kRedundant, Strategy::kCount, Strategy::kCount};
  double w_affinity = 0.3, w_trust = 0.3, w_load = 0.2, w_capability = 0.2;
  double behavioral_sensitivity = 0.5;    // score × (1 − anomaly × this)
  double min_score = 0;                   // paths scoring less are not eligible
  bool needs_hard = true;                 // a path without a needed capability is not eligible
  std::vector<Need> needs{{"tag:secret", {"dlp"}}};
  std::string default_path;               // packets without a flow (ARP, …) on a routed port; "" drops
  double load_interval = 0.1;             // s: load measurement period
  double load_alpha = 0.5;                // EWMA weight of the newest period

  bool enabled() const noexcept { return !paths.empty(); }
  int path_index(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < paths.size(); ++i)
      if (paths[i].name == name) return static_cast<int>(i);
    return -1;
  }
};

// Shell-style glob: `*` any run of characters, `?` one character; everything else literal.
bool glob_match(std::string_view pattern, std::string_view s) noexcept;

}  // namespace tcpr::route
