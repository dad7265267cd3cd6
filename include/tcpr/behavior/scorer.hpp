// scorer.hpp — anomaly score of one agent for one tick (Eigen).
//
// Two Mahalanobis distances over the scored feature vector x (the fast EWMA, log-scaled, see
// features.hpp), one-sided — only a feature above its mean counts (differences below are taken
// as 0): doing less than usual is not an anomaly here:
//  * own:    z = (x − μ) / σ with the agent's own slow-EWMA baseline (μ, σ² floored), and
//            D²_own = zᵀ R⁻¹ z, R the cohort's shrunk correlation matrix — so the agent's own
//            scale and the cohort's correlation structure form one shrinkage covariance;
//  * cohort: D²_coh = (x − μ_c)ᵀ Σ_c⁻¹ (x − μ_c), Σ_c = (1−λ)·S + λ·diag(S) + diag(floor²)
//            (shrinkage towards the diagonal, which keeps Σ_c invertible with few agents).
// D² = w_own·D²_own + (1 − w_own)·D²_coh (cohort only while the own baseline warms up), and the
// score is the chi-square CDF with kFeatures degrees of freedom at D²/κ (κ = distance_scale:
// behaviour features are not Gaussian, κ calibrates the tail; README). The CDF is tabulated once
// with Eigen's regularised incomplete gamma function. Contributions per feature, c_i = z_i·(R⁻¹z)_i
// (and likewise for the cohort term), sum to D²: the largest three are the score's "why".
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <vector>

#include "tcpr/behavior/features.hpp"

namespace tcpr::behavior {

using Vec = Eigen::Matrix<float, kFeatures, 1>;
using Mat = Eigen::Matrix<float, kFeatures, kFeatures>;

// σ floor of each feature, as a multiple of ScorerConfig::variance_floor: features that are
// exactly 0 in normal behaviour (regularity, risk tags) get a tighter floor, so that their
// first departure from 0 weighs as much as a tenfold rate change.
inline constexpr float kFloorFactor[kFeatures] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.33f, 0.67f, 1, 1, 1, 0.33f};

struct ScorerConfig {
  float shrinkage = 0.2f;          // λ
  float variance_floor = 0.15f;    // σ floor, in scored (log1p) units (× kFloorFactor)
  float distance_scale = 3.0f;     // κ
  float own_weight = 0.5f;         // w_own
};

// A cohort's model, refreshed every tick from its members' vectors.
struct CohortModel {
  Vec mean = Vec::Zero();
  Vec var = Vec::Zero();            // diag(S): the prior of a young agent's own variance
  Mat sigma_inv = Mat::Identity();  // Σ_c⁻¹
  Vec sd = Vec::Ones();             // √diag(Σ_c): R⁻¹ = diag(sd)·Σ_c⁻¹·diag(sd)
  std::uint32_t members = 0;
  std::uint32_t ticks = 0;          // ticks the model has been fed
  bool ready = false;
};

struct Score {
  float value = 0;
  float d2 = 0;
  std::array<std::uint8_t, 3> top{0xff, 0xff, 0xff};   // feature indices, largest contribution first
  Vec contrib = Vec::Zero();                            // per feature; sums to d2
};

class Scorer {
 public:
  explicit Scorer(const ScorerConfig& cfg);
  // Builds the model from a covariance estimate of the cohort (mean, covariance, members).
  void fit(CohortModel& m, const Eigen::Matrix<double, kFeatures, 1>& mean,
           const Eigen::Matrix<double, kFeatures, kFeatures>& cov, std::uint32_t members) const;
  // with_top = false leaves `top` empty (fill it later with rank()): ranking costs as much as
  // the rest of a score, and the tick needs it only for the few agents whose score matters.
  Score score(const Vec& x, const Vec& own_mean, const Vec& own_var, bool own_ready, const CohortModel& c,
              bool with_top = true) const noexcept;
  // Fills s.top from s.contrib.
  static void rank(Score& s) noexcept;
  // Chi-square CDF with kFeatures degrees of freedom (tabulated, linear interpolation).
  float chi2_cdf(float x) const noexcept {
    if (!(x > 0)) return 0;
    if (x >= table_max_) return 1;
    const float pos = x * inv_step_;
    const auto i = static_cast<unsigned>(pos);
    if (i >= kTable - 1) return cdf_[kTable - 1];   // x just under table_max_, rounded up
    const float f = pos - static_cast<float>(i);
    return cdf_[i] + f * (cdf_[i + 1] - cdf_[i]);
  }
  const ScorerConfig& config() const noexcept { return cfg_; }

 private:
  ScorerConfig cfg_;
  Vec floor2_;                     // squared σ floor per feature
  static constexpr unsigned kTable = 4096;
  float table_max_ = 0, table_step_ = 0, inv_step_ = 0;
  std::vector<float> cdf_;
};

}  // namespace tcpr::behavior
