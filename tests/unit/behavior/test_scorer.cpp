// The anomaly score (src/behavior/scorer.cpp): chi-square CDF, shrinkage fit, Mahalanobis distances.
//
// Independent references: published chi-square table values and the closed form of the CDF for an
// even number of degrees of freedom, P(χ²₁₆ ≤ x) = 1 − e^(−x/2) Σ_{j<8} (x/2)^j / j!; distances by
// hand (diagonal and 2×2 cases) and, for full matrices, by Gaussian elimination with partial
// pivoting written here in double precision — never Eigen's solvers that the scorer uses. Both
// distances are one-sided (scorer.hpp): a difference below the mean is taken as 0.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "tcpr/behavior/scorer.hpp"

using namespace tcpr::behavior;

namespace {

constexpr unsigned N = kFeatures;
using Arr = std::array<double, N>;
using Sq = std::array<Arr, N>;
using VecD = Eigen::Matrix<double, N, 1>;
using MatD = Eigen::Matrix<double, N, N>;

double chi2_16(double x) {
  if (x <= 0) return 0;
  double term = 1, sum = 1;
  for (int j = 1; j < 8; ++j) {
    term *= (x / 2) / j;
    sum += term;
  }
  return 1 - std::exp(-x / 2) * sum;
}

// Solves A·x = b (Gaussian elimination, partial pivoting).
Arr solve(Sq a, Arr b) {
  for (unsigned c = 0; c < N; ++c) {
    unsigned piv = c;
    for (unsigned r = c + 1; r < N; ++r)
      if (std::abs(a[r][c]) > std::abs(a[piv][c])) piv = r;
    std::swap(a[c], a[piv]);
    std::swap(b[c], b[piv]);
    for (unsigned r = c + 1; r < N; ++r) {
      const double f = a[r][c] / a[c][c];
      for (unsigned k = c; k < N; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  Arr x{};
  for (unsigned r = N; r-- > 0;) {
    double s = b[r];
    for (unsigned k = r + 1; k < N; ++k) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x;
}

double floor_of(const ScorerConfig& c, unsigned f) { return c.variance_floor * kFloorFactor[f]; }

// The documented shrinkage: (1−λ)·S off the diagonal, S + floor² on it.
Sq shrunk(const Sq& s, const ScorerConfig& c) {
  Sq out = s;
  for (unsigned i = 0; i < N; ++i)
    for (unsigned j = 0; j < N; ++j)
      out[i][j] = i == j ? s[i][i] + floor_of(c, i) * floor_of(c, i) : (1 - c.shrinkage) * s[i][j];
  return out;
}

Sq correlation(const Sq& s) {
  Sq r{};
  for (unsigned i = 0; i < N; ++i)
    for (unsigned j = 0; j < N; ++j) r[i][j] = s[i][j] / std::sqrt(s[i][i] * s[j][j]);
  return r;
}

// Per-feature contributions y_i·(A⁻¹y)_i; their sum is yᵀA⁻¹y.
Arr contributions(const Sq& a, const Arr& y) {
  const Arr w = solve(a, y);
  Arr c{};
  for (unsigned i = 0; i < N; ++i) c[i] = y[i] * w[i];
  return c;
}

double sum(const Arr& a) {
  double s = 0;
  for (double v : a) s += v;
  return s;
}

Sq diagonal(double v) {
  Sq s{};
  for (unsigned i = 0; i < N; ++i) s[i][i] = v;
  return s;
}

MatD to_eigen(const Sq& s) {
  MatD m;
  for (unsigned i = 0; i < N; ++i)
    for (unsigned j = 0; j < N; ++j) m(i, j) = s[i][j];
  return m;
}

VecD to_eigen(const Arr& a) {
  VecD v;
  for (unsigned i = 0; i < N; ++i) v[i] = a[i];
  return v;
}

Vec to_vec(const Arr& a) { return to_eigen(a).cast<float>(); }

// Random covariance A·Aᵀ/N + 0.05·I (well conditioned), features on different scales.
Sq random_cov(std::mt19937_64& g) {
  std::normal_distribution<double> nd(0, 1);
  Sq a{};
  for (auto& row : a)
    for (auto& v : row) v = nd(g);
  Sq s{};
  for (unsigned i = 0; i < N; ++i)
    for (unsigned j = 0; j < N; ++j) {
      for (unsigned k = 0; k < N; ++k) s[i][j] += a[i][k] * a[j][k] / N;
      if (i == j) s[i][j] += 0.05;
    }
  return s;
}

// The reported top-3 features carry the three largest positive contributions, largest first.
void check_top(const Score& sc, const Arr& c) {
  Arr sorted = c;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  for (unsigned k = 0; k < 3; ++k) {
    INFO("top " << k);
    if (sorted[k] <= 1e-6 * std::max(1.0, sorted[0])) {
      CHECK(sc.top[k] == 0xff);
      continue;
    }
    REQUIRE(sc.top[k] < N);
    CHECK(c[sc.top[k]] == Approx(sorted[k]).epsilon(1e-3).margin(1e-5));
  }
}

}  // namespace

TEST_CASE("chi2_cdf with 16 degrees of freedom matches published table values", "[scorer]") {
  const Scorer s(ScorerConfig{});
  // (x, P(χ²₁₆ ≤ x)): NIST/SEMATECH e-Handbook 1.3.6.7.4 critical values; 15.338 is the median.
  const std::pair<float, double> table[] = {{5.812f, 0.01}, {7.962f, 0.05},  {9.312f, 0.10},  {15.338f, 0.50},
                                            {23.542f, 0.90}, {26.296f, 0.95}, {28.845f, 0.975}, {32.000f, 0.99},
                                            {39.252f, 0.999}};
  for (const auto& [x, p] : table) {
    INFO("x = " << x);
    CHECK(s.chi2_cdf(x) == Approx(p).margin(1e-3));
  }
  CHECK(s.chi2_cdf(0) == 0);
  CHECK(s.chi2_cdf(-3) == 0);
  CHECK(s.chi2_cdf(std::numeric_limits<float>::quiet_NaN()) == 0);
  CHECK(s.chi2_cdf(160) == Approx(1).margin(1e-6));
  CHECK(s.chi2_cdf(1e9f) == 1);
  CHECK(s.chi2_cdf(std::numeric_limits<float>::infinity()) == 1);
}

TEST_CASE("chi2_cdf follows the closed form and never decreases", "[scorer]") {
  const Scorer s(ScorerConfig{});
  for (double x = 0.013; x < 175; x += 0.37) {
    INFO("x = " << x);
    CHECK(s.chi2_cdf(static_cast<float>(x)) == Approx(chi2_16(x)).margin(2e-4));
  }
  float prev = 0;
  for (float x = 0; x < 200; x += 0.005f) {
    const float v = s.chi2_cdf(x);
    REQUIRE(v >= prev);
    REQUIRE(v <= 1.0f);
    prev = v;
  }
}

TEST_CASE("an unfitted cohort scores nothing; the mean scores zero", "[scorer]") {
  const Scorer s(ScorerConfig{});
  const CohortModel none;
  const Vec x = Vec::Constant(3.0f);
  Score sc = s.score(x, Vec::Zero(), Vec::Ones(), true, none);
  CHECK(sc.value == 0);
  CHECK(sc.d2 == 0);
  CHECK(sc.top == std::array<std::uint8_t, 3>{0xff, 0xff, 0xff});

  CohortModel m;
  VecD mean;
  for (unsigned i = 0; i < N; ++i) mean[i] = 0.1 * i;
  std::mt19937_64 g(3);
  const Sq cov = random_cov(g);
  s.fit(m, mean, to_eigen(cov), 42);
  CHECK(m.ready);
  CHECK(m.members == 42);
  for (unsigned i = 0; i < N; ++i) {
    CHECK(m.mean[i] == Approx(0.1 * i));
    CHECK(m.var[i] == Approx(cov[i][i]));  // diag(S), before shrinkage and floor
  }
  sc = s.score(mean.cast<float>(), mean.cast<float>(), Vec::Ones(), true, m);
  CHECK(sc.d2 == Approx(0).margin(1e-6));
  CHECK(sc.value == Approx(0).margin(1e-6));
  CHECK(sc.top == std::array<std::uint8_t, 3>{0xff, 0xff, 0xff});
}

TEST_CASE("cohort distance, diagonal covariance: two features off their mean, by hand", "[scorer]") {
  const ScorerConfig cfg;  // the defaults: λ 0.2, σ floor 0.15, κ 2, w_own 0.5
  const Scorer s(cfg);
  Sq cov{};
  Arr mean{};
  for (unsigned i = 0; i < N; ++i) {
    cov[i][i] = 0.1 + 0.05 * i;
    mean[i] = 1.0 + i;
  }
  CohortModel m;
  s.fit(m, to_eigen(mean), to_eigen(cov), 10);
  Arr x = mean;
  x[kPktsOut] += 1.2;
  x[kBeaconRegularity] += 0.3;   // σ floor factor 0.33
  // Σ_ii = S_ii + (0.15·k_i)²; the other features sit at their mean and add nothing.
  const double d0 = 1.2 * 1.2 / (0.1 + 0.15 * 0.15);
  const double d10 = 0.3 * 0.3 / (0.1 + 0.05 * 10 + (0.15 * 0.33) * (0.15 * 0.33));
  const Score sc = s.score(to_vec(x), Vec::Zero(), Vec::Ones(), false, m);
  CHECK(sc.d2 == Approx(d0 + d10).epsilon(1e-5));
  CHECK(sc.value == Approx(chi2_16((d0 + d10) / tcpr::behavior::ScorerConfig{}.distance_scale)).margin(2e-4));
  CHECK(sc.top[0] == kPktsOut);            // 11.76 …
  CHECK(sc.top[1] == kBeaconRegularity);   // … before 0.149
  CHECK(sc.top[2] == 0xff);                // nothing else contributes
}

TEST_CASE("cohort distance, two correlated features: 2×2 inverse by hand, λ = 0, 0.2, 1", "[scorer]") {
  for (float lambda : {0.0f, 0.2f, 1.0f}) {
    ScorerConfig cfg;
    cfg.shrinkage = lambda;
    const Scorer s(cfg);
    Sq cov = diagonal(0.5);
    cov[kBytesOut][kBytesOut] = 0.8;
    cov[kPktsOut][kBytesOut] = cov[kBytesOut][kPktsOut] = -0.55;  // strongly anti-correlated
    const Arr mean{};
    CohortModel m;
    s.fit(m, to_eigen(mean), to_eigen(cov), 5);
    // Σ restricted to the two features (the rest is diagonal and sits at the mean).
    const double a = 0.5 + 0.0225, d = 0.8 + 0.0225, b = (1 - lambda) * -0.55;
    const double det = a * d - b * b;
    INFO("lambda = " << lambda);
    {
      Arr x{};
      x[kPktsOut] = 0.7;
      x[kBytesOut] = 0.4;  // both up: against the correlation, unusual
      const double y0 = 0.7, y1 = 0.4;
      const double w0 = (d * y0 - b * y1) / det, w1 = (a * y1 - b * y0) / det;  // Σ⁻¹y
      const double d2 = y0 * w0 + y1 * w1;
      const Score sc = s.score(to_vec(x), Vec::Zero(), Vec::Ones(), false, m);
      CHECK(sc.d2 == Approx(d2).epsilon(1e-5));
      CHECK(sc.value == Approx(chi2_16(d2 / tcpr::behavior::ScorerConfig{}.distance_scale)).margin(2e-4));
      const unsigned first = y0 * w0 >= y1 * w1 ? kPktsOut : kBytesOut;
      CHECK(sc.top[0] == first);
      CHECK(sc.top[1] == (first == kPktsOut ? kBytesOut : kPktsOut));
      CHECK(sc.top[2] == 0xff);
    }
    {
      // One-sided: bytes below their mean count as at the mean, so D² = y0²·(Σ⁻¹)₀₀ = y0²·d/det.
      Arr x{};
      x[kPktsOut] = 0.7;
      x[kBytesOut] = -0.4;
      const Score sc = s.score(to_vec(x), Vec::Zero(), Vec::Ones(), false, m);
      CHECK(sc.d2 == Approx(0.49 * d / det).epsilon(1e-5));
      CHECK(sc.top[0] == kPktsOut);
      CHECK(sc.top[1] == 0xff);
    }
  }
  // λ = 1 drops the correlation: the diagonal alone.
  ScorerConfig diag;
  diag.shrinkage = 1;
  Sq cov = diagonal(0.5);
  cov[0][1] = cov[1][0] = 0.45;
  CohortModel m;
  Scorer(diag).fit(m, VecD::Zero(), to_eigen(cov), 5);
  Vec x = Vec::Zero();
  x[0] = 1;
  x[1] = 1;
  CHECK(Scorer(diag).score(x, Vec::Zero(), Vec::Ones(), false, m).d2 == Approx(2 / 0.5225).epsilon(1e-5));
  // Everything below the mean: nothing to score.
  CHECK(Scorer(diag).score(-x, Vec::Zero(), Vec::Ones(), false, m).d2 == 0);
}

TEST_CASE("cohort distance, full random covariance: against an independent solve", "[scorer]") {
  std::mt19937_64 g(2024);
  std::normal_distribution<double> nd(0, 1);
  for (int trial = 0; trial < 20; ++trial) {
    ScorerConfig cfg;
    cfg.shrinkage = trial % 4 == 0 ? 0.0f : 0.05f * static_cast<float>(trial % 5);
    cfg.distance_scale = 1.0f + static_cast<float>(trial % 3);
    const Scorer s(cfg);
    const Sq cov = random_cov(g);
    Arr mean{}, x{}, y{};
    for (unsigned i = 0; i < N; ++i) {
      mean[i] = nd(g);
      const double dev = nd(g) * std::sqrt(cov[i][i]) * (trial % 2 == 0 ? 1.0 : 3.0);
      x[i] = mean[i] + dev;
      y[i] = std::max(0.0, dev);  // one-sided
    }
    CohortModel m;
    s.fit(m, to_eigen(mean), to_eigen(cov), 30);
    const Arr c = contributions(shrunk(cov, cfg), y);
    const double d2 = sum(c);
    INFO("trial " << trial);
    const Score sc = s.score(to_vec(x), Vec::Zero(), Vec::Ones(), false, m);
    CHECK(sc.d2 == Approx(d2).epsilon(1e-3));
    CHECK(sc.value == Approx(chi2_16(d2 / cfg.distance_scale)).margin(1e-3));
    check_top(sc, c);
  }
}

TEST_CASE("own baseline: z by the floored own σ, through the cohort's correlation", "[scorer]") {
  std::mt19937_64 g(77);
  std::normal_distribution<double> nd(0, 1);
  for (int trial = 0; trial < 12; ++trial) {
    ScorerConfig cfg;
    cfg.own_weight = trial < 4 ? 0.5f : trial < 8 ? 0.8f : 1.0f;
    cfg.variance_floor = trial % 2 == 0 ? 0.15f : 0.3f;
    const Scorer s(cfg);
    const Sq cov = random_cov(g);
    Arr mean{}, x{}, own_mean{}, own_var{}, y{}, z{};
    for (unsigned i = 0; i < N; ++i) {
      mean[i] = nd(g);
      x[i] = mean[i] + 0.5 * nd(g);
      y[i] = std::max(0.0, x[i] - mean[i]);  // one-sided
      own_mean[i] = x[i] - 0.4 * nd(g);
      // half the features below the σ floor (the floor then applies), half above
      own_var[i] = i % 2 == 0 ? 0.25 * floor_of(cfg, i) * floor_of(cfg, i) : 0.2 + std::abs(nd(g));
      z[i] = std::max(0.0, x[i] - own_mean[i]) / std::sqrt(std::max(own_var[i], floor_of(cfg, i) * floor_of(cfg, i)));
    }
    CohortModel m;
    s.fit(m, to_eigen(mean), to_eigen(cov), 30);
    const Sq sigma = shrunk(cov, cfg);
    const Arr c_own = contributions(correlation(sigma), z);
    const Arr c_coh = contributions(sigma, y);
    const double w = cfg.own_weight;
    Arr c{};
    for (unsigned i = 0; i < N; ++i) c[i] = w * c_own[i] + (1 - w) * c_coh[i];
    const double d2 = w * sum(c_own) + (1 - w) * sum(c_coh);
    INFO("trial " << trial << ", w_own " << w);
    const Score sc = s.score(to_vec(x), to_vec(own_mean), to_vec(own_var), true, m);
    CHECK(sc.d2 == Approx(d2).epsilon(1e-3));
    CHECK(sc.value == Approx(chi2_16(d2 / cfg.distance_scale)).margin(1e-3));
    check_top(sc, c);
    // While the own baseline warms up only the cohort term counts, whatever w_own is.
    const Score coh = s.score(to_vec(x), to_vec(own_mean), to_vec(own_var), false, m);
    CHECK(coh.d2 == Approx(sum(c_coh)).epsilon(1e-3));
  }
}

TEST_CASE("own baseline by hand: diagonal cohort, one feature off", "[scorer]") {
  ScorerConfig cfg;
  cfg.own_weight = 0.5f;
  const Scorer s(cfg);
  Sq cov = diagonal(0.3);
  CohortModel m;
  s.fit(m, VecD::Zero(), to_eigen(cov), 8);
  Vec x = Vec::Zero(), own_mean = Vec::Zero(), own_var = Vec::Constant(0.04f);
  x[kNewFlows] = 0.6f;
  own_mean[kNewFlows] = 0.2f;
  // R = I (diagonal Σ): D²_own = ((0.6 − 0.2)/0.2)² = 4; D²_coh = 0.36/0.3225.
  const double d2 = 0.5 * 4.0 + 0.5 * (0.36 / 0.3225);
  const Score sc = s.score(x, own_mean, own_var, true, m);
  CHECK(sc.d2 == Approx(d2).epsilon(1e-5));
  CHECK(sc.value == Approx(chi2_16(d2 / tcpr::behavior::ScorerConfig{}.distance_scale)).margin(2e-4));
  CHECK(sc.top[0] == kNewFlows);
  CHECK(sc.top[1] == 0xff);
  // An own variance below the floor is floored: σ = 0.15, z = 0.4/0.15.
  const Vec tiny = Vec::Constant(1e-6f);
  const double d2f = 0.5 * (0.4 / 0.15) * (0.4 / 0.15) + 0.5 * (0.36 / 0.3225);
  CHECK(s.score(x, own_mean, tiny, true, m).d2 == Approx(d2f).epsilon(1e-5));
}

TEST_CASE("identical members: the σ floor alone, tighter for regularity and risk tags", "[scorer]") {
  ScorerConfig cfg;
  cfg.variance_floor = 0.2f;
  cfg.distance_scale = 2.0f;
  const Scorer s(cfg);
  CohortModel m;
  s.fit(m, VecD::Constant(0.5), MatD::Zero(), 3);
  Vec x = Vec::Constant(0.5f);
  x[kRiskTags] += 0.1f;   // floor 0.2·0.33 = 0.066
  x[kDnsFlows] += 0.1f;   // floor 0.2
  x[kInternalPeers] += 0.1f;  // floor 0.2·0.67 = 0.134
  const double c_risk = 0.01 / (0.066 * 0.066), c_dns = 0.01 / 0.04, c_peer = 0.01 / (0.134 * 0.134);
  const Score sc = s.score(x, Vec::Zero(), Vec::Ones(), false, m);
  CHECK(sc.d2 == Approx(c_risk + c_dns + c_peer).epsilon(1e-4));
  CHECK(sc.value == Approx(chi2_16((c_risk + c_dns + c_peer) / 2)).margin(2e-4));
  CHECK(sc.top[0] == kRiskTags);
  CHECK(sc.top[1] == kInternalPeers);
  CHECK(sc.top[2] == kDnsFlows);
}
