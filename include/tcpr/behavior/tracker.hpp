// tracker.hpp — the worker side of behaviour: per-agent partial statistics of the current tick,
// and the zone each agent is in, for the zone gate.
//
// Each worker owns one AgentTracker. Per packet it finds the agent's slot in the tick's table
// (open addressing over AgentKey; the table is emptied every tick, so it holds only agents active
// in that tick and needs no eviction), adds the packet to the slot, and returns the zone the
// agent is in. Two tables alternate: the worker fills one while the control thread merges and
// clears the other. The swap is a request/acknowledge pair of atomics, taken by the worker
// between bursts; nothing here locks or allocates after construction.
//
// Zones come from an immutable ZoneSnapshot the control thread publishes (SnapshotPublisher).
// A slot caches its agent's zone and the snapshot generation it read it from. A hard signal
// (a `secret` or `shell` tag) gates the agent on this worker at once — its later packets in the
// same burst already see QUARANTINED — and stays as a local gate until a snapshot published after
// the decision says what the control thread made of it (confirmed or reverted).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "tcpr/abi/zone.h"
#include "tcpr/behavior/features.hpp"
#include "tcpr/util/snapshot.hpp"

namespace tcpr::behavior {

using Zone = std::uint8_t;   // tcpr_zone

inline const char* zone_name(Zone z) noexcept {
  static constexpr const char* kNames[] = {
#define TCPR_X_NAME(name, str) str,
      TCPR_ZONES(TCPR_X_NAME)
#undef TCPR_X_NAME
  };
  return z < TCPR_ZONE__COUNT ? kNames[z] : "?";
}
// "TRUSTED" … "ISOLATED" (case-insensitive) → zone; TCPR_ZONE__COUNT when unknown.
Zone zone_from_name(std::string_view name) noexcept;

// What workers know of an agent: its zone, and for routing its trust and anomaly score, coarsely
// (trust in 1/16 steps and the score in 1/8 steps, both rounded down: a published change of
// standing is a new snapshot, so the steps keep publications to real changes).
struct Standing {
  static constexpr float kTrustSteps = 16, kAnomalySteps = 8;
  Zone zone = TCPR_ZONE_MONITORED;
  std::uint8_t trust_q = 0, anomaly_q = 0;
  float trust() const noexcept { return static_cast<float>(trust_q) / kTrustSteps; }
  float anomaly() const noexcept { return static_cast<float>(anomaly_q) / kAnomalySteps; }
  static std::uint8_t trust_step(float t) noexcept {
    return static_cast<std::uint8_t>(t <= 0 ? 0 : t >= 1 ? kTrustSteps : t * kTrustSteps);
  }
  static std::uint8_t anomaly_step(float a) noexcept {
    return static_cast<std::uint8_t>(a <= 0 ? 0 : a >= 1 ? kAnomalySteps : a * kAnomalySteps);
  }
  friend bool operator==(const Standing&, const Standing&) = default;
};

// Agent → standing, for every agent whose standing is not the default (MONITORED, no trust, no
// anomaly). Built by the control thread.
class ZoneSnapshot {
 public:
  ZoneSnapshot() = default;
  ZoneSnapshot(std::uint64_t epoch, const std::vector<std::pair<AgentKey, Zone>>& entries);
  ZoneSnapshot(std::uint64_t epoch, const std::vector<std::pair<AgentKey, Standing>>& entries);
  Zone lookup(const AgentKey& k, Zone dflt) const noexcept { return standing(k, Standing{dflt, 0, 0}).zone; }
  Standing standing(const AgentKey& k, Standing dflt) const noexcept;
  std::uint64_t epoch() const noexcept { return epoch_; }
  std::size_t size() const noexcept { return count_; }

 private:
  std::uint64_t epoch_ = 0;
  std::size_t count_ = 0;
  std::uint32_t mask_ = 0;
  std::vector<AgentKey> keys_;
  std::vector<Standing> standing_;   // zone TCPR_ZONE__COUNT: empty position
};

struct TrackerConfig {
  KeyMode key_mode = KeyMode::kIp;
  PrefixSet agents;                       // agent-side addresses
  std::vector<bool> agent_port;           // by port index: frames received there come from agents
  PrefixSet internal;                     // lateral-movement peers (default: the agent prefixes)
  std::uint32_t tick_capacity = 65536;    // agents active in one tick on one worker
};

struct TrackerCounters {
  std::uint64_t table_full = 0;           // packets of agents that found no free slot
  std::uint64_t local_decisions = 0;      // hard signals gated on this worker
  std::uint64_t local_gates_full = 0;     // local decisions beyond kLocalGates (gated for the tick only)
  std::uint64_t hard_overflow_full = 0;   // slotless hard signals beyond kHardOverflow in a tick (not validated)
  std::uint64_t local_ring_full = 0;      // local decisions not handed to the control thread early (the tick has them)
};

class AgentTracker {
 public:
  struct Slot {
    TickStats stats;
    std::uint64_t hash = 0;              // hash(stats.key): the control thread reuses it
    std::uint32_t index_pos = 0;
    std::uint64_t zone_gen = ~0ull;
    Zone zone = TCPR_ZONE_MONITORED;
    std::uint8_t trust_q = 0, anomaly_q = 0;   // the rest of its Standing, cached with the zone
  };
  // A hard signal from an agent that found no slot (the table was full): kept beside the table
  // so the control thread still validates the local decision (an event either way).
  struct HardSignal {
    AgentKey key;
    std::uint64_t ts_ns = 0;
  };
  static constexpr unsigned kHardOverflow = 256;
  struct Table {
    Slot* slots = nullptr;
    std::uint32_t* index = nullptr;       // slot + 1; 0: empty
    std::uint32_t used = 0;
    std::uint32_t n_hard = 0;             // entries of `hard` in use
    HardSignal hard[kHardOverflow];
  };

  AgentTracker(const TrackerConfig& cfg, unsigned worker, std::shared_ptr<SnapshotPublisher<ZoneSnapshot>> zones);
  ~AgentTracker();
  AgentTracker(const AgentTracker&) = delete;
  AgentTracker& operator=(const AgentTracker&) = delete;

  // What the pipeline knows of a packet beyond its headers.
  struct PacketInfo {
    std::uint64_t ts_ns = 0;
    const std::uint8_t* frame = nullptr;  // for MAC keys
    std::uint32_t wire_len = 0;
    std::uint16_t ingress = 0;
    std::uint16_t egress = 0xffff;    // static egress port, for agent ports
    bool new_flow = false;            // the packet created its flow; the sender is the client
    int class_group = -1;             // the flow's class was decided by this packet (ClassGroup)
    bool client_sent = true;          // the packet came from the flow's client
    std::uint32_t hard_hits = 0;      // hard-signal tags this packet added to its flow
  };
  struct Agents {
    Slot* sender = nullptr;           // the agent that sent the packet, if any
    Slot* receiver = nullptr;         // the agent it is addressed to, if any
    Zone zone = TCPR_ZONE_TRUSTED;    // the more severe of the two agents' zones
    Zone sender_zone = TCPR_ZONE_TRUSTED, receiver_zone = TCPR_ZONE_TRUSTED;   // TRUSTED: not an agent
    // Trust and anomaly of each (routing): not an agent is trusted and normal.
    float sender_trust = 1, sender_anomaly = 0, receiver_trust = 1, receiver_anomaly = 0;
  };
  Agents account(const packet::ParsedPacket& p, const PacketInfo& info) noexcept;

  // Between bursts: adopt a newer zone snapshot; take a requested table swap.
  void poll() noexcept;

  // Control side. request_swap()/swapped() for a running worker; swap_quiescent() when the worker
  // is known to be idle (a replay at a tick boundary). harvest() is the table not being filled.
  void request_swap(std::uint64_t epoch) noexcept { swap_req_.store(epoch, std::memory_order_release); }
  bool swapped(std::uint64_t epoch) const noexcept { return swap_ack_.load(std::memory_order_acquire) == epoch; }
  void swap_quiescent() noexcept { active_ ^= 1u; }
  Table& harvest() noexcept { return tables_[active_ ^ 1u]; }
  void clear(Table& t) noexcept;
  // Quiescent worker only: adopt a zone snapshot directly (replay publishes this way).
  void adopt(std::shared_ptr<const ZoneSnapshot> snap) noexcept;

  // Local decisions as they happen, for the control thread to pass on before the tick (the XDP
  // maps): a single-producer (this worker) single-consumer ring. Control thread only.
  struct LocalDecision {
    AgentKey key;
    std::uint64_t ts_ns = 0;   // the packet's time
  };
  bool pop_local(LocalDecision& out) noexcept {
    const std::uint32_t tail = ring_tail_.load(std::memory_order_relaxed);
    if (tail == ring_head_.load(std::memory_order_acquire)) return false;
    out = ring_[tail % kRing];
    ring_tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  const TrackerCounters& counters() const noexcept { return counters_; }
  unsigned worker() const noexcept { return worker_; }
  std::uint64_t snapshot_epoch() const noexcept { return snapshot_ ? snapshot_->epoch() : 0; }

 private:
  Slot* slot_for(const AgentKey& k, std::uint64_t h) noexcept;
  AgentKey key_of(const packet::ParsedPacket& p, bool sender, const std::uint8_t* frame) const noexcept;
  bool port_is_agent(std::uint16_t port) const noexcept { return port < cfg_.agent_port.size() && cfg_.agent_port[port]; }
  Zone zone_of(Slot& s) noexcept;
  Standing standing_of_key(const AgentKey& k) const noexcept;   // snapshot + local gates, no slot
  Zone zone_of_key(const AgentKey& k) const noexcept { return standing_of_key(k).zone; }
  void remember_gate(const AgentKey& k, std::uint64_t ts_ns) noexcept;
  void gate_locally(Slot& s, std::uint64_t ts_ns) noexcept;

  TrackerConfig cfg_;
  unsigned worker_;
  std::uint32_t capacity_, mask_;
  Table tables_[2];
  unsigned active_ = 0;
  std::atomic<std::uint64_t> swap_req_{0}, swap_ack_{0};
  std::shared_ptr<SnapshotPublisher<ZoneSnapshot>> publisher_;
  std::shared_ptr<const ZoneSnapshot> snapshot_;
  std::uint64_t gen_ = 0;               // bumped on every adopted snapshot
  struct LocalGate {
    AgentKey key;
    std::uint64_t epoch;                // the snapshot epoch the decision was taken under
  };
  static constexpr unsigned kLocalGates = 1024;   // local decisions awaiting a tick; more are counted
  LocalGate gates_[kLocalGates];
  unsigned n_gates_ = 0;
  static constexpr std::uint32_t kRing = 1024;
  LocalDecision ring_[kRing];
  alignas(64) std::atomic<std::uint32_t> ring_head_{0};   // written by the worker
  alignas(64) std::atomic<std::uint32_t> ring_tail_{0};   // written by the control thread
  TrackerCounters counters_;
};

}  // namespace tcpr::behavior
