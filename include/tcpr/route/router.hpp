// router.hpp — one worker's routing engine: picks a flow's path, says when a pinned flow must
// move, measures each path's load.
//
// Input: FlowFacts (the flow's class and tags, its agent's zone, trust and anomaly, its hash).
// Output: a RoutePin (primary path, optional mirror path), stored on the flow by the pipeline.
//
// A path's score for a flow (DESIGN.md) is
//   (w_affinity·affinity + w_trust·trust fit + w_load·(1 − load) + w_capability·capability)
//   × (1 − anomaly · behavioral_sensitivity)
// with affinity 1 when one of the path's class globs matches the flow's class, 0.5 when the path
// lists no classes, else 0; trust fit 1 − (trust − min_trust) (a trusted agent fits the path
// made for trusted agents, not the one that takes anyone); load the measured rate over capacity
// (0..1); capability the share of the flow's needed capabilities the path has (1 without needs).
// Eligible: an ordinary path (no role) that is up, whose min_trust the agent meets, that has the
// needed capabilities (`needs_hard`), that is not `exclusive` to flows needing one of its
// capabilities, and whose score is at least `min_score`. A QUARANTINED
// agent's flows take the quarantine path when it is up. The strategy then picks among the
// eligible paths — least_loaded, lowest_latency and consistent_hash among those of the best
// affinity for the class, the paths made for it; `redundant` adds a mirror: the monitor path when
// up, else the second best.
//
// Pinning (check()): an established flow keeps its pin until its agent's zone changes, its
// content changes (class decided, a tag found), a path of its pin goes down, or its agent's
// trust falls below the path's min_trust; then the pipeline decides again.
//
// Not thread-safe: one Router per worker. decide() and check() neither allocate nor lock.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tcpr/abi/zone.h"
#include "tcpr/flow/flow_table.hpp"
#include "tcpr/route/route_table.hpp"

namespace tcpr::route {

struct FlowFacts {
  std::uint64_t hash = 0;         // symmetric flow hash: consistent hashing, the weighted draw
  std::uint8_t class_id = 0;      // in the ClassView's numbering
  std::uint16_t tags = 0;         // bit per tag of the ClassView
  std::uint8_t zone = TCPR_ZONE_TRUSTED;
  float trust = 1.0f;             // flows whose client is not an agent: trusted, not anomalous
  float anomaly = 0.0f;
};

// Class and tag names resolved against the paths, once per class database.
struct ClassView {
  const void* key = nullptr;                           // the database it was built for
  std::vector<std::array<float, kMaxPaths>> affinity;  // by class id
  std::vector<std::uint32_t> class_needs;              // capability bits, by class id
  std::vector<Strategy> class_strategy;                // by class id
  std::array<std::uint32_t, 16> tag_needs{};           // by tag bit
};

enum class Reroute : std::uint8_t { kNone = 0, kZone, kContent, kPathDown, kPathUp, kTrust };
const char* reroute_name(Reroute r) noexcept;

// A pinned flow that moved to another path.
struct RouteEvent {
  std::uint64_t ts_ns = 0;
  packet::FlowKey key;
  packet::Side client = packet::Side::kA;
  std::uint16_t from = kNoPath, to = kNoPath;
  Reroute why = Reroute::kNone;
};

struct RouterCounters {
  std::uint64_t decisions = 0;      // first decisions and re-decisions
  std::uint64_t moves = 0;          // re-decisions that changed the primary path
  std::uint64_t events_lost = 0;    // moves beyond the event buffer
};

class Router {
 public:
  static constexpr std::size_t kEventBuffer = 1u << 16;

  Router(std::shared_ptr<RouteShared> shared, unsigned worker);

  // Between bursts: adopt a newer route table.
  void poll() noexcept;
  // Before a packet of capture/real time `ts`: scheduled path events and the load interval.
  void advance(std::uint64_t ts) noexcept {
    if (ts >= next_due_) advance_slow(ts);
  }

  ClassView make_view(const void* key, const std::vector<std::string>& classes,
                      const std::vector<std::string>& tags) const;

  flow::RoutePin decide(const FlowFacts& f, const ClassView& v) noexcept;
  Reroute check(flow::RoutePin& pin, const FlowFacts& f) const noexcept;

  // A packet of `bytes` left on `path` (load measurement).
  void count(std::uint16_t path, std::uint32_t bytes) noexcept {
    if (path < kMaxPaths) bytes_[path] += bytes;
  }
  void note_move(const RouteEvent& e) noexcept;
  // The zone gate now stops a routed flow's agent: the pin goes nowhere (a route event, reason
  // zone) until the agent's zone changes again. `where` gives the time and the flow.
  void unroute(flow::RoutePin& pin, std::uint8_t zone, const RouteEvent& where) noexcept;

  const RouteTable& table() const noexcept { return *table_; }
  bool up(std::uint16_t path) const noexcept { return path < kMaxPaths && ((up_ >> path) & 1u) != 0; }
  float load(std::uint16_t path) const noexcept { return path < kMaxPaths ? load_[path] : 0.0f; }
  const std::vector<RouteEvent>& events() const noexcept { return events_; }
  const RouterCounters& counters() const noexcept { return counters_; }

  // The score of every path for `f` (kMaxPaths entries; −1: not eligible); for tests and explain.
  std::uint32_t scores(const FlowFacts& f, const ClassView& v, float* out) const noexcept;

 private:
  void advance_slow(std::uint64_t ts) noexcept;
  void set_up(std::uint32_t mask) noexcept;
  std::uint32_t needs_of(const FlowFacts& f, const ClassView& v) const noexcept;

  std::shared_ptr<RouteShared> shared_;
  unsigned worker_;
  std::shared_ptr<const RouteTable> table_;
  std::uint32_t up_ = 0;                  // table's operator state minus scheduled downs
  std::uint32_t scheduled_down_ = 0;
  std::uint32_t topo_ = 1;                // bumped whenever up_ changes (pins compare it)
  std::size_t next_event_ = 0;            // into shared_->events
  std::uint64_t next_load_ns_ = 0, next_due_ = 0, interval_ns_ = 0;
  std::array<std::uint64_t, kMaxPaths> bytes_{};
  std::array<float, kMaxPaths> rate_{};   // this worker's EWMA bytes/s
  std::array<float, kMaxPaths> load_{};   // all workers' rate over capacity, 0..1
  std::vector<RouteEvent> events_;
  RouterCounters counters_;
};

}  // namespace tcpr::route
