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
  cdf_.resize(kTable);
  for (unsigned i = 0; i < kTable; ++i)
    cdf_[i] = static_cast<float>(Eigen::numext::igamma(k / 2, static_cast<double>(i) * table_step_ / 2));
}

float Scorer::chi2_cdf(float x) const noexcept {
  if (!(x > 0)) return 0;
  if (x >= table_max_) return 1;
  const float pos = x / table_step_;
  const auto i = static_cast<unsigned>(pos);
  const float f = pos - static_cast<float>(i);
  return cdf_[i] + f * (cdf_[i + 1] - cdf_[i]);
}

void Scorer::fit(CohortModel& m, const Eigen::Matrix<double, kFeatures, 1>& mean,
                 const Eigen::Matrix<double, kFeatures, kFeatures>& cov, std::uint32_t members) const {
  using MatD = Eigen::Matrix<double, kFeatures, kFeatures>;
  const double lambda = cfg_.shrinkage;
  MatD s = (1 - lambda) * cov;
  s.diagonal() = cov.diagonal() + floor2_.cast<double>();   // (1−λ)·S off the diagonal, S + floor² on it
  const Eigen::Matrix<double, kFeatures, 1> sd = s.diagonal().array().sqrt();
  const MatD corr = sd.cwiseInverse().asDiagonal() * s * sd.cwiseInverse().asDiagonal();
  Eigen::LDLT<MatD> ls(s), lc(corr);
  m.mean = mean.cast<float>();
  m.var = cov.diagonal().cast<float>();
  m.sigma_inv = ls.solve(MatD::Identity()).cast<float>();
  m.corr_inv = lc.solve(MatD::Identity()).cast<float>();
  m.members = members;
  m.ready = true;
}

Score Scorer::score(const Vec& x, const Vec& own_mean, const Vec& own_var, bool own_ready,
                    const CohortModel& c) const noexcept {
  Score out;
  if (!c.ready) return out;
  // One-sided: only excess counts. An agent doing less than usual — a pause, a quiet hour — is
  // not what zones guard against, and silence is most of a sparse agent's ticks.
  const Vec y = (x - c.mean).cwiseMax(0.0f);
  Vec contrib = y.cwiseProduct(c.sigma_inv * y);
  float w_coh = 1.0f;
  if (own_ready) {
    const Vec z = (x - own_mean).cwiseMax(0.0f).cwiseQuotient(own_var.cwiseMax(floor2_).cwiseSqrt());
    w_coh = 1.0f - cfg_.own_weight;
    contrib = w_coh * contrib + cfg_.own_weight * z.cwiseProduct(c.corr_inv * z);
  }
  out.d2 = std::max(0.0f, contrib.sum());
  out.value = chi2_cdf(out.d2 / cfg_.distance_scale);
  // The three largest contributions, largest first.
  for (unsigned slot = 0; slot < 3; ++slot) {
    float best = 0;
    for (unsigned i = 0; i < kFeatures; ++i) {
      const bool taken = std::find(out.top.begin(), out.top.begin() + slot, i) != out.top.begin() + slot;
      if (!taken && contrib[i] > best) best = contrib[i], out.top[slot] = static_cast<std::uint8_t>(i);
    }
    if (out.top[slot] == 0xff) break;
  }
  return out;
}

}  // namespace tcpr::behavior
