// Mergeable statistics: any merge tree equals one pass over all the data (against plain-loop
// two-pass references computed here), HyperLogLog within its documented error, and the wire
// form round-trips and rejects anything malformed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "tcpr/behavior/mergeable.hpp"

using namespace tcpr::behavior;

namespace {

bool rel_close(double a, double b, double rel = 1e-9) {
  return std::abs(a - b) <= rel * std::max({std::abs(a), std::abs(b), 1e-300});
}

std::vector<double> sample(std::size_t n, double mu, double sigma, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> dist(mu, sigma);
  std::vector<double> xs(n);
  for (auto& x : xs) x = dist(gen);
  return xs;
}

Moments moments_of(const std::vector<double>& xs, std::size_t lo, std::size_t hi) {
  Moments m;
  for (std::size_t i = lo; i < hi; ++i) m.add(xs[i]);
  return m;
}

struct TwoPass {
  double mean = 0, var = 0, sample_var = 0;
};

TwoPass two_pass(const std::vector<double>& xs) {
  TwoPass r;
  double sum = 0;
  for (double x : xs) sum += x;
  r.mean = sum / static_cast<double>(xs.size());
  double ss = 0;
  for (double x : xs) ss += (x - r.mean) * (x - r.mean);
  r.var = ss / static_cast<double>(xs.size());
  r.sample_var = ss / static_cast<double>(xs.size() - 1);
  return r;
}

void check_matches(const Moments& m, const std::vector<double>& xs) {
  const TwoPass ref = two_pass(xs);
  CHECK(m.n == static_cast<double>(xs.size()));
  CHECK(rel_close(m.mean, ref.mean));
  CHECK(rel_close(m.variance(), ref.var));
  CHECK(rel_close(m.sample_variance(), ref.sample_var));
}

bool same(const Moments& a, const Moments& b) {
  return a.n == b.n && a.mean == b.mean && a.m2 == b.m2;
}

template <class T> std::vector<std::uint8_t> bytes(const T& v) {
  std::vector<std::uint8_t> out;
  serialize(v, out);
  return out;
}

// Truncated input is rejected and leaves both the span and the target as they were.
template <class T> void check_every_truncation_rejected(const std::vector<std::uint8_t>& blob,
                                                        const T& sentinel) {
  const auto sentinel_bytes = bytes(sentinel);
  for (std::size_t len = 0; len < blob.size(); ++len) {
    std::span<const std::uint8_t> in(blob.data(), len);
    T out = sentinel;
    REQUIRE_FALSE(deserialize(in, out));
    REQUIRE(in.size() == len);
    REQUIRE(bytes(out) == sentinel_bytes);
  }
}

// ---- covariance -----------------------------------------------------------------------------

template <int D> using Vec = typename CovarianceAcc<D>::Vec;
template <int D> using Mat = typename CovarianceAcc<D>::Mat;

// Correlated data: x = mu + L z with a random lower-triangular L.
template <int D> std::vector<Vec<D>> correlated(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(-3, 3);
  Mat<D> l = Mat<D>::Zero();
  Vec<D> mu;
  for (int i = 0; i < D; ++i) {
    mu[i] = 10 * u(gen);
    for (int j = 0; j <= i; ++j) l(i, j) = u(gen);
  }
  std::vector<Vec<D>> xs(n);
  for (auto& x : xs) {
    Vec<D> zz;
    for (int i = 0; i < D; ++i) zz[i] = z(gen);
    for (int i = 0; i < D; ++i) {
      double s = mu[i];
      for (int j = 0; j <= i; ++j) s += l(i, j) * zz[j];
      x[i] = s;
    }
  }
  return xs;
}

template <int D> CovarianceAcc<D> cov_of(const std::vector<Vec<D>>& xs, std::size_t lo,
                                        std::size_t hi) {
  CovarianceAcc<D> acc;
  for (std::size_t i = lo; i < hi; ++i) acc.add(xs[i]);
  return acc;
}

// Two-pass population covariance with plain loops.
template <int D> Mat<D> two_pass_cov(const std::vector<Vec<D>>& xs, Vec<D>& mean) {
  const double n = static_cast<double>(xs.size());
  for (int i = 0; i < D; ++i) {
    double s = 0;
    for (const auto& x : xs) s += x[i];
    mean[i] = s / n;
  }
  Mat<D> c;
  for (int i = 0; i < D; ++i) {
    for (int j = 0; j < D; ++j) {
      double s = 0;
      for (const auto& x : xs) s += (x[i] - mean[i]) * (x[j] - mean[j]);
      c(i, j) = s / n;
    }
  }
  return c;
}

template <int D> bool mat_close(const Mat<D>& a, const Mat<D>& b, double scale) {
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j)
      if (std::abs(a(i, j) - b(i, j)) > 1e-9 * scale) return false;
  return true;
}

template <int D> void check_covariance_merges() {
  const auto xs = correlated<D>(900, 7 + D);
  Vec<D> ref_mean;
  const Mat<D> ref = two_pass_cov<D>(xs, ref_mean);
  const double scale = ref.cwiseAbs().maxCoeff();
  const double mean_scale = std::max(1.0, ref_mean.cwiseAbs().maxCoeff());

  const auto check_ref = [&](const CovarianceAcc<D>& acc) {
    CHECK(acc.n == 900.0);
    for (int i = 0; i < D; ++i) CHECK(std::abs(acc.mean[i] - ref_mean[i]) <= 1e-9 * mean_scale);
    CHECK(mat_close<D>(acc.covariance(), ref, scale));
    CHECK(acc.comoment == acc.comoment.transpose());  // exactly symmetric
  };

  check_ref(cov_of<D>(xs, 0, 900));
  for (const std::size_t s : {std::size_t{0}, std::size_t{1}, std::size_t{450}, std::size_t{899}}) {
    auto a = cov_of<D>(xs, 0, s), b = cov_of<D>(xs, s, 900);
    auto ab = a, ba = b;
    ab.merge(b);
    ba.merge(a);
    check_ref(ab);
    check_ref(ba);
    CHECK(mat_close<D>(ab.comoment, ba.comoment, scale * 900));
  }

  const auto a = cov_of<D>(xs, 0, 200), b = cov_of<D>(xs, 200, 650), c = cov_of<D>(xs, 650, 900);
  auto ab_c = a;
  ab_c.merge(b);
  ab_c.merge(c);
  auto bc = b;
  bc.merge(c);
  auto a_bc = a;
  a_bc.merge(bc);
  check_ref(ab_c);
  check_ref(a_bc);
  CHECK(mat_close<D>(ab_c.comoment, a_bc.comoment, scale * 900));
  for (int i = 0; i < D; ++i) CHECK(std::abs(ab_c.mean[i] - a_bc.mean[i]) <= 1e-9 * mean_scale);
}

// ---- ShiftedCoMoment (the tick's one-pass cohort statistics) -------------------------------

// The inputs are floats (the tick's vectors); the reference is the two-pass covariance of the
// same float values in double. Float sums run over at most kBlock terms, so the error is float
// rounding of the shifted products, ~1e-6 of the spread — checked at 1e-4 of it.
template <int D> void check_shifted(std::size_t n, double shift_offset) {
  const auto xs = correlated<D>(n, 31 + D);
  std::vector<Vec<D>> rounded(xs.size());
  std::vector<Eigen::Matrix<float, D, 1>> xf(xs.size());
  for (std::size_t k = 0; k < xs.size(); ++k) {
    xf[k] = xs[k].template cast<float>();
    rounded[k] = xf[k].template cast<double>();
  }
  Vec<D> ref_mean;
  const Mat<D> ref = two_pass_cov<D>(rounded, ref_mean);
  ShiftedCoMoment<D> sc;
  sc.reset(ref_mean + Vec<D>::Constant(shift_offset));   // a shift near, not at, the mean
  for (const auto& x : xf) sc.add(x);
  const CovarianceAcc<D> acc = sc.result();
  REQUIRE(acc.n == static_cast<double>(n));
  const double spread = ref.diagonal().maxCoeff();
  for (int i = 0; i < D; ++i) CHECK(std::abs(acc.mean[i] - ref_mean[i]) <= 1e-4 * std::sqrt(spread));
  const Mat<D> cov = acc.covariance();
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) CHECK(std::abs(cov(i, j) - ref(i, j)) <= 1e-4 * spread);
  CHECK(acc.comoment == acc.comoment.transpose());
}

TEST_CASE("ShiftedCoMoment: one pass equals the two-pass covariance (blocks, partial block)",
          "[mergeable]") {
  check_shifted<16>(64 * 7 + 13, 0.5);   // whole blocks and a partial one
  check_shifted<16>(5, -0.3);            // less than one block
  check_shifted<4>(300, 1.0);
  check_shifted<3>(300, 1.0);            // D not a multiple of 4: the plain column update
}

TEST_CASE("ShiftedCoMoment: empty, and a result merges like any CovarianceAcc", "[mergeable]") {
  ShiftedCoMoment<4> e;
  e.reset(Vec<4>::Zero());
  CHECK(e.result().n == 0);
  const auto xs = correlated<4>(200, 3);
  ShiftedCoMoment<4> a, b;
  a.reset(Vec<4>::Constant(5));
  b.reset(Vec<4>::Constant(5));
  CovarianceAcc<4> whole;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const Eigen::Matrix<float, 4, 1> x = xs[k].cast<float>();
    (k < 80 ? a : b).add(x);
    whole.add(x.cast<double>());
  }
  CovarianceAcc<4> merged = a.result();
  merged.merge(b.result());
  CHECK(merged.n == whole.n);
  for (int i = 0; i < 4; ++i) {
    CHECK(merged.mean[i] == Approx(whole.mean[i]).epsilon(1e-5));
    for (int j = 0; j < 4; ++j)
      CHECK(merged.comoment(i, j) == Approx(whole.comoment(i, j)).epsilon(1e-4).margin(1e-3));
  }
}

// ---- HyperLogLog ----------------------------------------------------------------------------

template <unsigned P> void add_range(HyperLogLog<P>& h, std::uint64_t lo, std::uint64_t hi,
                                     std::uint64_t salt = 0) {
  for (std::uint64_t i = lo; i < hi; ++i) {
    const std::uint64_t key[2] = {i, salt};
    h.add(key, sizeof key);
  }
}

template <unsigned P> void check_estimates() {
  const double m = 1u << P;
  const double sigma = 1.04 / std::sqrt(m);
  for (const std::uint64_t salt : {0u, 1u, 2u}) {
    for (const std::uint64_t n : {0u, 1u, 10u, 100u, 1000u, 100000u}) {
      HyperLogLog<P> h;
      add_range(h, 0, n, salt);
      const double est = h.estimate();
      INFO("P=" << P << " salt=" << salt << " n=" << n << " estimate=" << est);
      if (n == 0) {
        CHECK(h.empty());
        CHECK(est == 0.0);
      } else if (n == 1) {
        CHECK(std::abs(est - 1.0) < 0.1);
      } else {
        CHECK(std::abs(est - static_cast<double>(n)) <= 4 * sigma * static_cast<double>(n));
      }
    }
  }
}

}  // namespace

// ---- Moments --------------------------------------------------------------------------------

TEST_CASE("Moments: any split, merged either way, equals a two-pass mean and variance",
          "[mergeable]") {
  const auto xs = sample(1000, 50, 7, 1);
  check_matches(moments_of(xs, 0, xs.size()), xs);
  for (const std::size_t s : {1u, 2u, 17u, 500u, 998u, 999u}) {
    INFO("split at " << s);
    const Moments a = moments_of(xs, 0, s), b = moments_of(xs, s, xs.size());
    Moments ab = a, ba = b;
    ab.merge(b);
    ba.merge(a);
    check_matches(ab, xs);
    check_matches(ba, xs);
  }
}

TEST_CASE("Moments: three parts in both association orders and commuted", "[mergeable]") {
  const auto xs = sample(3000, -20, 3, 2);
  const Moments a = moments_of(xs, 0, 100), b = moments_of(xs, 100, 2100),
                c = moments_of(xs, 2100, 3000);
  Moments ab_c = a;  // (a + b) + c
  ab_c.merge(b);
  ab_c.merge(c);
  Moments bc = b, a_bc = a;  // a + (b + c)
  bc.merge(c);
  a_bc.merge(bc);
  Moments cb_a = c;  // (c + b) + a
  cb_a.merge(b);
  cb_a.merge(a);
  Moments ac = a, b_ac = b;  // b + (a + c)
  ac.merge(c);
  b_ac.merge(ac);
  for (const Moments* m : {&ab_c, &a_bc, &cb_a, &b_ac}) check_matches(*m, xs);
}

TEST_CASE("Moments: far from zero, still the two-pass variance", "[mergeable]") {
  // A naive sum-of-squares would lose every digit here; Welford/Chan do not.
  const auto xs = sample(2000, 1e9, 0.5, 3);
  const Moments a = moments_of(xs, 0, 700), b = moments_of(xs, 700, 2000);
  Moments ab = a;
  ab.merge(b);
  const TwoPass ref = two_pass(xs);
  CHECK(rel_close(ab.mean, ref.mean));
  CHECK(rel_close(ab.variance(), ref.var, 1e-6));
}

TEST_CASE("Moments: empty merges, and n = 0 is the identity", "[mergeable]") {
  Moments e1, e2;
  e1.merge(e2);
  CHECK((same(e1, Moments{}) && e1.variance() == 0.0 && e1.sample_variance() == 0.0));

  const Moments x = moments_of(sample(50, 3, 1, 4), 0, 50);
  Moments left = Moments{}, right = x;
  left.merge(x);
  right.merge(Moments{});
  CHECK(same(left, x));
  CHECK(same(right, x));

  Moments one;
  one.add(42);
  CHECK((one.n == 1 && one.mean == 42 && one.variance() == 0.0 && one.sample_variance() == 0.0));
  Moments two = one;
  two.add(44);
  CHECK(two.variance() == Approx(1.0));
  CHECK(two.sample_variance() == Approx(2.0));
}

// ---- CovarianceAcc --------------------------------------------------------------------------

TEST_CASE("CovarianceAcc<4>: merges equal the two-pass covariance, in any order", "[mergeable]") {
  check_covariance_merges<4>();
}

TEST_CASE("CovarianceAcc<16>: merges equal the two-pass covariance, in any order",
          "[mergeable]") {
  check_covariance_merges<16>();
}

TEST_CASE("CovarianceAcc: empty and identity merges", "[mergeable]") {
  CovarianceAcc<4> e;
  CHECK(e.covariance() == Mat<4>::Zero());
  e.merge(CovarianceAcc<4>{});
  CHECK(e.n == 0);
  const auto x = cov_of<4>(correlated<4>(30, 5), 0, 30);
  CovarianceAcc<4> left, right = x;
  left.merge(x);
  right.merge(CovarianceAcc<4>{});
  CHECK((left.n == x.n && left.mean == x.mean && left.comoment == x.comoment));
  CHECK((right.n == x.n && right.mean == x.mean && right.comoment == x.comoment));
}

// ---- HyperLogLog ----------------------------------------------------------------------------

TEST_CASE("HyperLogLog<6>: estimates within 4 standard errors", "[mergeable]") {
  check_estimates<6>();
}

TEST_CASE("HyperLogLog<10>: estimates within 4 standard errors", "[mergeable]") {
  check_estimates<10>();
}

TEST_CASE("HyperLogLog: register index and rank from the hash bits", "[mergeable]") {
  HyperLogLog<10> h;
  h.add_hash((std::uint64_t{5} << 54) | (std::uint64_t{1} << 40));  // 13 zeros after the index
  CHECK(h.reg[5] == 14);
  h.add_hash((std::uint64_t{5} << 54) | (std::uint64_t{1} << 50));  // lower rank: kept max
  CHECK(h.reg[5] == 14);
  h.add_hash(0);  // all remaining bits zero: the cap, 64 - 10 + 1
  CHECK(h.reg[0] == 55);
  h.add_hash(~std::uint64_t{0});
  CHECK(h.reg[1023] == 1);
  CHECK(std::count(h.reg.begin(), h.reg.end(), 0) == 1024 - 3);
  CHECK_FALSE(h.empty());
  h.clear();
  CHECK(h.empty());
}

TEST_CASE("HyperLogLog: merging disjoint sets is exactly the union's sketch", "[mergeable]") {
  HyperLogLog<10> a, b, u;
  add_range(a, 0, 5000);
  add_range(b, 5000, 12000);
  add_range(u, 0, 12000);
  HyperLogLog<10> ab = a;
  ab.merge(b);
  CHECK(ab.reg == u.reg);
  CHECK(std::abs(ab.estimate() - 12000.0) <= 4 * 1.04 / 32.0 * 12000.0);

  HyperLogLog<6> s, t, st;
  add_range(s, 0, 40);
  add_range(t, 40, 90);
  add_range(st, 0, 90);
  s.merge(t);
  CHECK(s.reg == st.reg);
}

TEST_CASE("HyperLogLog: merge is idempotent, associative and commutative", "[mergeable]") {
  HyperLogLog<10> a, b, c;
  add_range(a, 0, 3000);
  add_range(b, 2000, 9000);  // overlaps a and c
  add_range(c, 8000, 20000);

  HyperLogLog<10> aa = a;
  aa.merge(a);
  CHECK(aa.reg == a.reg);

  HyperLogLog<10> ab_c = a, bc = b, a_bc = a;
  ab_c.merge(b);
  ab_c.merge(c);
  bc.merge(c);
  a_bc.merge(bc);
  CHECK(ab_c.reg == a_bc.reg);

  HyperLogLog<10> ab = a, ba = b;
  ab.merge(b);
  ba.merge(a);
  CHECK(ab.reg == ba.reg);

  HyperLogLog<10> u;
  add_range(u, 0, 20000);
  CHECK(ab_c.reg == u.reg);
}

// ---- serialisation --------------------------------------------------------------------------

TEST_CASE("serialisation: Moments round-trip and rejects", "[mergeable]") {
  const Moments a = moments_of(sample(100, 5, 2, 6), 0, 100);
  const Moments b = moments_of(sample(30, 9, 1, 7), 0, 30);
  std::vector<std::uint8_t> blob;
  serialize(a, blob);
  REQUIRE(blob.size() == 28);
  CHECK(std::vector<std::uint8_t>(blob.begin(), blob.begin() + 4) ==
        std::vector<std::uint8_t>{'T', 1, 1, 0});
  serialize(b, blob);  // appends

  std::span<const std::uint8_t> in(blob);
  Moments a2, b2;
  REQUIRE(deserialize(in, a2));
  CHECK(in.size() == 28);
  REQUIRE(deserialize(in, b2));
  CHECK(in.empty());
  CHECK(same(a, a2));
  CHECK(same(b, b2));

  // Merged from the wire = merged from the original, bit for bit.
  Moments m1 = a, m2 = a2;
  m1.merge(b);
  m2.merge(b2);
  CHECK(same(m1, m2));

  check_every_truncation_rejected(bytes(a), Moments{1, 2, 3});

  const auto rejected = [&](std::vector<std::uint8_t> bad) {
    std::span<const std::uint8_t> s(bad);
    Moments out{1, 2, 3};
    const bool ok = deserialize(s, out);
    return !ok && same(out, Moments{1, 2, 3}) && s.size() == bad.size();
  };
  const auto patched = [&](std::size_t at, std::uint8_t v) {
    auto x = bytes(a);
    x[at] = v;
    return x;
  };
  CHECK(rejected(patched(0, 'X')));  // magic
  CHECK(rejected(patched(1, 2)));    // type
  CHECK(rejected(patched(2, 2)));    // version
  CHECK(rejected(patched(3, 1)));    // parameter
  CHECK(rejected(bytes(CovarianceAcc<1>{})));
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(rejected(bytes(Moments{std::nan(""), 1, 1})));
  CHECK(rejected(bytes(Moments{3, inf, 1})));
  CHECK(rejected(bytes(Moments{3, 1, -inf})));
  CHECK(rejected(bytes(Moments{-1, 1, 1})));
  CHECK(rejected(bytes(Moments{3, 1, -1e-300})));
  CHECK(rejected(bytes(Moments{0, 1, 0})));
  CHECK_FALSE(rejected(bytes(Moments{})));
}

TEST_CASE("serialisation: CovarianceAcc round-trip and rejects", "[mergeable]") {
  const auto xs = correlated<16>(200, 8);
  const auto a = cov_of<16>(xs, 0, 120), b = cov_of<16>(xs, 120, 200);
  const auto blob = bytes(a);
  REQUIRE(blob.size() == 4 + 8 * (1 + 16 + 136));
  std::span<const std::uint8_t> in(blob);
  CovarianceAcc<16> a2;
  REQUIRE(deserialize(in, a2));
  CHECK(in.empty());
  CHECK((a2.n == a.n && a2.mean == a.mean && a2.comoment == a.comoment));

  auto m1 = a, m2 = a2;
  m1.merge(b);
  m2.merge(b);
  CHECK((m1.n == m2.n && m1.mean == m2.mean && m1.comoment == m2.comoment));

  CovarianceAcc<16> sentinel;
  sentinel.n = 1;
  sentinel.mean.setConstant(2);
  check_every_truncation_rejected(blob, sentinel);

  // Another dimension, another type, a bad version.
  const auto small = bytes(cov_of<4>(correlated<4>(10, 9), 0, 10));
  std::span<const std::uint8_t> s1(small);
  CHECK_FALSE(deserialize(s1, sentinel));
  CovarianceAcc<4> four;
  auto bad_version = small;
  bad_version[2] = 2;
  std::span<const std::uint8_t> s2(bad_version);
  CHECK_FALSE(deserialize(s2, four));
  const auto moments = bytes(Moments{});
  std::span<const std::uint8_t> s3(moments);
  CHECK_FALSE(deserialize(s3, four));
  CHECK(four.n == 0);

  // Negative variance, NaN off the diagonal, n = 0 with a mean.
  CovarianceAcc<4> bad = cov_of<4>(correlated<4>(10, 9), 0, 10);
  bad.comoment(2, 2) = -1;
  auto b1 = bytes(bad);
  std::span<const std::uint8_t> s4(b1);
  CHECK_FALSE(deserialize(s4, four));
  bad.comoment(2, 2) = 1;
  bad.comoment(0, 3) = std::nan("");
  auto b2 = bytes(bad);
  std::span<const std::uint8_t> s5(b2);
  CHECK_FALSE(deserialize(s5, four));
  CovarianceAcc<4> zero_n;
  zero_n.mean[1] = 1;
  auto b3 = bytes(zero_n);
  std::span<const std::uint8_t> s6(b3);
  CHECK_FALSE(deserialize(s6, four));
  CHECK(four.n == 0);
}

TEST_CASE("serialisation: HyperLogLog sparse and dense forms round-trip", "[mergeable]") {
  HyperLogLog<10> empty_sketch, few, many;
  add_range(few, 0, 20);
  add_range(many, 0, 50000);
  const auto count_nonzero = [](const auto& h) {
    return static_cast<std::size_t>(std::count_if(h.reg.begin(), h.reg.end(),
                                                  [](std::uint8_t r) { return r != 0; }));
  };

  const auto e = bytes(empty_sketch);
  CHECK(e.size() == 4 + 1 + 2);  // sparse, no entries
  const auto f = bytes(few);
  CHECK((f[4] == 1 && f.size() == 4 + 1 + 2 + 3 * count_nonzero(few)));
  const auto d = bytes(many);
  CHECK((d[4] == 0 && d.size() == 4 + 1 + 768));

  HyperLogLog<6> tiny;
  add_range(tiny, 0, 3);
  CHECK(bytes(tiny).size() == 4 + 1 + 2 + 2 * count_nonzero(tiny));  // 1-byte index when P <= 8

  std::vector<std::uint8_t> all = e;
  all.insert(all.end(), f.begin(), f.end());
  all.insert(all.end(), d.begin(), d.end());
  std::span<const std::uint8_t> in(all);
  HyperLogLog<10> e2, f2, d2;
  e2.reg.fill(3);
  REQUIRE(deserialize(in, e2));
  REQUIRE(deserialize(in, f2));
  REQUIRE(deserialize(in, d2));
  CHECK(in.empty());
  CHECK((e2.reg == empty_sketch.reg && f2.reg == few.reg && d2.reg == many.reg));

  HyperLogLog<10> m1 = few, m2 = f2;
  m1.merge(many);
  m2.merge(d2);
  CHECK(m1.reg == m2.reg);

  HyperLogLog<10> sentinel;
  sentinel.reg.fill(7);
  check_every_truncation_rejected(f, sentinel);
  check_every_truncation_rejected(d, sentinel);
}

TEST_CASE("serialisation: HyperLogLog rejects malformed blobs", "[mergeable]") {
  HyperLogLog<10> out;
  out.reg.fill(9);
  const auto out_before = out.reg;
  const auto rejected = [&](const std::vector<std::uint8_t>& bad) {
    std::span<const std::uint8_t> s(bad);
    const bool ok = deserialize(s, out);
    return !ok && out.reg == out_before && s.size() == bad.size();
  };

  HyperLogLog<10> few, many;
  add_range(few, 0, 20);
  add_range(many, 0, 50000);
  HyperLogLog<6> other_p;
  CHECK(rejected(bytes(other_p)));   // parameter
  CHECK(rejected(bytes(Moments{})));  // type
  auto v = bytes(few);
  v[2] = 0;
  CHECK(rejected(v));  // version
  v = bytes(few);
  v[4] = 2;
  CHECK(rejected(v));  // form flag

  // Dense: a register above 65 - P = 55.
  v = bytes(many);
  v[5] = static_cast<std::uint8_t>((v[5] & 0xc0) | 56);
  CHECK(rejected(v));
  // Dense although sparse is shorter (not what the writer produces).
  v = {'T', 3, 1, 10, 0};
  v.resize(5 + 768, 0);
  CHECK(rejected(v));
  // Sparse: count claims more entries than are present.
  v = bytes(few);
  v[5] = static_cast<std::uint8_t>(v[5] + 1);
  CHECK(rejected(v));

  // Sparse entries (index u16, value): out of order, repeated, zero, too large, out of range.
  const auto sparse = [](std::initializer_list<std::array<unsigned, 2>> entries) {
    std::vector<std::uint8_t> b = {'T', 3, 1, 10, 1, static_cast<std::uint8_t>(entries.size()), 0};
    for (const auto& [idx, val] : entries) {
      b.push_back(static_cast<std::uint8_t>(idx));
      b.push_back(static_cast<std::uint8_t>(idx >> 8));
      b.push_back(static_cast<std::uint8_t>(val));
    }
    return b;
  };
  {
    const auto good = sparse({{3, 2}, {700, 55}});
    std::span<const std::uint8_t> s(good);
    HyperLogLog<10> h;
    REQUIRE(deserialize(s, h));
    CHECK(h.reg[3] == 2);
    CHECK(h.reg[700] == 55);
    CHECK(bytes(h) == good);
  }
  CHECK(rejected(sparse({{700, 2}, {3, 2}})));
  CHECK(rejected(sparse({{3, 2}, {3, 4}})));
  CHECK(rejected(sparse({{3, 0}})));
  CHECK(rejected(sparse({{3, 56}})));
  CHECK(rejected(sparse({{1024, 1}})));
}
