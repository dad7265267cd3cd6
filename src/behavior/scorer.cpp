#include "tcpr/behavior/scorer.hpp"

#include <Eigen/Cholesky>
#include <unsupported/Eigen/SpecialFunctions>

#include <algorithm>
#include <cmath>

namespace tcpr::behavior {

Scorer::Scorer(const ScorerConfig& cfg) : cfg_(cfg) {
  for (unsigned f = 0; f < kFeatures; ++f) {
    const float s = cfg_.variance_floor * kFloorFactor[f];
    floor2_[f] = s * s;
  }
  // P(k/2, x/2) is the chi-square CDF with k degrees of freedom. Beyond 10·k it is 1 to float
  // precision for k = 16.
  const double k = kFeatures;
  table_max_ = static_cast<float>(10 * k);
  table_step_ = table_max_ / (kTable - 1);
  inv_step_ = 1.0f / table_step_;
  cdf_.resize(kTable);
  for (unsigned i = 0; i < kTable; ++i)
    cdf_[i] = static_cast<float>(Eigen::numext::igamma(k / 2, static_cast<double>(i) * table_step_ / 2));
}

void Scorer::fit(CohortModel& m, const Eigen::Matrix<double, kFeatures, 1>& mean,
                 const Eigen::Matrix<double, kFeatures, kFeatures>& cov, std::uint32_t members) const {
  using MatD = Eigen::Matrix<double, kFeatures, kFeatures>;
  const double lambda = cfg_.shrinkage;
  MatD s = (1 - lambda) * cov;
  s.diagonal() = cov.diagonal() + floor2_.cast<double>();   // (1−λ)·S off the diagonal, S + floor² on it
  const Eigen::Matrix<double, kFeatures, 1> sd = s.diagonal().array().sqrt();
  // R = D⁻¹·S·D⁻¹ with D = diag(sd), so R⁻¹ = D·S⁻¹·D: one inverse serves both distances.
  // Σ is symmetric positive definite (a covariance shrunk towards its diagonal, plus the floor):
  // Cholesky suffices.
  const MatD s_inv = Eigen::LLT<MatD>(s).solve(MatD::Identity());
  m.mean = mean.cast<float>();
  m.var = cov.diagonal().cast<float>();
  m.sigma_inv = s_inv.cast<float>();
  m.sd = sd.cast<float>();
  m.members = members;
  m.ready = true;
}

// The three largest positive contributions, largest first (ties: the lower feature).
void Scorer::rank(Score& s) noexcept {
  s.top = {0xff, 0xff, 0xff};
  float best[3] = {0, 0, 0};
  for (unsigned i = 0; i < kFeatures; ++i) {
    const float v = s.contrib[i];
    if (!(v > best[2])) continue;
    unsigned slot = 2;
    while (slot > 0 && v > best[slot - 1]) {
      best[slot] = best[slot - 1];
      s.top[slot] = s.top[slot - 1];
      --slot;
    }
    best[slot] = v;
    s.top[slot] = static_cast<std::uint8_t>(i);
  }
}

Score Scorer::score(const Vec& x, const Vec& own_mean, const Vec& own_var, bool own_ready, const CohortModel& c,
                    bool with_top) const noexcept {
  Score out;
  if (!c.ready) return out;
  // One-sided: only excess counts. An agent doing less than usual — a pause, a quiet hour — is
  // not what zones guard against, and silence is most of a sparse agent's ticks.
  // zᵀR⁻¹z = uᵀΣ⁻¹u with u = D·z (R⁻¹ = D·Σ⁻¹·D), so both distances use Σ⁻¹, and one
  // product with the 16×2 matrix [y u] loads its columns once. lazyProduct: a fixed-size product
  // unrolled in place (the default goes through the general kernel, a call and loops).
  const Vec y = (x - c.mean).cwiseMax(0.0f);
  Vec contrib;
  if (own_ready) {
    Eigen::Matrix<float, kFeatures, 2> yu;
    yu.col(0) = y;
    yu.col(1) = ((x - own_mean).cwiseMax(0.0f).array() * own_var.cwiseMax(floor2_).array().rsqrt() * c.sd.array())
                    .matrix();
    Vec p0 = Vec::Zero(), p1 = Vec::Zero();
    for (unsigned j = 0; j < kFeatures; ++j) {
      p0 += yu(j, 0) * c.sigma_inv.col(j);
      p1 += yu(j, 1) * c.sigma_inv.col(j);
    }
    contrib = (1.0f - cfg_.own_weight) * y.cwiseProduct(p0) + cfg_.own_weight * yu.col(1).cwiseProduct(p1);
  } else {
    Vec p0 = Vec::Zero();
    for (unsigned j = 0; j < kFeatures; ++j) p0 += y[j] * c.sigma_inv.col(j);
    contrib = y.cwiseProduct(p0);
  }
  out.d2 = std::max(0.0f, contrib.sum());
  out.value = chi2_cdf(out.d2 / cfg_.distance_scale);
  out.contrib = contrib;
  if (with_top) rank(out);
  return out;
}

}  // namespace tcpr::behavior
