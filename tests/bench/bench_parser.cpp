// bench_parser.cpp — packet::parse() over a 32-frame burst, per frame shape and mixed.
//
// The burst sits in L1/L2 as it does right after rx_burst; what is measured is the parser's own
// work per frame. Counters: items_per_second (frames), per_pkt (seconds per frame: "12.3n" reads
// 12.3 ns).
#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "tcpr/packet/parser.hpp"

namespace tcpr::bench {
namespace {

constexpr std::size_t kBurst = 32;

// shape < 0: a mix of 80% IPv4 TCP, 10% IPv6+ext TCP, 10% VLAN IPv4 TCP, in random order.
FrameArena make_burst(int shape) {
  FrameArena a;
  a.reserve(kBurst);
  SplitMix rng(42);
  for (std::size_t i = 0; i < kBurst; ++i) {
    FrameSpec s;
    if (shape >= 0) {
      s.shape = static_cast<Shape>(shape);
    } else {
      const std::uint32_t r = rng.below(10);
      s.shape = r < 8 ? Shape::kIpv4Tcp : r == 8 ? Shape::kIpv6ExtTcp : Shape::kVlanIpv4Tcp;
    }
    s.client = static_cast<std::uint32_t>(i + 1);
    s.server = rng.below(64) + 1;
    s.from_client = rng.below(2) == 0;
    s.payload = static_cast<std::uint16_t>(rng.below(1400));
    a.add(make_frame(s));
  }
  return a;
}

void BM_Parse(benchmark::State& state, int shape) {
  const FrameArena burst = make_burst(shape);
  packet::ParsedPacket out[kBurst];
  // A burst that does not parse cleanly would measure an early exit: refuse to report it.
  for (std::size_t i = 0; i < kBurst; ++i) {
    if (packet::parse(burst.views[i], out[i]) != TCPR_DROP_NONE || !out[i].has(packet::kFlagHasL4)) {
      state.SkipWithError("benchmark frame does not parse");
      return;
    }
  }
  for (auto _ : state) {
    unsigned ok = 0;
    for (std::size_t i = 0; i < kBurst; ++i) ok += packet::parse(burst.views[i], out[i]) == TCPR_DROP_NONE;
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  set_rates(state, kBurst);
}

BENCHMARK_CAPTURE(BM_Parse, ipv4_tcp, static_cast<int>(Shape::kIpv4Tcp));
BENCHMARK_CAPTURE(BM_Parse, ipv6_ext_tcp, static_cast<int>(Shape::kIpv6ExtTcp));
BENCHMARK_CAPTURE(BM_Parse, vlan_ipv4_tcp, static_cast<int>(Shape::kVlanIpv4Tcp));
BENCHMARK_CAPTURE(BM_Parse, mix_80_10_10, -1);

}  // namespace
}  // namespace tcpr::bench

BENCHMARK_MAIN();
