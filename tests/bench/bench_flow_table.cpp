// bench_flow_table.cpp — flow::FlowTable::update (hit, insert with eviction) and expire().
//
// Tables have the default capacity of 1M flows (config `flow.capacity`), as in the dataplane.
// Keys come from ParsedPacket values built directly (no parser) through packet::key_for(), and
// are visited in a shuffled order laid out sequentially, so the cost is the table's random
// access, not the walk over the keys. Each table is built once per process and reused by every
// run of its benchmark (Google Benchmark calls a benchmark several times while sizing it).
//
// Counters: items_per_second (updates or removed flows), per_pkt (seconds per item).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "bench_common.hpp"
#include "tcpr/flow/flow_table.hpp"
#include "tcpr/packet/flow_key.hpp"

namespace tcpr::bench {
namespace {

constexpr std::uint32_t kCapacity = 1u << 20;
constexpr std::size_t kBatch = 32;                 // updates per iteration, one burst
constexpr std::uint32_t kWireLen = 200;
constexpr std::uint64_t kStepNs = 10;              // capture clock per update: far from any timeout

// A TCP packet of flow `id` (client 10.x.y.z:port → 198.18.x.1:443), ACK set: a flow first seen
// mid-stream is established at once.
packet::ParsedPacket tcp_packet(std::uint32_t id, bool from_client) {
  packet::ParsedPacket p;
  p.ether_type = 0x0800;
  p.l3 = packet::L3::kIpv4;
  p.ip_version = 4;
  p.l4_proto = packet::kProtoTcp;
  p.flags = packet::kFlagHasL4;
  const std::uint8_t client[4] = {10, static_cast<std::uint8_t>(id >> 16), static_cast<std::uint8_t>(id >> 8),
                                  static_cast<std::uint8_t>(id)};
  const std::uint8_t server[4] = {198, 18, static_cast<std::uint8_t>(id % 251), 1};
  const std::uint16_t cport = static_cast<std::uint16_t>(32768 + id % 28000);
  p.src = packet::IpAddr::from_v4(from_client ? client : server);
  p.dst = packet::IpAddr::from_v4(from_client ? server : client);
  p.src_port = from_client ? cport : 443;
  p.dst_port = from_client ? 443 : cport;
  p.tcp_flags = packet::kTcpAck;
  return p;
}

struct Keyed {
  packet::FlowKey key;
  packet::Side sender;
};

Keyed key_of(std::uint32_t id, bool from_client) {
  Keyed k{};
  packet::key_for(tcp_packet(id, from_client), k.key, k.sender);
  return k;
}

// A table holding flows 0..n-1, and a visiting order of all of them.
struct WarmTable {
  std::unique_ptr<flow::FlowTable> table;
  std::vector<Keyed> order;
  std::size_t cursor = 0;
  std::uint64_t now = 1'000'000'000;
  packet::ParsedPacket pkt = tcp_packet(0, true);  // fields update() reads: tcp_flags only

  explicit WarmTable(std::uint32_t n) : table(std::make_unique<flow::FlowTable>(flow::FlowTableConfig{}, flow::FlowSink{})) {
    SplitMix rng(n);
    std::vector<std::uint32_t> ids(n);
    for (std::uint32_t i = 0; i < n; ++i) ids[i] = i;
    shuffle(ids, rng);
    order.reserve(n);
    for (std::uint32_t id : ids) order.push_back(key_of(id, rng.below(2) == 0));
    fill();
  }

  // Inserts every flow, then touches each once more in another order, so that LRU order and
  // memory order are unrelated, as they are after a while on real traffic.
  void fill() {
    bool created = false;
    for (const Keyed& k : order) table->update(k.key, k.sender, pkt, kWireLen, now += kStepNs, created);
    for (std::size_t i = order.size(); i > 0; --i) {
      const Keyed& k = order[(i * 7919) % order.size()];
      table->update(k.key, k.sender, pkt, kWireLen, now += kStepNs, created);
    }
  }
};

WarmTable& warm_table(std::uint32_t n) {
  static std::map<std::uint32_t, std::unique_ptr<WarmTable>> cache;
  auto& t = cache[n];
  if (!t) t = std::make_unique<WarmTable>(n);
  return *t;
}

// Update of a flow already in the table (every packet after a flow's first).
void BM_FlowUpdateHit(benchmark::State& state) {
  WarmTable& w = warm_table(static_cast<std::uint32_t>(state.range(0)));
  if (w.table->size() != state.range(0)) {
    state.SkipWithError("warm table has the wrong size");
    return;
  }
  std::size_t misses = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      const Keyed& k = w.order[w.cursor];
      w.cursor = w.cursor + 1 == w.order.size() ? 0 : w.cursor + 1;
      bool created = false;
      flow::FlowEntry& f = w.table->update(k.key, k.sender, w.pkt, kWireLen, w.now += kStepNs, created);
      misses += created;
      benchmark::DoNotOptimize(&f);
    }
  }
  if (misses != 0) state.SkipWithError("a hit benchmark created flows");
  set_rates(state, kBatch);
}
BENCHMARK(BM_FlowUpdateHit)->ArgName("flows")->Arg(100'000)->Arg(1'000'000);

// A new flow on a full table: each insert first evicts the least recently seen flow. The key
// pool holds twice the capacity and is walked in a cycle, so the next key is always one that was
// evicted long ago.
struct FullTable {
  std::unique_ptr<flow::FlowTable> table;
  std::vector<Keyed> pool;
  std::size_t cursor = 0;
  std::uint64_t now = 1'000'000'000;
  packet::ParsedPacket pkt = tcp_packet(0, true);

  explicit FullTable(std::uint32_t capacity) {
    flow::FlowTableConfig cfg;
    cfg.capacity = capacity;
    table = std::make_unique<flow::FlowTable>(cfg, flow::FlowSink{});
    SplitMix rng(capacity + 1);
    std::vector<std::uint32_t> ids(2 * static_cast<std::size_t>(capacity));
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::uint32_t>(i);
    shuffle(ids, rng);
    pool.reserve(ids.size());
    for (std::uint32_t id : ids) pool.push_back(key_of(id, true));
    bool created = false;
    for (; cursor < capacity; ++cursor)
      table->update(pool[cursor].key, pool[cursor].sender, pkt, kWireLen, now += kStepNs, created);
  }
};

void BM_FlowInsertEvict(benchmark::State& state) {
  static std::map<std::uint32_t, std::unique_ptr<FullTable>> cache;
  const auto capacity = static_cast<std::uint32_t>(state.range(0));
  auto& slot = cache[capacity];
  if (!slot) slot = std::make_unique<FullTable>(capacity);
  FullTable& t = *slot;
  const std::uint64_t evicted0 = t.table->counters().evicted;
  std::size_t hits = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      const Keyed& k = t.pool[t.cursor];
      t.cursor = t.cursor + 1 == t.pool.size() ? 0 : t.cursor + 1;
      bool created = false;
      flow::FlowEntry& f = t.table->update(k.key, k.sender, t.pkt, kWireLen, t.now += kStepNs, created);
      hits += !created;
      benchmark::DoNotOptimize(&f);
    }
  }
  const std::uint64_t evictions = t.table->counters().evicted - evicted0;
  if (hits != 0 || evictions != state.iterations() * kBatch)
    state.SkipWithError("an insert benchmark hit an existing flow or did not evict");
  set_rates(state, kBatch);
}
BENCHMARK(BM_FlowInsertEvict)->ArgName("capacity")->Arg(100'000)->Arg(1 << 20);

// expire() with the dataplane's budget (64) when every flow is due: each call removes 64 flows
// in LRU order (random in memory). The table is refilled, untimed, when it runs low.
void BM_FlowExpireDue(benchmark::State& state) {
  constexpr std::size_t kBudget = 64;
  const auto n = static_cast<std::uint32_t>(state.range(0));
  WarmTable w(n);
  const std::uint64_t later = w.now + 3'600'000'000'000ull;  // an hour: past every default timeout
  std::size_t removed = 0;
  for (auto _ : state) {
    if (w.table->size() < kBudget) {
      state.PauseTiming();
      w.fill();
      state.ResumeTiming();
    }
    const std::size_t r = w.table->expire(later, kBudget);
    removed += r;
    benchmark::DoNotOptimize(r);
  }
  if (removed != state.iterations() * kBudget) state.SkipWithError("expire() removed fewer flows than due");
  set_rates(state, kBudget);
}
BENCHMARK(BM_FlowExpireDue)->ArgName("flows")->Arg(100'000);

// expire() when nothing is due: what every burst pays in steady state.
void BM_FlowExpireNothingDue(benchmark::State& state) {
  WarmTable& w = warm_table(100'000);
  const std::uint32_t size0 = w.table->size();
  for (auto _ : state) benchmark::DoNotOptimize(w.table->expire(w.now, 64));
  if (w.table->size() != size0) state.SkipWithError("expire() removed flows that were not due");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_FlowExpireNothingDue);

}  // namespace
}  // namespace tcpr::bench
