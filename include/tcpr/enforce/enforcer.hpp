// enforcer.hpp — tcp-routed's writer of the XDP maps ([enforce]): at start it loads the zone guard
// (maps reused from the pin directory), writes the policy (remediation prefixes from
// [behavior.zones], DNS services, DHCP, default zone), attaches the guard to the configured
// interfaces, and reconciles tcpr_agents with what it knows at start (its configured pins), so no
// entry of an earlier run survives. Then, on the control thread after every behaviour tick that
// published a new zone table, it writes the differences in one batch; between ticks it writes the
// workers' local decisions as they come (polled every millisecond). At exit the guard stays
// attached and the maps stay pinned, unless detach_on_exit.
//
// What goes into tcpr_agents: every agent whose zone is not the guard's default zone, keyed by its
// IP address (IP and VLAN+IP keys; MAC-keyed agents cannot be written and are counted).
#pragma once

#include <memory>
#include <vector>

#include "tcpr/behavior/behavior.hpp"
#include "tcpr/config/config.hpp"
#include "tcpr/enforce/zone_guard.hpp"

namespace tcpr::enforce {

struct EnforcerCounters {
  std::uint64_t syncs = 0;          // batches written
  std::uint64_t entries_written = 0;
  std::uint64_t entries_removed = 0;
  std::uint64_t not_ip_keyed = 0;   // agents keyed by MAC: no map entry
  std::uint64_t errors = 0;         // failed writes (retried at the next publication)
  double max_sync_us = 0;           // decision published → maps written, the longest
  std::uint64_t local_written = 0;  // local decisions written between ticks
  double max_local_us = 0;          // a local decision's packet → its map entry, the longest
};

class Enforcer {
 public:
  static Result<std::unique_ptr<Enforcer>> start(const config::EnforceConfig& cfg, const behavior::BehaviorConfig& bcfg);
  ~Enforcer();

  // After a tick: when `b` published a new zone table, write what changed. Control thread only.
  void sync(const behavior::Behavior& b);
  // Between ticks: the workers' local decisions (hard signals) written at once as QUARANTINED
  // (unless already at least that); the next tick's sync confirms or reverts them.
  void local(const std::vector<behavior::AgentTracker::LocalDecision>& decisions);
  // A reload: the policy maps (sampling, DHCP, DNS services) as `cfg` says. The default zone,
  // the pin directory and the interfaces stay as started (they change what the maps hold).
  Result<bool> set_policy(const config::EnforceConfig& cfg, const behavior::BehaviorConfig& bcfg);
  const EnforcerCounters& counters() const noexcept { return counters_; }
  const ReconcileStats& start_reconcile() const noexcept { return reconciled_; }

 private:
  Enforcer() = default;
  std::unique_ptr<ZoneGuard> guard_;   // its entries() are what the map holds
  config::EnforceConfig cfg_;
  std::uint64_t seen_publications_ = ~0ull;
  ReconcileStats reconciled_;
  EnforcerCounters counters_;
};

}  // namespace tcpr::enforce
