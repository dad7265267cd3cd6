#include "tcpr/behavior/tracker.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tcpr/packet/parser.hpp"

namespace tcpr::behavior {

Zone zone_from_name(std::string_view name) noexcept {
  for (Zone z = 0; z < TCPR_ZONE__COUNT; ++z) {
    const std::string_view n = zone_name(z);
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return a == (b & ~0x20); }))
      return z;
  }
  return TCPR_ZONE__COUNT;
}

namespace {
template <typename V>
std::vector<std::pair<AgentKey, Standing>> as_standing(const std::vector<std::pair<AgentKey, V>>& e) {
  std::vector<std::pair<AgentKey, Standing>> out;
  out.reserve(e.size());
  for (const auto& [k, z] : e) out.emplace_back(k, Standing{z, 0, 0});
  return out;
}
}  // namespace

ZoneSnapshot::ZoneSnapshot(std::uint64_t epoch, const std::vector<std::pair<AgentKey, Zone>>& entries)
    : ZoneSnapshot(epoch, as_standing(entries)) {}

ZoneSnapshot::ZoneSnapshot(std::uint64_t epoch, const std::vector<std::pair<AgentKey, Standing>>& entries)
    : epoch_(epoch), count_(entries.size()) {
  const std::size_t cap = std::bit_ceil(std::max<std::size_t>(16, entries.size() * 2));
  mask_ = static_cast<std::uint32_t>(cap - 1);
  keys_.resize(cap);
  standing_.assign(cap, Standing{TCPR_ZONE__COUNT, 0, 0});
  for (const auto& [k, st] : entries) {
    std::uint32_t i = static_cast<std::uint32_t>(hash(k)) & mask_;
    while (standing_[i].zone != TCPR_ZONE__COUNT && !(keys_[i] == k)) i = (i + 1) & mask_;
    keys_[i] = k;
    standing_[i] = st;
  }
}

Standing ZoneSnapshot::standing(const AgentKey& k, Standing dflt) const noexcept {
  if (count_ == 0) return dflt;
  std::uint32_t i = static_cast<std::uint32_t>(hash(k)) & mask_;
  while (standing_[i].zone != TCPR_ZONE__COUNT) {
    if (keys_[i] == k) return standing_[i];
    i = (i + 1) & mask_;
  }
  return dflt;
}

AgentTracker::AgentTracker(const TrackerConfig& cfg, unsigned worker,
                           std::shared_ptr<SnapshotPublisher<ZoneSnapshot>> zones)
    : cfg_(cfg), worker_(worker), publisher_(std::move(zones)) {
  capacity_ = std::max<std::uint32_t>(16, cfg_.tick_capacity);
  const std::uint32_t index_size = std::bit_ceil(capacity_ * 2);
  mask_ = index_size - 1;
  // calloc: pages are touched only as agents appear, so a large bound costs address space only.
  for (auto& t : tables_) {
    t.slots = static_cast<Slot*>(std::calloc(capacity_, sizeof(Slot)));
    t.index = static_cast<std::uint32_t*>(std::calloc(index_size, sizeof(std::uint32_t)));
    if (t.slots == nullptr || t.index == nullptr) throw std::bad_alloc();
  }
  std::shared_ptr<const ZoneSnapshot> first;
  if (publisher_ != nullptr && publisher_->poll(worker_, first)) snapshot_ = std::move(first);
}

AgentTracker::~AgentTracker() {
  for (auto& t : tables_) {
    std::free(t.slots);
    std::free(t.index);
  }
}

// Only the index is reset here; a slot is zeroed when it is next handed out (slot_for), when the
// worker writes its cache lines anyway — clearing 100 000 slots here was a seventh of a tick.
void AgentTracker::clear(Table& t) noexcept {
  const std::size_t index_bytes = (static_cast<std::size_t>(mask_) + 1) * sizeof(std::uint32_t);
  if (static_cast<std::size_t>(t.used) * 64 >= index_bytes) {
    std::memset(t.index, 0, index_bytes);
  } else {
    for (std::uint32_t i = 0; i < t.used; ++i) t.index[t.slots[i].index_pos] = 0;
  }
  t.used = 0;
  t.n_hard = 0;
}

void AgentTracker::poll() noexcept {
  const std::uint64_t req = swap_req_.load(std::memory_order_acquire);
  if (req != swap_ack_.load(std::memory_order_relaxed)) {
    active_ ^= 1u;
    swap_ack_.store(req, std::memory_order_release);
  }
  std::shared_ptr<const ZoneSnapshot> next;
  if (publisher_ != nullptr && publisher_->poll(worker_, next)) adopt(std::move(next));
}

void AgentTracker::adopt(std::shared_ptr<const ZoneSnapshot> snap) noexcept {
  snapshot_ = std::move(snap);
  ++gen_;
  // A local gate lasts until a snapshot decided after it has been seen.
  unsigned kept = 0;
  for (unsigned i = 0; i < n_gates_; ++i)
    if (gates_[i].epoch >= snapshot_->epoch()) gates_[kept++] = gates_[i];
  n_gates_ = kept;
}

AgentKey AgentTracker::key_of(const packet::ParsedPacket& p, bool sender, const std::uint8_t* frame) const noexcept {
  AgentKey k;
  k.mode = static_cast<std::uint8_t>(cfg_.key_mode);
  if (cfg_.key_mode == KeyMode::kMac) {
    if (frame != nullptr) std::memcpy(k.addr, frame + (sender ? 6 : 0), 6);
    return k;
  }
  std::memcpy(k.addr, (sender ? p.src : p.dst).b, 16);
  if (cfg_.key_mode == KeyMode::kVlanIp && p.vlan_count != 0)
    k.vlan = static_cast<std::uint16_t>(p.vlan_tci[p.vlan_count - 1] & 0x0fff);
  return k;
}

AgentTracker::Slot* AgentTracker::slot_for(const AgentKey& k, std::uint64_t h) noexcept {
  Table& t = tables_[active_];
  std::uint32_t pos = static_cast<std::uint32_t>(h) & mask_;
  for (;;) {
    const std::uint32_t v = t.index[pos];
    if (v == 0) break;
    Slot& s = t.slots[v - 1];
    if (s.stats.key == k) return &s;
    pos = (pos + 1) & mask_;
  }
  if (t.used == capacity_) {
    ++counters_.table_full;
    return nullptr;
  }
  Slot& s = t.slots[t.used++];
  t.index[pos] = t.used;
  s = Slot{};
  s.stats.key = k;
  s.hash = h;
  s.index_pos = pos;
  s.zone_gen = ~0ull;
  return &s;
}

Standing AgentTracker::standing_of_key(const AgentKey& k) const noexcept {
  Standing st = snapshot_ != nullptr ? snapshot_->standing(k, Standing{}) : Standing{};
  for (unsigned i = 0; i < n_gates_ && st.zone < TCPR_ZONE_QUARANTINED; ++i)
    if (gates_[i].key == k) st.zone = TCPR_ZONE_QUARANTINED;
  return st;
}

Zone AgentTracker::zone_of(Slot& s) noexcept {
  if (s.zone_gen == gen_) return s.zone;
  const Standing st = standing_of_key(s.stats.key);
  s.zone = st.zone;
  s.trust_q = st.trust_q;
  s.anomaly_q = st.anomaly_q;
  s.zone_gen = gen_;
  return s.zone;
}

void AgentTracker::remember_gate(const AgentKey& k, std::uint64_t ts_ns) noexcept {
  ++counters_.local_decisions;
  const std::uint32_t head = ring_head_.load(std::memory_order_relaxed);
  if (head - ring_tail_.load(std::memory_order_acquire) < kRing) {
    ring_[head % kRing] = {k, ts_ns};
    ring_head_.store(head + 1, std::memory_order_release);
  } else {
    ++counters_.local_ring_full;
  }
  if (n_gates_ < kLocalGates) {
    gates_[n_gates_++] = {k, snapshot_epoch()};
  } else {
    ++counters_.local_gates_full;
  }
}

void AgentTracker::gate_locally(Slot& s, std::uint64_t ts_ns) noexcept {
  if (s.stats.first_risk_ns == 0) {
    s.stats.first_risk_ns = ts_ns;
    s.stats.first_risk_worker = worker_;
  }
  if (zone_of(s) >= TCPR_ZONE_QUARANTINED) return;
  s.zone = TCPR_ZONE_QUARANTINED;
  remember_gate(s.stats.key, ts_ns);
}

AgentTracker::Agents AgentTracker::account(const packet::ParsedPacket& p, const PacketInfo& info) noexcept {
  Agents a;
  if (p.l3 != packet::L3::kIpv4 && p.l3 != packet::L3::kIpv6) return a;
  const bool src_agent = cfg_.agents.contains(p.src) || port_is_agent(info.ingress);
  const bool dst_agent = cfg_.agents.contains(p.dst) || port_is_agent(info.egress);
  const bool tcp = p.l4_proto == packet::kProtoTcp && p.has(packet::kFlagHasL4);
  if (src_agent) {
    const AgentKey k = key_of(p, true, info.frame);
    if (Slot* s = slot_for(k, hash(k)); s != nullptr) {
      TickStats& t = s->stats;
      ++t.pkts_out;
      t.bytes_out += info.wire_len;
      if (p.payload_len != 0) {
        ++t.payload_pkts_out;
        t.payload_bytes_out += p.payload_len;
      }
      if (tcp && (p.tcp_flags & (packet::kTcpSyn | packet::kTcpAck)) == packet::kTcpSyn) ++t.syn_out;
      if (info.new_flow) {
        ++t.new_flows;
        t.dst_ips.add(p.dst.b, 16);
        t.dst_ports.add_hash(XXH3_64bits(&p.dst_port, sizeof p.dst_port));
        struct {
          std::uint8_t addr[16];
          std::uint16_t port;
          std::uint8_t proto;
        } dst{};
        std::memcpy(dst.addr, p.dst.b, 16);
        dst.port = p.dst_port;
        dst.proto = p.l4_proto;
        const bool internal = cfg_.internal.contains(p.dst);
        t.add_conn({info.ts_ns, XXH3_64bits(&dst, sizeof dst), static_cast<std::uint32_t>(XXH3_64bits(p.dst.b, 16)),
                    internal ? 1u : 0u});
      }
      if (info.class_group >= 0 && info.client_sent) ++t.class_flows[info.class_group];
      if (info.hard_hits != 0) {
        t.risk_hits += info.hard_hits;
        gate_locally(*s, info.ts_ns);
      }
      a.sender = s;
      a.zone = a.sender_zone = zone_of(*s);
      a.sender_trust = static_cast<float>(s->trust_q) / Standing::kTrustSteps;
      a.sender_anomaly = static_cast<float>(s->anomaly_q) / Standing::kAnomalySteps;
    } else {
      // No slot this tick (table full): not counted, but still in its zone — the gate never
      // fails open — and a hard signal still gates it and still reaches the control thread.
      if (info.hard_hits != 0) {
        Table& t = tables_[active_];
        if (t.n_hard < kHardOverflow) t.hard[t.n_hard++] = {k, info.ts_ns};
        else ++counters_.hard_overflow_full;
        if (zone_of_key(k) < TCPR_ZONE_QUARANTINED) remember_gate(k, info.ts_ns);
      }
      const Standing st = standing_of_key(k);
      a.zone = a.sender_zone = st.zone;
      a.sender_trust = st.trust();
      a.sender_anomaly = st.anomaly();
    }
  }
  if (dst_agent) {
    const AgentKey k = key_of(p, false, info.frame);
    if (Slot* s = slot_for(k, hash(k)); s != nullptr) {
      TickStats& t = s->stats;
      ++t.pkts_in;
      t.bytes_in += info.wire_len;
      if (tcp && (p.tcp_flags & (packet::kTcpSyn | packet::kTcpAck)) == (packet::kTcpSyn | packet::kTcpAck)) ++t.synack_in;
      if (tcp && (p.tcp_flags & packet::kTcpRst) != 0) ++t.rst_in;
      if (info.class_group >= 0 && !info.client_sent) ++t.class_flows[info.class_group];
      a.receiver = s;
      a.receiver_zone = zone_of(*s);
      a.receiver_trust = static_cast<float>(s->trust_q) / Standing::kTrustSteps;
      a.receiver_anomaly = static_cast<float>(s->anomaly_q) / Standing::kAnomalySteps;
    } else {
      const Standing st = standing_of_key(k);
      a.receiver_zone = st.zone;
      a.receiver_trust = st.trust();
      a.receiver_anomaly = st.anomaly();
    }
    if (a.receiver_zone > a.zone || !src_agent) a.zone = a.receiver_zone;
  }
  return a;
}

}  // namespace tcpr::behavior
