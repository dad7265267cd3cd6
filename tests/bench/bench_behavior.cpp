// bench_behavior.cpp — the control thread's behaviour tick, and the naive alternative.
//
//  * BM_BehaviorTick/N — one Behavior::tick_quiescent() with N active agents: harvest of a
//    worker's tick table, merge, features, own and cohort Mahalanobis scores, trust, zones,
//    cohort refit. Each agent sends a few packets per tick (set up untimed), with per-agent rates
//    so features vary; 60 warm-up ticks first so baselines and cohort models are in use.
//    Target (issue 5): N = 100 000 in ≤ 20 ms on one core.
//  * BM_NaivePairwise/N — the O(n²) way to say how far each agent lies from its cohort: the mean
//    squared Mahalanobis distance from every other agent, (x_i − x_j)ᵀ Σ⁻¹ (x_i − x_j), over the
//    same 16 features with the same Eigen types.
//  * BM_TickVsNaive/N — both per iteration, timed separately: counter `speedup` = naive / tick.
#include <benchmark/benchmark.h>

#include <Eigen/LU>

#include <chrono>
#include <random>

#include "tcpr/behavior/behavior.hpp"
#include "tcpr/packet/packet_view.hpp"

namespace {

using namespace tcpr;

struct TickRig {
  std::unique_ptr<behavior::Behavior> b;
  std::uint64_t ts = 1'700'000'000ull * 1'000'000'000ull;
  std::uint32_t agents;
  std::vector<float> rate;

  explicit TickRig(std::uint32_t n) : agents(n) {
    behavior::BehaviorConfig cfg;
    cfg.enabled = true;
    behavior::PrefixSet ps;
    (void)behavior::parse_prefix_list("10.0.0.0/8", ps);
    cfg.agents = ps;
    cfg.tick_agents = n + 16;
    b = std::make_unique<behavior::Behavior>(cfg, 1, std::vector<bool>{});
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(1.0f, 6.0f);
    for (std::uint32_t i = 0; i < n; ++i) rate.push_back(u(rng));
    for (int t = 0; t < 60; ++t) step();
  }

  void feed() {
    auto& tr = b->tracker(0);
    packet::ParsedPacket p;
    p.l3 = packet::L3::kIpv4;
    p.ip_version = 4;
    p.l4_proto = packet::kProtoTcp;
    p.flags = packet::kFlagHasL4;
    const std::uint8_t server[4] = {192, 168, 1, 1};
    for (std::uint32_t i = 0; i < agents; ++i) {
      const std::uint8_t a[4] = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                                 static_cast<std::uint8_t>(i)};
      behavior::AgentTracker::PacketInfo info;
      info.ts_ns = ts;
      info.wire_len = 200;
      const int pkts = static_cast<int>(rate[i]);
      for (int k = 0; k < pkts; ++k) {
        p.src = packet::IpAddr::from_v4(a);
        p.dst = packet::IpAddr::from_v4(server);
        p.src_port = static_cast<std::uint16_t>(40000 + k);
        p.dst_port = 443;
        p.tcp_flags = k == 0 ? packet::kTcpSyn : packet::kTcpAck;
        p.payload_len = k == 0 ? 0 : 120;
        info.new_flow = k == 0;
        tr.account(p, info);
        std::swap(p.src, p.dst);
        std::swap(p.src_port, p.dst_port);
        p.tcp_flags = k == 0 ? (packet::kTcpSyn | packet::kTcpAck) : packet::kTcpAck;
        info.new_flow = false;
        tr.account(p, info);
      }
    }
  }

  void step() {
    feed();
    ts += 100'000'000ull;
    b->tick_due(ts - 100'000'000ull);
    b->tick_quiescent();
  }
};

void BM_BehaviorTick(benchmark::State& state) {
  TickRig rig(static_cast<std::uint32_t>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    rig.feed();
    rig.ts += 100'000'000ull;
    state.ResumeTiming();
    rig.b->tick_quiescent();
  }
  state.counters["agents"] = static_cast<double>(state.range(0));
  state.counters["ns_per_agent"] = benchmark::Counter(static_cast<double>(state.range(0)),
                                                      benchmark::Counter::kIsIterationInvariantRate |
                                                          benchmark::Counter::kInvert);
}
BENCHMARK(BM_BehaviorTick)->Arg(500)->Arg(5000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

using Vec = behavior::Vec;
using Mat = behavior::Mat;

struct NaiveRig {
  std::vector<Vec> x;
  Mat sigma_inv;
  explicit NaiveRig(std::size_t n) {
    std::mt19937 rng(11);
    std::normal_distribution<float> g(0, 1);
    Eigen::Matrix<double, behavior::kFeatures, 1> mean = Eigen::Matrix<double, behavior::kFeatures, 1>::Zero();
    Eigen::Matrix<double, behavior::kFeatures, behavior::kFeatures> cov =
        Eigen::Matrix<double, behavior::kFeatures, behavior::kFeatures>::Zero();
    for (std::size_t i = 0; i < n; ++i) {
      Vec v;
      for (unsigned f = 0; f < behavior::kFeatures; ++f) v[f] = g(rng);
      x.push_back(v);
      mean += v.cast<double>();
    }
    mean /= static_cast<double>(n);
    for (const auto& v : x) cov += (v.cast<double>() - mean) * (v.cast<double>() - mean).transpose();
    cov /= static_cast<double>(n);
    sigma_inv = cov.inverse().cast<float>();
  }
  float run() const {
    float total = 0;
    const std::size_t n = x.size();
    for (std::size_t i = 0; i < n; ++i) {
      float sum = 0;
      for (std::size_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const Vec d = x[i] - x[j];
        sum += d.dot(sigma_inv * d);
      }
      total += sum / static_cast<float>(n - 1);
    }
    return total;
  }
};

void BM_NaivePairwise(benchmark::State& state) {
  NaiveRig rig(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(rig.run());
  state.counters["agents"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_NaivePairwise)->Arg(500)->Arg(5000)->Unit(benchmark::kMillisecond);

void BM_TickVsNaive(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  TickRig tick(n);
  NaiveRig naive(n);
  double tick_s = 0, naive_s = 0;
  for (auto _ : state) {
    tick.feed();
    tick.ts += 100'000'000ull;
    auto t0 = std::chrono::steady_clock::now();
    tick.b->tick_quiescent();
    auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(naive.run());
    auto t2 = std::chrono::steady_clock::now();
    tick_s += std::chrono::duration<double>(t1 - t0).count();
    naive_s += std::chrono::duration<double>(t2 - t1).count();
  }
  state.counters["tick_ms"] = tick_s * 1e3 / static_cast<double>(state.iterations());
  state.counters["naive_ms"] = naive_s * 1e3 / static_cast<double>(state.iterations());
  state.counters["speedup"] = naive_s / tick_s;
}
BENCHMARK(BM_TickVsNaive)->Arg(500)->Arg(5000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
