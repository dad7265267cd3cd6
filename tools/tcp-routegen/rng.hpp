// rng.hpp — the deterministic random source of tcp-routegen.
//
// Every draw is made from raw 64-bit outputs of std::mt19937_64 (whose output sequence the C++
// standard fixes) with integer arithmetic written here. std::*_distribution is not used: its
// algorithms differ between standard libraries, and a seed must give the same capture anywhere.
// No floating point either, so no libm rounding differences can leak into a capture.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>

namespace tcpr::gen {

// SplitMix64 finaliser: derives independent seeds (one per flow, per purpose) from one seed.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next_u64() { return engine_(); }
  std::uint32_t next_u32() { return static_cast<std::uint32_t>(engine_() >> 32); }

  // Uniform in [0, bound): Lemire's multiply-and-reject, unbiased.
  std::uint64_t below(std::uint64_t bound) {
    if (bound == 0) throw std::logic_error("Rng::below(0)");
    unsigned __int128 m = static_cast<unsigned __int128>(engine_()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(engine_()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi], both included.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    if (hi < lo) throw std::logic_error("Rng::between(lo > hi)");
    if (hi - lo == UINT64_MAX) return engine_();
    return lo + below(hi - lo + 1);
  }

  // True with probability percent/100.
  bool chance(std::uint32_t percent) { return below(100) < percent; }

  // Sizes and delays spread over orders of magnitude: an octave of [lo, hi] is chosen uniformly,
  // then a value uniformly inside it (a piecewise-linear log-uniform draw, integer only).
  std::uint64_t log_uniform(std::uint64_t lo, std::uint64_t hi) {
    if (lo == 0 || hi < lo) throw std::logic_error("Rng::log_uniform bounds");
    std::uint64_t octaves = 0;
    while ((lo << (octaves + 1)) <= hi && octaves < 62) ++octaves;
    const std::uint64_t k = below(octaves + 1);
    const std::uint64_t a = lo << k;
    const std::uint64_t b = k == octaves ? hi : (a << 1) - 1;
    return between(a, b);
  }

  // Opaque bytes (ciphertext, keys). They take one draw from this generator whatever their
  // length, then come from a SplitMix64 stream seeded by it: fast, and cheap to skip.
  void fill(std::span<std::uint8_t> out) {
    const std::uint64_t state = engine_();
    std::size_t i = 0;
    for (; i + 8 <= out.size(); i += 8) {
      const std::uint64_t word = derive_seed(state, i);
      for (int b = 0; b < 8; ++b) out[i + b] = static_cast<std::uint8_t>(word >> (8 * b));
    }
    for (std::uint64_t word = derive_seed(state, i); i < out.size(); ++i, word >>= 8) {
      out[i] = static_cast<std::uint8_t>(word);
    }
  }

  template <class T>
  const T& pick(std::span<const T> items) {
    return items[static_cast<std::size_t>(below(items.size()))];
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace tcpr::gen
