// bench_common.hpp — frames, a generator and rate counters shared by the bench_micro sources.
//
// One builder for the shapes the dataplane sees most: IPv4 TCP, IPv6 TCP behind one extension
// header (destination options), and 802.1Q-tagged IPv4 TCP. TCP headers carry the usual 12 bytes
// of options (NOP NOP timestamp), so the parser skips options as it does on real traffic.
// Checksums are left zero: nothing on the packet path verifies them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "tcpr/packet/packet_view.hpp"

namespace tcpr::bench {

enum class Shape : std::uint8_t { kIpv4Tcp, kIpv6ExtTcp, kVlanIpv4Tcp };

struct FrameSpec {
  Shape shape = Shape::kIpv4Tcp;
  std::uint32_t client = 0;     // client host number: 10.<id> / fd00::<id>
  std::uint32_t server = 0;     // server host number: 198.18.<id> / fd01::<id>
  std::uint16_t client_port = 40000;
  std::uint16_t server_port = 443;
  bool from_client = true;      // direction of this frame
  std::uint8_t tcp_flags = packet::kTcpAck | packet::kTcpPsh;
  std::uint16_t payload = 200;  // TCP payload bytes
  std::uint16_t vlan = 100;
};

namespace detail {
inline void put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint32_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::vector<std::uint8_t>& f, std::size_t at, std::uint32_t v) {
  put16(f, at, v >> 16);
  put16(f, at + 2, v & 0xffff);
}
}  // namespace detail

inline std::vector<std::uint8_t> make_frame(const FrameSpec& s) {
  using detail::put16;
  using detail::put32;
  const bool v6 = s.shape == Shape::kIpv6ExtTcp;
  const bool vlan = s.shape == Shape::kVlanIpv4Tcp;
  const std::size_t l2 = 14 + (vlan ? 4 : 0);
  const std::size_t l3 = v6 ? 40 + 8 : 20;
  const std::size_t tcp = 32;
  std::vector<std::uint8_t> f(l2 + l3 + tcp + s.payload, 0);

  // Ethernet: locally administered MACs.
  const std::uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x01}, mac_s[6] = {0x02, 0, 0, 0, 0, 0x02};
  for (int i = 0; i < 6; ++i) {
    f[static_cast<std::size_t>(i)] = s.from_client ? mac_s[i] : mac_c[i];
    f[static_cast<std::size_t>(6 + i)] = s.from_client ? mac_c[i] : mac_s[i];
  }
  std::size_t off = 12;
  if (vlan) {
    put16(f, off, 0x8100);
    put16(f, off + 2, s.vlan & 0x0fff);
    off += 4;
  }
  put16(f, off, v6 ? 0x86dd : 0x0800);
  off += 2;

  const std::size_t ip = off;
  if (!v6) {
    f[ip] = 0x45;
    put16(f, ip + 2, static_cast<std::uint32_t>(l3 + tcp + s.payload));
    put16(f, ip + 6, 0x4000);  // DF
    f[ip + 8] = 64;
    f[ip + 9] = packet::kProtoTcp;
    const std::uint32_t c = (10u << 24) | (s.client & 0x00ffffff);
    const std::uint32_t v = (198u << 24) | (18u << 16) | (s.server & 0xffff);
    put32(f, ip + 12, s.from_client ? c : v);
    put32(f, ip + 16, s.from_client ? v : c);
  } else {
    f[ip] = 0x60;
    put16(f, ip + 4, static_cast<std::uint32_t>(8 + tcp + s.payload));
    f[ip + 6] = 60;  // destination options
    f[ip + 7] = 64;
    std::uint8_t c[16] = {0xfd, 0x00}, v[16] = {0xfd, 0x01};
    for (int i = 0; i < 4; ++i) {
      c[12 + i] = static_cast<std::uint8_t>(s.client >> (24 - 8 * i));
      v[12 + i] = static_cast<std::uint8_t>(s.server >> (24 - 8 * i));
    }
    for (int i = 0; i < 16; ++i) {
      f[ip + 8 + static_cast<std::size_t>(i)] = s.from_client ? c[i] : v[i];
      f[ip + 24 + static_cast<std::size_t>(i)] = s.from_client ? v[i] : c[i];
    }
    const std::size_t ext = ip + 40;
    f[ext] = packet::kProtoTcp;  // next header
    f[ext + 1] = 0;              // 8 bytes in all
    f[ext + 2] = 1;              // PadN, 4 bytes of padding
    f[ext + 3] = 4;
  }

  const std::size_t t = ip + l3;
  put16(f, t, s.from_client ? s.client_port : s.server_port);
  put16(f, t + 2, s.from_client ? s.server_port : s.client_port);
  put32(f, t + 4, 0x10000000u + s.client);
  put32(f, t + 8, 0x20000000u + s.server);
  f[t + 12] = static_cast<std::uint8_t>((tcp / 4) << 4);
  f[t + 13] = s.tcp_flags;
  put16(f, t + 14, 64240);
  f[t + 20] = 1;  // NOP NOP TS(10)
  f[t + 21] = 1;
  f[t + 22] = 8;
  f[t + 23] = 10;
  for (std::size_t i = 0; i < s.payload; ++i) f[t + tcp + i] = static_cast<std::uint8_t>('a' + i % 26);
  return f;
}

// Frames laid out back to back at a fixed stride, like mbuf data rooms in a mempool, so that a
// walk through them touches memory the way the dataplane does. `views` point into `storage`.
// The stride defaults to an mbuf's data room; a smaller one keeps million-frame sets small.
struct FrameArena {
  std::size_t stride = 2048;
  std::vector<std::uint8_t> storage;
  std::vector<packet::PacketView> views;

  FrameArena() = default;
  explicit FrameArena(std::size_t stride_bytes) : stride(stride_bytes) {}

  void reserve(std::size_t n) {
    storage.assign(n * stride, 0);
    views.reserve(n);
  }
  // The frame must fit the stride; reserve() must have made room for it.
  void add(const std::vector<std::uint8_t>& frame, std::uint16_t port = 0) {
    const std::size_t i = views.size();
    if (frame.size() > stride || (i + 1) * stride > storage.size()) std::abort();
    std::uint8_t* p = storage.data() + i * stride;
    std::copy(frame.begin(), frame.end(), p);
    views.push_back({p, static_cast<std::uint32_t>(frame.size()), static_cast<std::uint32_t>(frame.size()), port, 0});
  }
};

// A deterministic 64-bit generator (splitmix64): the benchmarks need reproducible spreads, not
// good randomness, and <random>'s engines are not guaranteed identical across libraries.
struct SplitMix {
  std::uint64_t s;
  explicit SplitMix(std::uint64_t seed) : s(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) noexcept { return static_cast<std::uint32_t>(next() % n); }
};

// items_per_second, and per_pkt = seconds per item (Google Benchmark prints "12.3n": 12.3 ns).
inline void set_rates(benchmark::State& state, std::size_t items_per_iteration) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(items_per_iteration));
  state.counters["per_pkt"] = benchmark::Counter(
      static_cast<double>(items_per_iteration),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <typename T>
void shuffle(std::vector<T>& v, SplitMix& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(static_cast<std::uint32_t>(i))]);
}

}  // namespace tcpr::bench
