// Semantic routing (issue 6): the decision for a new flow, and what an established flow pays.
//  * BM_RouteDecide/STRATEGY — Router::decide() with 16 ordinary paths, classes by glob, a
//    needed capability on some flows, trust and anomaly varying per flow. Target: ≤ 200 ns.
//  * BM_RoutePinned — Router::check() on a pinned flow whose pin is still good (the per-packet
//    cost of an established flow).
//  * BM_Rewrite/… — the header rewrite of one frame (MACs; + VLAN push; + TTL and checksum).
#include <benchmark/benchmark.h>

#include <random>

#include "tcpr/route/router.hpp"

namespace {

using namespace tcpr;
using namespace tcpr::route;

struct RouteRig {
  std::shared_ptr<RouteShared> shared;
  std::unique_ptr<Router> router;
  ClassView view;
  std::vector<FlowFacts> flows;

  explicit RouteRig(Strategy s) {
    RoutingConfig cfg;
    const char* globs[] = {"llm.*", "mcp", "a2a", "dns", "http", "tls", "grpc", "ssh"};
    for (int i = 0; i < 16; ++i) {
      PathConfig p;
      p.name = "p";
      p.name += std::to_string(i);
      p.classes = {globs[i % 8], "web*"};
      if (i % 5 == 0) p.capabilities = {"dlp"};
      p.min_trust = (i % 4) * 0.1;
      p.latency_us = 100 + i * 7;
      p.capacity_mbps = 1000;
      cfg.paths.push_back(p);
    }
    cfg.strategy = s;
    cfg.zone_strategy = {Strategy::kCount, Strategy::kCount, Strategy::kCount, Strategy::kCount};
    cfg.needs = {{"tag:secret", {"dlp"}}};
    shared = std::make_shared<RouteShared>(std::make_shared<const RouteTable>(cfg, std::vector<Mac>(1)), 1,
                                           std::vector<PathEvent>{});
    router = std::make_unique<Router>(shared, 0);
    view = router->make_view(nullptr, {"unknown", "llm.api", "mcp", "a2a", "dns", "http", "tls", "grpc", "ssh", "websocket"},
                             {"secret", "shell"});
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<float> u(0, 1);
    for (int i = 0; i < 4096; ++i) {
      FlowFacts f;
      f.hash = rng();
      f.class_id = static_cast<std::uint8_t>(rng() % 10);
      f.tags = (rng() % 10 == 0) ? 1 : 0;
      f.trust = u(rng);
      f.anomaly = u(rng) * 0.3f;
      f.zone = TCPR_ZONE_TRUSTED;
      flows.push_back(f);
    }
  }
};

void BM_RouteDecide(benchmark::State& state) {
  RouteRig rig(static_cast<Strategy>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(rig.router->decide(rig.flows[i], rig.view));
    i = (i + 1) & 4095;
  }
  state.SetLabel(strategy_name(static_cast<Strategy>(state.range(0))));
  state.counters["paths"] = 16;
}
BENCHMARK(BM_RouteDecide)->DenseRange(0, static_cast<int>(Strategy::kCount) - 1);

void BM_RoutePinned(benchmark::State& state) {
  RouteRig rig(Strategy::kSemantic);
  std::vector<flow::RoutePin> pins;
  for (const auto& f : rig.flows) pins.push_back(rig.router->decide(f, rig.view));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(rig.router->check(pins[i], rig.flows[i]));
    i = (i + 1) & 4095;
  }
}
BENCHMARK(BM_RoutePinned);

void BM_Rewrite(benchmark::State& state) {
  std::vector<std::uint8_t> frame(64 + 74, 0);
  std::uint8_t* f = frame.data() + 64;
  f[12] = 0x08, f[13] = 0x00, f[14] = 0x45, f[22] = 64, f[23] = 6;
  RewriteSpec spec;
  spec.dst_mac = {2, 0, 0, 0, 0, 1};
  spec.l3 = state.range(0) == 2;
  for (auto _ : state) {
    f[22] = 64;
    if (state.range(0) == 1) {
      spec.vlan = VlanAction::kSet;
      spec.vlan_id = 20;
      const auto r = rewrite(f, 74, 64, spec);
      // Undo the push so every iteration does the same work.
      benchmark::DoNotOptimize(rewrite(f + r.shift, 78, 60, RewriteSpec{spec.dst_mac, spec.src_mac, VlanAction::kStrip, 0, false}));
    } else {
      benchmark::DoNotOptimize(rewrite(f, 74, 64, spec));
    }
    benchmark::ClobberMemory();
  }
  state.SetLabel(state.range(0) == 0 ? "macs" : state.range(0) == 1 ? "vlan push+strip" : "macs+ttl");
}
BENCHMARK(BM_Rewrite)->DenseRange(0, 2);

}  // namespace
