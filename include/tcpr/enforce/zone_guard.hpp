// zone_guard.hpp — the XDP zone guard from the C++ side: loads bpf/zone_guard.bpf.c through its
// libbpf skeleton with its maps pinned under a bpffs directory (reused when they exist: a restart
// keeps enforcing with the same maps), pins the program there for tcp-routectl, attaches it to
// interfaces, and writes the agents' zones into the maps.
//
// The maps are plain hash/LPM/array maps (include/tcpr/abi/xdp.h); writes are batched
// (BPF_MAP_UPDATE_BATCH), and tcpr_index — the direct-mapped index the guard reads before the hash
// map — is written by the rules in include/tcpr/abi/xdp.h, so that a racing reader is never wrong,
// only late. reconcile() makes tcpr_agents equal to a given set — writes what differs
// and deletes what is not in it — so stale entries of an earlier run do not survive a start.
// Programs attached by netlink stay attached, and pinned maps stay, when the process exits:
// enforcement holds while the dataplane restarts. detach_all() undoes that (--detach-on-exit).
//
// Control side only (syscalls); never on a worker's packet path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tcpr/abi/xdp.h"
#include "tcpr/packet/packet_view.hpp"
#include "tcpr/util/result.hpp"

namespace tcpr::enforce {

struct GuardConfig {
  std::string bpffs = "/sys/fs/bpf/tcp-route";   // maps and the program are pinned here
  std::uint8_t default_zone = TCPR_ZONE_TRUSTED;   // addresses not in tcpr_agents
  bool sample_monitored = false;
  bool allow_dhcp = true;
  std::vector<std::pair<packet::IpAddr, std::uint8_t>> remediation;   // (address, prefix bits /128)
  std::vector<packet::IpAddr> services;                              // DNS servers QUARANTINED may ask
};

struct AgentEntry {
  packet::IpAddr addr;
  std::uint8_t zone = TCPR_ZONE_MONITORED;
  std::uint8_t flags = 0;
};

struct ReconcileStats {
  std::size_t written = 0;   // entries added or changed
  std::size_t removed = 0;   // stale entries deleted
  std::size_t kept = 0;      // already right
};

enum class AttachMode { kNative, kGeneric };

struct AttachInfo {
  std::string iface;
  std::uint32_t prog_id = 0;
  const char* mode = "";     // "native", "generic", "offload"
};

class ZoneGuard {
 public:
  // Loads the guard; mounts bpffs on /sys/fs/bpf if nothing is mounted there; creates the pin
  // directory. Clear errors (not root, no BPF, a pinned map of another layout).
  static Result<std::unique_ptr<ZoneGuard>> open(const GuardConfig& cfg);
  ~ZoneGuard();
  ZoneGuard(const ZoneGuard&) = delete;
  ZoneGuard& operator=(const ZoneGuard&) = delete;

  Result<bool> attach(const std::string& iface, AttachMode mode);
  // Detaches the guard from every interface this object attached it to.
  void detach_all() noexcept;

  // Settings, remediation prefixes and services as configured (whole maps replaced).
  Result<bool> write_policy(const GuardConfig& cfg);
  // Changes: entries written (zone TRUSTED in the default-TRUSTED guard still written: the map
  // says what the writer decided), removed addresses deleted. One batch each.
  Result<bool> apply(const std::vector<AgentEntry>& set, const std::vector<packet::IpAddr>& removed);
  // tcpr_agents := exactly `all`.
  Result<ReconcileStats> reconcile(const std::vector<AgentEntry>& all);

  // What tcpr_agents holds (this process is its only writer), keyed by key_of(address).
  const std::unordered_map<std::string, tcpr_agent_value>& entries() const noexcept { return mirror_; }
  static std::string key_of(const packet::IpAddr& a) { return std::string(reinterpret_cast<const char*>(a.b), 16); }

  int prog_fd() const noexcept;
  int agents_fd() const noexcept;
  int counters_fd() const noexcept;
  const std::string& pin_dir() const noexcept { return dir_; }

 private:
  ZoneGuard() = default;
  Result<bool> load_mirror();
  tcpr_index_slot desired_slot(std::uint32_t slot) const;
  Result<bool> sync_slots(const std::vector<std::uint32_t>& slots);
  struct Skel;
  Skel* skel_ = nullptr;
  std::string dir_;
  std::vector<std::string> attached_;
  std::uint32_t epoch_ = 0;
  // What tcpr_agents holds (this process is its only writer); per tcpr_index slot the keys
  // hashing there, and what the slot holds.
  std::unordered_map<std::string, tcpr_agent_value> mirror_;
  std::unordered_map<std::uint32_t, std::vector<std::string>> members_;
  std::vector<tcpr_index_slot> written_;
  std::vector<std::uint64_t> remedy4_;   // what tcpr_remedy4 holds (read back once)
  std::uint8_t default_zone_ = TCPR_ZONE_TRUSTED;
};

// The words of tcpr_remedy4 for these remediation prefixes ((address, bits /128), as in
// GuardConfig): bit set for every IPv4 /24 a prefix covers or lies in (include/tcpr/abi/xdp.h).
std::vector<std::uint64_t> remedy4_words(const std::vector<std::pair<packet::IpAddr, std::uint8_t>>& prefixes);

// Without a loaded guard (tcp-routectl): attach the pinned program of `bpffs` to an interface,
// detach whatever XDP program an interface has, list interfaces that run the pinned guard.
Result<bool> attach_pinned(const std::string& bpffs, const std::string& iface, AttachMode mode);
Result<bool> detach_iface(const std::string& iface);
Result<std::vector<AttachInfo>> guarded_interfaces(const std::string& bpffs);

// Per-CPU counters summed: TCPR_XDP_COUNTERS slots (tcpr_counter_index / tcpr_drop_counter_index).
Result<std::vector<std::uint64_t>> read_counters(int counters_fd);
Result<std::vector<std::uint64_t>> read_pinned_counters(const std::string& bpffs);

}  // namespace tcpr::enforce
