// Mergeable statistics: the HyperLogLog estimator and the non-template wire forms.
#include "tcpr/behavior/mergeable.hpp"

#include <cmath>

namespace tcpr::behavior {

namespace {

constexpr std::size_t kMomentsWireSize = kWireHeaderSize + 3 * 8;
constexpr std::size_t kHllPrefixSize = kWireHeaderSize + 1;  // header + form flag
constexpr std::uint8_t kHllDense = 0;
constexpr std::uint8_t kHllSparse = 1;

constexpr std::size_t dense_size(unsigned p) { return 3 * (std::size_t{1} << p) / 4; }
constexpr std::size_t index_width(unsigned p) { return p <= 8 ? 1 : 2; }
constexpr std::size_t sparse_size(unsigned p, std::size_t k) { return 2 + k * (index_width(p) + 1); }

// The one choice of form, shared by writer and reader, is what makes the encoding canonical.
constexpr bool use_sparse(unsigned p, std::size_t k) { return sparse_size(p, k) < dense_size(p); }

// Flajolet et al. 2007, figure 3.
double alpha(unsigned m) {
  switch (m) {
    case 16: return 0.673;
    case 32: return 0.697;
    case 64: return 0.709;
    default: return 0.7213 / (1.0 + 1.079 / m);
  }
}

}  // namespace

namespace detail {

namespace {
// m·ln(m/zeros), with ln of small integers from a table: an agent's per-tick sketches are
// nearly empty, so this is the estimate taken twice per agent per tick.
double linear_counting(unsigned m, unsigned zeros) noexcept {
  constexpr unsigned kLogs = 1025;
  static const std::array<double, kLogs> kLn = [] {
    std::array<double, kLogs> t{};
    for (unsigned i = 1; i < kLogs; ++i) t[i] = std::log(static_cast<double>(i));
    return t;
  }();
  if (m < kLogs) return m * (kLn[m] - kLn[zeros]);
  return m * std::log(static_cast<double>(m) / zeros);
}
}  // namespace

double hll_estimate(const std::uint8_t* reg, unsigned p) noexcept {
  const unsigned m = 1u << p;
  // A histogram of register values (at most 64 − p + 1, so 64 bins) makes the harmonic sum
  // independent of register order and cheap: one integer pass, then at most 64 terms, each a
  // power of two taken from a table.
  static const std::array<double, 64> kInvPow2 = [] {
    std::array<double, 64> t{};
    for (int r = 0; r < 64; ++r) t[static_cast<std::size_t>(r)] = std::ldexp(1.0, -r);
    return t;
  }();
  // Fast path, same result: every zero register adds 1 to the harmonic sum, so sum ≥ zeros and
  // raw ≤ α·m²/zeros; when that bound is already within linear counting's range (≤ 2.5·m), the
  // estimate is linear counting and needs only the number of zero registers.
  unsigned zeros = 0;
  for (unsigned i = 0; i < m; ++i) zeros += reg[i] == 0 ? 1u : 0u;
  if (zeros == m) return 0.0;
  if (zeros != 0 && alpha(m) * m * m / zeros <= 2.5 * m) return linear_counting(m, zeros);
  std::array<std::uint32_t, 64> hist{};
  for (unsigned i = 0; i < m; ++i) ++hist[reg[i] & 63u];
  double sum = 0;
  for (int r = 63; r >= 0; --r) {
    if (hist[static_cast<std::size_t>(r)] != 0) sum += hist[static_cast<std::size_t>(r)] * kInvPow2[static_cast<std::size_t>(r)];
  }
  const double raw = alpha(m) * m * m / sum;
  // Small-range correction: linear counting while the raw estimate is biased (Heule et al.
  // 2013, §4/§5). No large-range correction: 64-bit hashes do not saturate.
  if (raw <= 2.5 * m && hist[0] != 0) return linear_counting(m, hist[0]);
  return raw;
}

void serialize_hll(const std::uint8_t* reg, unsigned p, std::vector<std::uint8_t>& out) {
  const std::size_t m = std::size_t{1} << p;
  const std::size_t k = m - static_cast<std::size_t>(std::count(reg, reg + m, std::uint8_t{0}));
  const bool sparse = use_sparse(p, k);
  const std::size_t at = out.size();
  out.resize(at + kHllPrefixSize + (sparse ? sparse_size(p, k) : dense_size(p)));
  std::uint8_t* o = out.data() + at;
  store_header(o, kWireHyperLogLog, static_cast<std::uint8_t>(p));
  o[kWireHeaderSize] = sparse ? kHllSparse : kHllDense;
  o += kHllPrefixSize;
  if (sparse) {
    *o++ = static_cast<std::uint8_t>(k);
    *o++ = static_cast<std::uint8_t>(k >> 8);
    for (std::size_t i = 0; i < m; ++i) {
      if (reg[i] == 0) continue;
      *o++ = static_cast<std::uint8_t>(i);
      if (index_width(p) == 2) *o++ = static_cast<std::uint8_t>(i >> 8);
      *o++ = reg[i];
    }
    return;
  }
  for (std::size_t i = 0; i < m; i += 4, o += 3) {
    const std::uint32_t v = std::uint32_t{reg[i]} | std::uint32_t{reg[i + 1]} << 6 |
                            std::uint32_t{reg[i + 2]} << 12 | std::uint32_t{reg[i + 3]} << 18;
    o[0] = static_cast<std::uint8_t>(v);
    o[1] = static_cast<std::uint8_t>(v >> 8);
    o[2] = static_cast<std::uint8_t>(v >> 16);
  }
}

// Two passes: validate everything first, so a rejected blob leaves `reg` untouched without a
// 64 KiB scratch copy.
bool deserialize_hll(std::span<const std::uint8_t>& in, unsigned p, std::uint8_t* reg) noexcept {
  if (in.size() < kHllPrefixSize ||
      !header_ok(in.data(), kWireHyperLogLog, static_cast<std::uint8_t>(p)))
    return false;
  const std::size_t m = std::size_t{1} << p;
  const unsigned max_rank = 65 - p;
  const std::uint8_t* b = in.data() + kHllPrefixSize;
  const std::size_t avail = in.size() - kHllPrefixSize;
  std::size_t used = 0;

  if (in[kWireHeaderSize] == kHllDense) {
    used = dense_size(p);
    if (avail < used) return false;
    std::size_t k = 0;
    for (std::size_t g = 0; g < used; g += 3) {
      const std::uint32_t v = b[g] | std::uint32_t{b[g + 1]} << 8 | std::uint32_t{b[g + 2]} << 16;
      for (int s = 0; s < 24; s += 6) {
        const unsigned r = (v >> s) & 63;
        if (r > max_rank) return false;
        k += r != 0;
      }
    }
    if (use_sparse(p, k)) return false;
    for (std::size_t g = 0, i = 0; g < used; g += 3) {
      const std::uint32_t v = b[g] | std::uint32_t{b[g + 1]} << 8 | std::uint32_t{b[g + 2]} << 16;
      for (int s = 0; s < 24; s += 6) reg[i++] = static_cast<std::uint8_t>((v >> s) & 63);
    }
  } else if (in[kWireHeaderSize] == kHllSparse) {
    if (avail < 2) return false;
    const std::size_t k = b[0] | std::size_t{b[1]} << 8;
    if (!use_sparse(p, k)) return false;
    used = sparse_size(p, k);
    if (avail < used) return false;
    const std::size_t w = index_width(p);
    std::size_t next = 0;  // indices strictly increase: the lowest index the next entry may have
    for (const std::uint8_t* e = b + 2; e < b + used; e += w + 1) {
      const std::size_t idx = w == 1 ? e[0] : (e[0] | std::size_t{e[1]} << 8);
      const unsigned r = e[w];
      if (idx < next || idx >= m || r == 0 || r > max_rank) return false;
      next = idx + 1;
    }
    std::fill(reg, reg + m, std::uint8_t{0});
    for (const std::uint8_t* e = b + 2; e < b + used; e += w + 1)
      reg[w == 1 ? e[0] : (e[0] | std::size_t{e[1]} << 8)] = e[w];
  } else {
    return false;
  }
  in = in.subspan(kHllPrefixSize + used);
  return true;
}

}  // namespace detail

void serialize(const Moments& v, std::vector<std::uint8_t>& out) {
  const std::size_t at = out.size();
  out.resize(at + kMomentsWireSize);
  std::uint8_t* p = out.data() + at;
  detail::store_header(p, kWireMoments, 0);
  detail::store_f64(p + 4, v.n);
  detail::store_f64(p + 12, v.mean);
  detail::store_f64(p + 20, v.m2);
}

bool deserialize(std::span<const std::uint8_t>& in, Moments& out) {
  if (in.size() < kMomentsWireSize || !detail::header_ok(in.data(), kWireMoments, 0)) return false;
  Moments v;
  v.n = detail::load_f64(in.data() + 4);
  v.mean = detail::load_f64(in.data() + 12);
  v.m2 = detail::load_f64(in.data() + 20);
  if (!std::isfinite(v.n) || !std::isfinite(v.mean) || !std::isfinite(v.m2)) return false;
  if (v.n < 0 || v.m2 < 0 || (v.n == 0 && (v.mean != 0 || v.m2 != 0))) return false;
  out = v;
  in = in.subspan(kMomentsWireSize);
  return true;
}

}  // namespace tcpr::behavior
