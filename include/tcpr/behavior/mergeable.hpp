// mergeable.hpp — statistics that merge exactly: moments, covariances, distinct counts.
//
// Workers keep per-agent partials; the control loop merges them workers → appliance → cohorts,
// and later across appliances (DESIGN.md, "The control loop", "Beyond one appliance"). So every
// type here has `add` (one observation), `merge` (associative and commutative, so any merge tree
// gives the same result: exactly for HyperLogLog, up to rounding for the moments) and a compact
// binary form that merges from the other side exactly as the original would.
//
//   Moments          count, mean, M2 — Welford add, Chan/Golub/LeVeque (1979) merge
//   CovarianceAcc<D> count, mean vector, co-moment matrix — the same, multivariate
//   HyperLogLog<P>   2^P one-byte registers over 64-bit hashes (Flajolet et al. 2007);
//                    linear counting below 2.5·m (Heule et al. 2013's small-range correction;
//                    with 64-bit hashes no large-range correction is needed); merge = max
//
// Data side: add/merge are noexcept, allocate nothing and are inline; estimate() is O(2^P).
// Non-finite observations poison an accumulator; such a value serialises but does not
// deserialise, so callers filter NaN/inf before add().
//
// Wire format, version 1 (all multi-byte values little-endian; doubles IEEE-754 binary64):
//   header   4 bytes: 'T', type (1 Moments, 2 Covariance, 3 HyperLogLog), version 1,
//            parameter (0 for Moments, D for Covariance, P for HyperLogLog)
//   Moments      n, mean, m2                                           28 bytes
//   Covariance   n, mean[0..D), comoment upper triangle row by row     4 + 8·(1 + D + D(D+1)/2)
//                (i <= j; the lower triangle is its mirror)
//   HyperLogLog  a flag byte, then
//                0 dense:  registers packed 6 bits each, four in three bytes (r0 in the low
//                          bits), 3·2^P/4 bytes
//                1 sparse: u16 count k of non-zero registers, then k (index, value) pairs in
//                          increasing index order; index 1 byte when P <= 8, else 2
//                sparse is written iff it is strictly shorter than dense.
// A reader rejects: a wrong magic/type/version/parameter, truncation, NaN or inf, n < 0,
// m2 or a co-moment diagonal < 0, n == 0 with a non-zero mean or M2, a register > 65 − P, and
// non-canonical HyperLogLog encodings (wrong form, unsorted or zero sparse entries) — so every
// accepted blob re-serialises to the same bytes.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>
#include <xxhash.h>

namespace tcpr::behavior {

inline constexpr std::uint8_t kWireMagic = 'T';
inline constexpr std::uint8_t kWireVersion = 1;
inline constexpr std::uint8_t kWireMoments = 1;
inline constexpr std::uint8_t kWireCovariance = 2;
inline constexpr std::uint8_t kWireHyperLogLog = 3;
inline constexpr std::size_t kWireHeaderSize = 4;

// Univariate count/mean/M2, Welford add, Chan et al. merge.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void add(double x) noexcept;
  void merge(const Moments& o) noexcept;        // exact parallel combination (Chan, Golub, LeVeque 1979)
  double variance() const noexcept;             // population variance m2/n; 0 when n < 1
  double sample_variance() const noexcept;      // m2/(n-1); 0 when n < 2
};

// The M2 increment is written d·d·(n0/n), not d·(x − new mean), so it is never negative and
// every accumulator of finite inputs passes the reader's m2 >= 0 check.
inline void Moments::add(double x) noexcept {
  const double n0 = n;
  n += 1;
  const double d = x - mean;
  mean += d / n;
  m2 += d * (d * (n0 / n));
}

inline void Moments::merge(const Moments& o) noexcept {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double total = n + o.n;
  const double d = o.mean - mean;
  mean += d * (o.n / total);
  m2 += o.m2 + d * d * (n * o.n / total);
  n = total;
}

inline double Moments::variance() const noexcept { return n < 1 ? 0.0 : m2 / n; }
inline double Moments::sample_variance() const noexcept { return n < 2 ? 0.0 : m2 / (n - 1); }

// Multivariate: count, mean vector and co-moment matrix (sum of outer products of deviations).
// Updates add symmetric outer products d·dᵀ (IEEE products commute), so the co-moment stays
// exactly symmetric and storing its upper triangle loses nothing.
template <int D> struct CovarianceAcc {
  static_assert(D >= 1 && D <= 255, "D is one byte on the wire");
  using Vec = Eigen::Matrix<double, D, 1>;
  using Mat = Eigen::Matrix<double, D, D>;
  double n = 0; Vec mean = Vec::Zero(); Mat comoment = Mat::Zero();

  void add(const Vec& x) noexcept {
    const double n0 = n;
    n += 1;
    const Vec d = x - mean;
    mean += d / n;
    if (n0 > 0) {
      const Mat outer = d * d.transpose();
      comoment += outer * (n0 / n);
    }
  }

  void merge(const CovarianceAcc& o) noexcept {  // Chan's pairwise update of the co-moment
    if (o.n == 0) return;
    if (n == 0) {
      *this = o;
      return;
    }
    const double total = n + o.n;
    const Vec d = o.mean - mean;
    mean += d * (o.n / total);
    const Mat outer = d * d.transpose();
    comoment += o.comoment + outer * (n * o.n / total);
    n = total;
  }

  Mat covariance() const noexcept {              // comoment/n (zero matrix when n < 1)
    if (n < 1) return Mat::Zero();
    return comoment / n;
  }
};

// One pass over many float vectors into a CovarianceAcc, at a quarter of add()'s cost: sums of
// d = x − shift and of d·dᵀ (no division, no temporaries; float, four lanes at a time) over
// blocks of kBlock vectors, each block then added to double totals — so no float sum runs over
// more than kBlock terms — and turned into mean and co-moment once at the end
// (comoment = S₂ − S₁S₁ᵀ/n). With `shift` near the mean (the control thread uses the cohort's
// current model mean) the shifted values are small and nothing of note is lost; far from it,
// precision degrades as for any shifted-data algorithm. A single-pass tool, not a wire type:
// the result is a CovarianceAcc and merges as one.
template <int D> struct ShiftedCoMoment {
  static constexpr int kBlock = 64;
  using VecF = Eigen::Matrix<float, D, 1>;
  using MatF = Eigen::Matrix<float, D, D>;
  using VecD = Eigen::Matrix<double, D, 1>;
  using MatD = Eigen::Matrix<double, D, D>;

  void reset(const VecD& at) noexcept {
    n_ = 0;
    in_block_ = 0;
    shift_f_ = at.template cast<float>();
    s1_.setZero();
    s2_.setZero();
    b1_.setZero();
    b2_.setZero();
  }
  void add(const VecF& x) noexcept {
    const VecF d = x - shift_f_;
    b1_ += d;
    // The lower triangle, four rows at a time: column j from the four-row group holding row j
    // (some entries above the diagonal are summed too, and ignored).
    if constexpr (D % 4 == 0) {
      for (int j = 0; j < D; ++j)
        for (int r = j & ~3; r < D; r += 4) b2_.col(j).template segment<4>(r) += d[j] * d.template segment<4>(r);
    } else {
      for (int j = 0; j < D; ++j) b2_.col(j) += d[j] * d;
    }
    if (++in_block_ == kBlock) flush();
  }
  double count() const noexcept { return n_ + in_block_; }
  CovarianceAcc<D> result() const noexcept {
    CovarianceAcc<D> out;
    const double n = count();
    if (n == 0) return out;
    const VecD s1 = s1_ + b1_.template cast<double>();
    MatD s2 = s2_ + b2_.template cast<double>();
    mirror_lower(s2);   // the lower triangle is the sum
    out.n = n;
    // shift_f_ is what was subtracted.
    out.mean = shift_f_.template cast<double>() + s1 / n;
    out.comoment.noalias() = s2 - s1 * (s1.transpose() / n);
    mirror_lower(out.comoment);   // exactly symmetric
    return out;
  }

 private:
  static void mirror_lower(MatD& m) noexcept {
    for (int j = 1; j < D; ++j)
      for (int i = 0; i < j; ++i) m(i, j) = m(j, i);
  }
  void flush() noexcept {
    s1_ += b1_.template cast<double>();
    s2_ += b2_.template cast<double>();
    b1_.setZero();
    b2_.setZero();
    n_ += in_block_;
    in_block_ = 0;
  }
  double n_ = 0;
  int in_block_ = 0;
  VecD s1_ = VecD::Zero();
  MatD s2_ = MatD::Zero();
  VecF shift_f_ = VecF::Zero(), b1_ = VecF::Zero();
  MatF b2_ = MatF::Zero();
};

namespace detail {
double hll_estimate(const std::uint8_t* reg, unsigned p) noexcept;
void serialize_hll(const std::uint8_t* reg, unsigned p, std::vector<std::uint8_t>& out);
bool deserialize_hll(std::span<const std::uint8_t>& in, unsigned p, std::uint8_t* reg) noexcept;
}  // namespace detail

// HyperLogLog with 2^P one-byte registers (Flajolet et al. 2007) fed 64-bit hashes. The top P
// bits pick the register; it keeps the maximum rank (leading zeros + 1) of the other 64 − P
// bits, at most 65 − P. Relative standard error 1.04/sqrt(2^P).
template <unsigned P> struct HyperLogLog {
  static_assert(P >= 4 && P <= 16);
  static constexpr std::uint8_t kMaxRank = 64 - P + 1;
  std::array<std::uint8_t, (1u << P)> reg{};

  void add_hash(std::uint64_t h) noexcept {
    // The sentinel bit caps the rank at 65 − P when the remaining bits are all zero.
    const auto rank =
        static_cast<std::uint8_t>(std::countl_zero((h << P) | (std::uint64_t{1} << (P - 1))) + 1);
    std::uint8_t& r = reg[h >> (64 - P)];
    if (rank > r) r = rank;
  }
  void add(const void* data, std::size_t len) noexcept { add_hash(XXH3_64bits(data, len)); }
  void merge(const HyperLogLog& o) noexcept {
    for (std::size_t i = 0; i < reg.size(); ++i) reg[i] = std::max(reg[i], o.reg[i]);
  }
  double estimate() const noexcept { return detail::hll_estimate(reg.data(), P); }
  void clear() noexcept { reg.fill(0); }
  bool empty() const noexcept {
    return std::all_of(reg.begin(), reg.end(), [](std::uint8_t r) { return r == 0; });
  }
};

// ---- serialisation -------------------------------------------------------------------------
// serialize() appends one value to `out`. deserialize() reads one value from the front of `in`
// and advances `in` past it; on any rejection it returns false and changes neither `in` nor
// `out`.

namespace detail {

inline void store_header(std::uint8_t* p, std::uint8_t type, std::uint8_t param) noexcept {
  p[0] = kWireMagic;
  p[1] = type;
  p[2] = kWireVersion;
  p[3] = param;
}

inline bool header_ok(const std::uint8_t* p, std::uint8_t type, std::uint8_t param) noexcept {
  return p[0] == kWireMagic && p[1] == type && p[2] == kWireVersion && p[3] == param;
}

inline void store_f64(std::uint8_t* p, double v) noexcept {
  const auto u = std::bit_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(u >> (8 * i));
}

inline double load_f64(const std::uint8_t* p) noexcept {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= std::uint64_t{p[i]} << (8 * i);
  return std::bit_cast<double>(u);
}

template <int D> inline constexpr std::size_t kCovarianceWireSize =
    kWireHeaderSize + 8 * (1 + D + D * (D + 1) / 2);

}  // namespace detail

void serialize(const Moments& v, std::vector<std::uint8_t>& out);
bool deserialize(std::span<const std::uint8_t>& in, Moments& out);

template <int D> void serialize(const CovarianceAcc<D>& v, std::vector<std::uint8_t>& out) {
  const std::size_t at = out.size();
  out.resize(at + detail::kCovarianceWireSize<D>);
  std::uint8_t* p = out.data() + at;
  detail::store_header(p, kWireCovariance, static_cast<std::uint8_t>(D));
  p += kWireHeaderSize;
  detail::store_f64(p, v.n);
  p += 8;
  for (int i = 0; i < D; ++i, p += 8) detail::store_f64(p, v.mean[i]);
  for (int i = 0; i < D; ++i)
    for (int j = i; j < D; ++j, p += 8) detail::store_f64(p, v.comoment(i, j));
}

template <int D> bool deserialize(std::span<const std::uint8_t>& in, CovarianceAcc<D>& out) {
  constexpr std::size_t kSize = detail::kCovarianceWireSize<D>;
  if (in.size() < kSize || !detail::header_ok(in.data(), kWireCovariance, D)) return false;
  const std::uint8_t* p = in.data() + kWireHeaderSize;
  CovarianceAcc<D> v;
  v.n = detail::load_f64(p);
  p += 8;
  bool ok = std::isfinite(v.n) && v.n >= 0;
  bool all_zero = true;
  for (int i = 0; i < D; ++i, p += 8) {
    v.mean[i] = detail::load_f64(p);
    ok = ok && std::isfinite(v.mean[i]);
    all_zero = all_zero && v.mean[i] == 0;
  }
  for (int i = 0; i < D; ++i) {
    for (int j = i; j < D; ++j, p += 8) {
      const double c = detail::load_f64(p);
      ok = ok && std::isfinite(c) && (i != j || c >= 0);
      all_zero = all_zero && c == 0;
      v.comoment(i, j) = c;
      v.comoment(j, i) = c;
    }
  }
  if (!ok || (v.n == 0 && !all_zero)) return false;
  out = v;
  in = in.subspan(kSize);
  return true;
}

template <unsigned P> void serialize(const HyperLogLog<P>& v, std::vector<std::uint8_t>& out) {
  detail::serialize_hll(v.reg.data(), P, out);
}

template <unsigned P> bool deserialize(std::span<const std::uint8_t>& in, HyperLogLog<P>& out) {
  return detail::deserialize_hll(in, P, out.reg.data());
}

}  // namespace tcpr::behavior
