#include "tcpr/flow/flow_table.hpp"

#include <bit>

namespace tcpr::flow {

using packet::Side;

namespace {
constexpr std::uint64_t kEmpty = 0;
inline std::uint64_t make_slot(std::uint64_t h, std::uint32_t idx) noexcept {
  return (h & 0xffffffff00000000ull) | (static_cast<std::uint64_t>(idx) + 1);
}
inline std::uint32_t slot_index(std::uint64_t s) noexcept {
  return static_cast<std::uint32_t>(s & 0xffffffffu) - 1;
}
inline Side other(Side s) noexcept { return s == Side::kA ? Side::kB : Side::kA; }
}  // namespace

FlowTable::FlowTable(const FlowTableConfig& cfg, FlowSink sink)
    : cfg_(cfg), sink_(sink), capacity_(cfg.capacity == 0 ? 1 : cfg.capacity) {
  // Load factor <= 0.5 keeps linear-probe chains short.
  const std::uint64_t n_slots = std::bit_ceil(static_cast<std::uint64_t>(capacity_) * 2);
  mask_ = n_slots - 1;
  entries_.resize(capacity_);
  slots_.assign(n_slots, kEmpty);
  free_.resize(capacity_);
  for (std::uint32_t i = 0; i < capacity_; ++i) free_[i] = capacity_ - 1 - i;
}

std::uint32_t FlowTable::slot_of(const packet::FlowKey& key, std::uint64_t h) const noexcept {
  const std::uint64_t sig = h & 0xffffffff00000000ull;
  for (std::uint64_t pos = h & mask_;; pos = (pos + 1) & mask_) {
    const std::uint64_t s = slots_[pos];
    if (s == kEmpty) return kNil;
    if ((s & 0xffffffff00000000ull) == sig && entries_[slot_index(s)].key == key)
      return static_cast<std::uint32_t>(pos);
  }
}

const FlowEntry* FlowTable::find(const packet::FlowKey& key) const noexcept {
  const std::uint32_t pos = slot_of(key, packet::hash(key));
  return pos == kNil ? nullptr : &entries_[slot_index(slots_[pos])];
}

void FlowTable::lru_unlink(std::uint32_t idx) noexcept {
  FlowEntry& f = entries_[idx];
  Lru& l = lru_[static_cast<std::size_t>(f.timeout_class)];
  if (f.lru_prev != kNil) entries_[f.lru_prev].lru_next = f.lru_next; else l.head = f.lru_next;
  if (f.lru_next != kNil) entries_[f.lru_next].lru_prev = f.lru_prev; else l.tail = f.lru_prev;
  f.lru_prev = f.lru_next = kNil;
}

void FlowTable::lru_push_head(std::uint32_t idx) noexcept {
  FlowEntry& f = entries_[idx];
  Lru& l = lru_[static_cast<std::size_t>(f.timeout_class)];
  f.lru_prev = kNil;
  f.lru_next = l.head;
  if (l.head != kNil) entries_[l.head].lru_prev = idx; else l.tail = idx;
  l.head = idx;
}

// Backward-shift deletion keeps probe chains intact without tombstones (Knuth 6.4, algorithm R).
void FlowTable::erase_slot(std::uint32_t slot) noexcept {
  std::uint64_t hole = slot;
  for (std::uint64_t pos = (hole + 1) & mask_;; pos = (pos + 1) & mask_) {
    const std::uint64_t s = slots_[pos];
    if (s == kEmpty) break;
    const std::uint64_t home = packet::hash(entries_[slot_index(s)].key) & mask_;
    // Move s into the hole unless its home lies cyclically in (hole, pos].
    const bool home_between = hole <= pos ? (home > hole && home <= pos) : (home > hole || home <= pos);
    if (!home_between) {
      slots_[hole] = s;
      hole = pos;
    }
  }
  slots_[hole] = kEmpty;
}

void FlowTable::remove(std::uint32_t idx, EndReason why) noexcept {
  FlowEntry& f = entries_[idx];
  sink_(f, why);
  const std::uint32_t pos = slot_of(f.key, packet::hash(f.key));
  if (pos != kNil) erase_slot(pos);
  lru_unlink(idx);
  f.last_ns = 0;         // free (in_use)
  free_.push_back(idx);  // never grows past capacity_: reserved in the constructor
  --used_;
}

std::uint32_t FlowTable::allocate() noexcept {
  if (free_.empty()) {
    // Full: evict the least recently seen flow over all classes (each class's tail).
    std::uint32_t victim = kNil;
    for (const Lru& l : lru_) {
      if (l.tail != kNil && (victim == kNil || entries_[l.tail].last_ns < entries_[victim].last_ns))
        victim = l.tail;
    }
    ++counters_.evicted;
    remove(victim, EndReason::kEvicted);
  }
  const std::uint32_t idx = free_.back();
  free_.pop_back();
  ++used_;
  return idx;
}

TimeoutClass FlowTable::class_of(const FlowEntry& f) noexcept {
  switch (f.tcp_state) {
    case TcpState::kSynSeen: return TimeoutClass::kTcpOpening;
    case TcpState::kEstablished: return TimeoutClass::kTcpEstablished;
    case TcpState::kFin: return TimeoutClass::kTcpClosing;
    case TcpState::kClosed:
    case TcpState::kReset: return TimeoutClass::kTcpClosed;
    case TcpState::kNone: break;
  }
  return f.key.proto == packet::kProtoUdp ? TimeoutClass::kUdp : TimeoutClass::kOther;
}

void FlowTable::advance_tcp(FlowEntry& f, Side sender, std::uint8_t flags) noexcept {
  using namespace packet;
  if (flags & kTcpRst) {
    f.tcp_state = TcpState::kReset;
    return;
  }
  if (flags & kTcpFin) f.fin_seen |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(sender));
  if (f.fin_seen == 3) {
    f.tcp_state = TcpState::kClosed;
  } else if (f.fin_seen != 0) {
    if (f.tcp_state != TcpState::kReset) f.tcp_state = TcpState::kFin;
  } else if (f.tcp_state == TcpState::kSynSeen && sender == f.server() && (flags & kTcpSyn) &&
             (flags & kTcpAck)) {
    f.tcp_state = TcpState::kEstablished;
  } else if (f.tcp_state == TcpState::kSynSeen && !(flags & kTcpSyn)) {
    // Data or a bare ACK after the handshake's SYN: the SYN-ACK was not captured.
    if (sender == f.server() || (flags & kTcpAck)) f.tcp_state = TcpState::kEstablished;
  }
}

FlowEntry& FlowTable::update(const packet::FlowKey& key, Side sender, const packet::ParsedPacket& p,
                             std::uint32_t wire_len, std::uint64_t now_ns, bool& created) noexcept {
  return update(key, packet::hash(key), sender, p, wire_len, now_ns, created);
}

FlowEntry& FlowTable::update(const packet::FlowKey& key, std::uint64_t h, Side sender,
                             const packet::ParsedPacket& p, std::uint32_t wire_len, std::uint64_t now_ns,
                             bool& created) noexcept {
  std::uint32_t pos = slot_of(key, h);
  std::uint32_t idx;
  if (pos != kNil) {
    idx = slot_index(slots_[pos]);
    created = false;
    lru_unlink(idx);
  } else {
    idx = allocate();
    created = true;
    ++counters_.created;
    FlowEntry& f = entries_[idx];
    f = FlowEntry{};
    f.key = key;
    f.first_ns = now_ns;
    f.client = sender;
    if (key.proto == packet::kProtoTcp) {
      const std::uint8_t fl = p.tcp_flags;
      const bool syn = fl & packet::kTcpSyn, ack = fl & packet::kTcpAck;
      if (syn && ack) f.client = other(sender);  // we missed the SYN: the SYN-ACK's receiver opened
      f.tcp_state = syn ? TcpState::kSynSeen : TcpState::kEstablished;
    }
    // Insert after allocate(): an eviction may have shifted slots.
    for (std::uint64_t q = h & mask_;; q = (q + 1) & mask_) {
      if (slots_[q] == kEmpty) {
        slots_[q] = make_slot(h, idx);
        break;
      }
    }
  }
  FlowEntry& f = entries_[idx];
  const auto s = static_cast<std::size_t>(sender);
  ++f.packets[s];
  f.bytes[s] += wire_len;
  if (now_ns > f.last_ns) f.last_ns = now_ns;
  if (key.proto == packet::kProtoTcp && !created) advance_tcp(f, sender, p.tcp_flags);
  f.timeout_class = class_of(f);
  lru_push_head(idx);
  return f;
}

std::size_t FlowTable::expire(std::uint64_t now_ns, std::size_t budget) noexcept {
  std::size_t removed = 0;
  for (std::size_t c = 0; c < kTimeoutClasses && removed < budget; ++c) {
    while (removed < budget) {
      const std::uint32_t t = lru_[c].tail;
      if (t == kNil || now_ns <= entries_[t].last_ns + cfg_.timeout_ns[c]) break;
      ++counters_.expired;
      remove(t, EndReason::kExpired);
      ++removed;
    }
  }
  return removed;
}

void FlowTable::drain() noexcept {
  for (Lru& l : lru_) {
    while (l.tail != kNil) remove(l.tail, EndReason::kDrained);
  }
}

}  // namespace tcpr::flow
