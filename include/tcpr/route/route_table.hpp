// route_table.hpp — the paths as the workers see them, and what the workers share about them.
//
// RouteTable is immutable: the control side builds one at start and a new one for every change of
// a path's state (operator up/down, its port's link), and publishes it to the workers as an RCU snapshot
// (SnapshotPublisher). LoadBoard carries each worker's measured rate per path (relaxed atomics,
// one row per worker, written once per load interval). PathEvent is a replay's schedule of path
// state changes (`--path-events`), applied by every worker at the exact capture time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tcpr/route/rewrite.hpp"
#include "tcpr/route/route_config.hpp"
#include "tcpr/util/result.hpp"
#include "tcpr/util/snapshot.hpp"

namespace tcpr::route {

struct Path {
  std::string name;
  std::uint16_t port = 0;
  RewriteSpec rewrite;
  std::uint32_t caps = 0;           // capability bits (RouteTable::capability_bit)
  float capacity_bytes_s = 0;
  float latency_us = 0;
  float min_trust = 0;
  bool exclusive = false;
  PathRole role = PathRole::kNone;
  std::uint64_t seed = 0;           // rendezvous hashing: the hash of the name, so a path keeps its rank
  std::vector<std::string> classes;
};

class RouteTable {
 public:
  // port_macs: the source MAC of each port (config `mac`, else the port's own).
  RouteTable(const RoutingConfig& cfg, const std::vector<Mac>& port_macs);

  const RoutingConfig& config() const noexcept { return cfg_; }
  const std::vector<Path>& paths() const noexcept { return paths_; }
  std::uint32_t up() const noexcept { return admin_ & link_; }    // bit per path
  std::uint32_t admin_up() const noexcept { return admin_; }       // the operator's state
  std::uint32_t link_up() const noexcept { return link_; }         // its port's link
  std::uint64_t epoch() const noexcept { return epoch_; }
  std::uint32_t ordinary() const noexcept { return ordinary_; }   // paths without a role
  std::uint16_t quarantine_path() const noexcept { return quarantine_; }
  std::uint16_t monitor_path() const noexcept { return monitor_; }
  std::uint16_t default_path() const noexcept { return default_; }
  // The bit of a capability name (paths' and needs' names share one numbering); 0 if unknown.
  std::uint32_t capability_bit(std::string_view name) const noexcept;

  // A copy with one path's operator state changed and the epoch advanced.
  std::shared_ptr<const RouteTable> with_state(std::uint16_t path, bool up) const;
  // A copy with the link state of every path on `port` set, the epoch advanced.
  std::shared_ptr<const RouteTable> with_link(std::uint16_t port, bool up) const;
  // A copy of this table (a reloaded configuration of the same paths: names and ports, in order;
  // the caller checks) with `base`'s operator and link state, the epoch after base's.
  std::shared_ptr<const RouteTable> with_state_of(const RouteTable& base) const;

 private:
  RoutingConfig cfg_;
  std::vector<Path> paths_;
  std::vector<std::string> capabilities_;
  std::uint32_t admin_ = 0, link_ = 0, ordinary_ = 0;
  std::uint16_t quarantine_ = kNoPath, monitor_ = kNoPath, default_ = kNoPath;
  std::uint64_t epoch_ = 1;
};

class LoadBoard {
 public:
  explicit LoadBoard(unsigned workers) : rows_(workers) {}
  void store(unsigned worker, unsigned path, float bytes_s) noexcept {
    rows_[worker].rate[path].store(bytes_s, std::memory_order_relaxed);
  }
  float total(unsigned path) const noexcept {
    float s = 0;
    for (const auto& r : rows_) s += r.rate[path].load(std::memory_order_relaxed);
    return s;
  }

 private:
  struct alignas(64) Row {
    std::atomic<float> rate[kMaxPaths] = {};
  };
  std::vector<Row> rows_;
};

struct PathEvent {
  std::uint64_t ts_ns = 0;   // capture time
  std::uint16_t path = 0;
  bool up = false;
};

// A schedule file: one event a line, `TIME PATH up|down`; TIME is capture seconds since the epoch,
// or `+SECONDS` after `first_ns` (the capture's first packet). `#` starts a comment. Errors name
// FILE:LINE. Sorted by time (stable).
Result<std::vector<PathEvent>> parse_path_events(std::string_view text, const std::string& source,
                                                 const RoutingConfig& cfg, std::uint64_t first_ns);

// Everything the workers' routers share; built by the dataplane at start.
struct RouteShared {
  RouteShared(std::shared_ptr<const RouteTable> table, unsigned workers, std::vector<PathEvent> schedule)
      : initial(table), publisher(std::move(table), workers), board(workers), events(std::move(schedule)) {}
  std::shared_ptr<const RouteTable> initial;   // what workers start with
  SnapshotPublisher<RouteTable> publisher;
  LoadBoard board;
  std::vector<PathEvent> events;
};

}  // namespace tcpr::route
