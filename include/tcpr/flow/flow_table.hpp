// flow_table.hpp — a worker's table of bidirectional flows.
//
// One FlowTable per worker; nothing in it is shared. Fixed capacity, set at construction (config
// `flow.capacity`, default 1M): every byte is allocated up front, nothing allocates afterwards.
//
// * One entry serves both directions (FlowKey is canonical). The client is the side that sent the
//   first packet seen, except that a SYN-ACK seen first makes its receiver the client.
// * TCP state: kSynSeen → kEstablished (server's SYN-ACK, or a flow picked up mid-stream) →
//   kFin (one FIN) → kClosed (FIN from both sides); kReset on RST from either side.
// * Idle timeouts per timeout class (TCP opening/established/closing/closed, UDP, other). Each
//   class keeps its own LRU list, so the least recently seen entry of a class is always its
//   tail: ageing checks tails only, a bounded number per call (expire()), never a full sweep.
// * When full, the least recently seen flow of all classes is evicted to make room.
// * Removed flows (expired, evicted, or drained at the end) are handed to a FlowSink, which the
//   replay driver turns into flows.jsonl lines.
//
// Counters: created, expired, evicted, in use. Config keys: flow.capacity, flow.timeouts.*.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tcpr/packet/flow_key.hpp"

namespace tcpr::flow {

enum class TcpState : std::uint8_t { kNone = 0, kSynSeen, kEstablished, kFin, kClosed, kReset };

enum class TimeoutClass : std::uint8_t {
  kTcpOpening = 0, kTcpEstablished, kTcpClosing, kTcpClosed, kUdp, kOther, kCount
};
inline constexpr std::size_t kTimeoutClasses = static_cast<std::size_t>(TimeoutClass::kCount);

enum class EndReason : std::uint8_t { kExpired = 0, kEvicted, kDrained };

inline constexpr std::uint32_t kNil = 0xffffffffu;
inline constexpr std::uint16_t kEgressUnset = 0xffff;
inline constexpr std::uint16_t kEgressDrop = 0xfffe;

// A flow's routing decision, pinned on it (route::Router decides and checks it; plain data here
// so that the flow table knows nothing of routing). `path` kNone: not decided yet.
struct RoutePin {
  static constexpr std::uint16_t kNone = 0xffff;
  std::uint16_t path = kNone, mirror = kNone;
  std::uint32_t epoch = 0;        // the router's topology epoch it was checked against
  std::uint16_t tags = 0;         // content it was decided for
  std::uint8_t class_id = 0;
  std::uint8_t zone = 0xff;       // its agent's zone when decided (0xff: never decided)
};

// The state of one flow. Fields used on every packet (key, last_ns, list links, state) share the
// first cache line; counters and timestamps of the report the second.
struct alignas(64) FlowEntry {
  packet::FlowKey key;                 // 40
  std::uint64_t last_ns = 0;           // 48
  std::uint32_t lru_prev = kNil;       // 52
  std::uint32_t lru_next = kNil;       // 56
  TcpState tcp_state = TcpState::kNone;
  TimeoutClass timeout_class = TimeoutClass::kOther;
  packet::Side client = packet::Side::kA;
  std::uint8_t fin_seen = 0;           // bit per side that sent FIN
  std::uint16_t egress = kEgressUnset; // static egress decision, pinned on the flow
  std::uint16_t ingress_port = 0;      // 64
  std::uint64_t first_ns = 0;
  std::uint64_t packets[2] = {};       // indexed by Side of the sender
  std::uint64_t bytes[2] = {};
  RoutePin route;                      // semantic routing: the pinned path (second line, 12 bytes)

  packet::Side server() const noexcept {
    return client == packet::Side::kA ? packet::Side::kB : packet::Side::kA;
  }
};

static_assert(sizeof(FlowEntry) == 128, "two cache lines");
static_assert(offsetof(FlowEntry, route) + sizeof(RoutePin) == 116, "README: per-flow state");

struct FlowSink {
  void* ctx = nullptr;
  void (*fn)(void* ctx, const FlowEntry& flow, EndReason why) = nullptr;
  void operator()(const FlowEntry& f, EndReason why) const {
    if (fn != nullptr) fn(ctx, f, why);
  }
};

struct FlowTableConfig {
  std::uint32_t capacity = 1u << 20;
  // Idle timeouts in ns, indexed by TimeoutClass.
  std::array<std::uint64_t, kTimeoutClasses> timeout_ns = {
      30'000'000'000ull,   // TCP opening: SYN seen, no answer yet
      300'000'000'000ull,  // TCP established
      60'000'000'000ull,   // TCP closing: one FIN
      10'000'000'000ull,   // TCP closed or reset: keep briefly for the last ACKs
      60'000'000'000ull,   // UDP
      30'000'000'000ull,   // other IP protocols
  };
};

struct FlowCounters {
  std::uint64_t created = 0;
  std::uint64_t expired = 0;
  std::uint64_t evicted = 0;
};

class FlowTable {
 public:
  FlowTable(const FlowTableConfig& cfg, FlowSink sink);

  // The flow of this packet, created if new (evicting the oldest flow when full). `created` tells
  // whether it is new. Updates counters, timestamps, TCP state and LRU position.
  FlowEntry& update(const packet::FlowKey& key, packet::Side sender, const packet::ParsedPacket& p,
                    std::uint32_t wire_len, std::uint64_t now_ns, bool& created) noexcept;

  // Same, with h = packet::hash(key) already computed (burst pipelining).
  FlowEntry& update(const packet::FlowKey& key, std::uint64_t h, packet::Side sender,
                    const packet::ParsedPacket& p, std::uint32_t wire_len, std::uint64_t now_ns,
                    bool& created) noexcept;

  // Burst pipelining, each step for every packet of a burst before the next step:
  // prefetch_slot(h), then prefetch_entry(h) (reads the slot, prefetches the entry's two lines and
  // returns its index or kNil), then prefetch_neighbours(idx) (reads the entry, prefetches its LRU
  // neighbours). Hints only: update() does the real lookup.
  void prefetch_slot(std::uint64_t h) const noexcept { __builtin_prefetch(&slots_[h & mask_]); }
  std::uint32_t prefetch_entry(std::uint64_t h) const noexcept {
    const std::uint64_t sig = h & 0xffffffff00000000ull;
    for (std::uint64_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const std::uint64_t s = slots_[pos];
      if (s == 0) return kNil;
      if ((s & 0xffffffff00000000ull) == sig) {
        const std::uint32_t idx = static_cast<std::uint32_t>(s & 0xffffffffu) - 1;
        __builtin_prefetch(&entries_[idx], 1);
        __builtin_prefetch(reinterpret_cast<const char*>(&entries_[idx]) + 64, 1);
        return idx;
      }
    }
  }
  void prefetch_neighbours(std::uint32_t idx) const noexcept {
    if (idx == kNil) return;
    const FlowEntry& f = entries_[idx];
    if (f.lru_prev != kNil) __builtin_prefetch(&entries_[f.lru_prev], 1);
    if (f.lru_next != kNil) __builtin_prefetch(&entries_[f.lru_next], 1);
  }

  // The flow of `key`, or nullptr. Does not touch it.
  const FlowEntry* find(const packet::FlowKey& key) const noexcept;

  // Removes up to `budget` flows idle for longer than their class's timeout at `now_ns`.
  std::size_t expire(std::uint64_t now_ns, std::size_t budget) noexcept;

  // Removes every flow, oldest first per class, handing each to the sink (end of a replay).
  void drain() noexcept;

  // The entry's index: stages keep per-flow state in arrays parallel to the table.
  FlowEntry& entry(std::uint32_t idx) noexcept { return entries_[idx]; }
  std::uint32_t index_of(const FlowEntry& f) const noexcept {
    return static_cast<std::uint32_t>(&f - entries_.data());
  }

  // Entry idx holds a live flow (a freed entry's last_ns is 0; a live one's is its last packet's
  // time). For walks by index (the control thread's flows query, done by the owning worker).
  bool in_use(std::uint32_t idx) const noexcept { return idx < capacity_ && entries_[idx].last_ns != 0; }
  std::uint32_t size() const noexcept { return used_; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  const FlowCounters& counters() const noexcept { return counters_; }

 private:
  struct Lru {
    std::uint32_t head = kNil;  // most recently seen
    std::uint32_t tail = kNil;  // least recently seen
  };

  std::uint32_t slot_of(const packet::FlowKey& key, std::uint64_t h) const noexcept;
  std::uint32_t allocate() noexcept;
  void remove(std::uint32_t idx, EndReason why) noexcept;
  void erase_slot(std::uint32_t slot) noexcept;
  void lru_unlink(std::uint32_t idx) noexcept;
  void lru_push_head(std::uint32_t idx) noexcept;
  void advance_tcp(FlowEntry& f, packet::Side sender, std::uint8_t tcp_flags) noexcept;
  static TimeoutClass class_of(const FlowEntry& f) noexcept;

  FlowTableConfig cfg_;
  FlowSink sink_;
  std::uint32_t capacity_;
  std::uint32_t used_ = 0;
  std::uint64_t mask_;                 // slots_.size() - 1
  std::vector<FlowEntry> entries_;
  // Open addressing, linear probing: (hash >> 32) << 32 | (entry index + 1); 0 is empty.
  std::vector<std::uint64_t> slots_;
  std::vector<std::uint32_t> free_;    // stack of free entry indices
  std::array<Lru, kTimeoutClasses> lru_{};
  FlowCounters counters_;
};

}  // namespace tcpr::flow
