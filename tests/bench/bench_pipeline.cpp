// bench_pipeline.cpp — pipeline::Pipeline::process() on 32-packet bursts: parse, flow table,
// (classification), static egress, counters and the per-burst incremental ageing, as a worker
// runs them.
//
// Traffic: `flows` TCP flows (80% IPv4, 10% IPv6 with a destination-options header, 10% 802.1Q
// IPv4), established, both directions, small payloads. Two orders:
//  * active = 0 — uniform: every packet from a different flow, flows in a shuffled order, so
//    every packet is a cold flow-table access (the worst case for the table);
//  * active = A — sessions: A flows are in progress at a time, each sends kPerFlow packets, then
//    a new flow takes its place (tcp-routegen's captures look like this: ~1000 concurrent flows of
//    ~16 packets at 1000 agents and 100k flows).
// The table is warmed with one full cycle before timing, so every timed packet is a flow-table
// hit. classify = 1 loads config/classes.toml; since flows are already known after warm-up, it
// measures what classification costs a flow's later packets, not the first-bytes scan.
//
// Counters: items_per_second (packets), per_pkt (seconds per packet).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <tuple>

#include "bench_common.hpp"
#include "tcpr/classify/class_db.hpp"
#include "tcpr/pipeline/pipeline.hpp"

namespace tcpr::bench {
namespace {

constexpr std::size_t kBurst = 32;
constexpr std::uint32_t kPerFlow = 16;
constexpr std::uint64_t kStepNs = 10;  // capture clock per packet: no flow ever times out here

struct Traffic {
  FrameArena frames{256};               // two frames per flow: client→server, server→client
  std::vector<std::uint32_t> order;     // frame indices in visiting order
  std::unique_ptr<pipeline::Pipeline> pipe;
  std::size_t cursor = 0;
  std::uint64_t now = 1'000'000'000;

  Traffic(std::uint32_t flows, std::uint32_t active, std::shared_ptr<const classify::ClassDb> classes) {
    pipeline::PipelineConfig cfg;  // default flow table: 1M flows, expire budget 64
    cfg.egress = route::StaticEgress({1, route::kNoEgress});  // "in" → "out", "out" → drop
    cfg.classes = std::move(classes);
    pipe = std::make_unique<pipeline::Pipeline>(cfg, pipeline::ReportSink{});
    SplitMix rng(flows * 31 + active);
    std::vector<std::uint32_t> ids(flows);
    for (std::uint32_t i = 0; i < flows; ++i) ids[i] = i;
    shuffle(ids, rng);
    frames.reserve(2 * static_cast<std::size_t>(flows));
    for (std::uint32_t id : ids) {
      FrameSpec s;
      const std::uint32_t r = rng.below(10);
      s.shape = r < 8 ? Shape::kIpv4Tcp : r == 8 ? Shape::kIpv6ExtTcp : Shape::kVlanIpv4Tcp;
      s.client = id + 1;
      s.client_port = static_cast<std::uint16_t>(32768 + id % 28000);
      s.server = id % 997 + 1;
      s.payload = static_cast<std::uint16_t>(rng.below(100));  // ACKs and small segments
      s.from_client = true;
      frames.add(make_frame(s), 0);
      s.from_client = false;
      frames.add(make_frame(s), 0);
    }
    if (active == 0) {
      // Frame 2i or 2i+1 of flow i, flows in their (already shuffled) order.
      order.reserve(flows);
      for (std::uint32_t i = 0; i < flows; ++i) order.push_back(2 * i + rng.below(2));
    } else {
      order.reserve(static_cast<std::size_t>(flows) * kPerFlow);
      std::vector<std::uint32_t> slot_flow(active), slot_left(active, kPerFlow);
      std::uint32_t next = 0;
      for (auto& f : slot_flow) f = next++ % flows;
      for (std::size_t k = 0; k < static_cast<std::size_t>(flows) * kPerFlow; ++k) {
        const std::uint32_t j = rng.below(active);
        order.push_back(2 * slot_flow[j] + rng.below(2));
        if (--slot_left[j] == 0) {
          slot_flow[j] = next++ % flows;
          slot_left[j] = kPerFlow;
        }
      }
    }
    for (std::size_t i = 0; i < order.size(); i += kBurst) run_burst();
  }

  void run_burst() {
    packet::PacketView burst[kBurst];
    pipeline::Verdict out[kBurst];
    const std::size_t n = order.size();
    for (std::size_t i = 0; i < kBurst; ++i) {
      burst[i] = frames.views[order[cursor]];
      burst[i].ts_ns = now += kStepNs;
      cursor = cursor + 1 == n ? 0 : cursor + 1;
    }
    pipe->process(burst, static_cast<std::uint16_t>(kBurst), out);
    benchmark::DoNotOptimize(out);
  }
};

std::shared_ptr<const classify::ClassDb> builtin_classes(std::string& error) {
  static auto db = classify::ClassDb::load(TCPR_SOURCE_DIR "/config/classes.toml");
  if (!db) {
    error = db.error();
    return nullptr;
  }
  return db.value();
}

void BM_PipelineBurst(benchmark::State& state) {
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::unique_ptr<Traffic>> cache;
  const auto flows = static_cast<std::uint32_t>(state.range(0));
  const auto active = static_cast<std::uint32_t>(state.range(1));
  const bool classify = state.range(2) != 0;
  auto& slot = cache[{state.range(0), state.range(1), state.range(2)}];
  if (!slot) {
    std::shared_ptr<const classify::ClassDb> db;
    if (classify) {
      std::string error;
      db = builtin_classes(error);
      if (db == nullptr) {
        state.SkipWithError(("config/classes.toml: " + error).c_str());
        return;
      }
    }
    slot = std::make_unique<Traffic>(flows, active, std::move(db));
  }
  Traffic& t = *slot;
  if (t.pipe->flows().size() != flows) {
    state.SkipWithError("warm-up did not create one flow per flow id");
    return;
  }
  const auto& c = t.pipe->counters();
  const std::uint64_t created0 = t.pipe->flows().counters().created, packets0 = c.packets;
  for (auto _ : state) t.run_burst();
  const std::uint64_t sent = c.egress.size() > 1 ? c.egress[1].packets : 0;
  if (c.drops.total() != 0 || sent != c.packets || c.packets - packets0 != state.iterations() * kBurst ||
      t.pipe->flows().counters().created != created0)
    state.SkipWithError("packets were dropped, misrouted, or created flows after warm-up");
  set_rates(state, kBurst);
}
BENCHMARK(BM_PipelineBurst)
    ->ArgNames({"flows", "active", "classify"})
    ->Args({1'000, 0, 0})
    ->Args({100'000, 0, 0})
    ->Args({1'000'000, 0, 0})
    ->Args({100'000, 1'000, 0})
    ->Args({100'000, 1'000, 1});

}  // namespace
}  // namespace tcpr::bench
