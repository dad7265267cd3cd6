// The count burst test (burst.hpp): the statistic worked by hand, the windows, the floors, the
// state's shift and learning, and the false-alarm rate under a known Poisson rate.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tcpr/behavior/burst.hpp"

using namespace tcpr::behavior;

namespace {
// G(c, μ) = c·ln(c/μ) − (c − μ), restated in double.
double glr(double c, double mu) { return c > mu ? c * std::log(c / mu) - (c - mu) : 0.0; }
}  // namespace

TEST_CASE("burst: the Poisson likelihood-ratio statistic", "[burst]") {
  CHECK(burst_glr(3, 0.05f) == Approx(3 * std::log(60.0) - 2.95).epsilon(1e-5));   // 9.33
  CHECK(burst_glr(1, 0.1f) == Approx(std::log(10.0) - 0.9).epsilon(1e-5));
  CHECK(burst_glr(0.1f, 0.1f) == 0);   // not above the mean
  CHECK(burst_glr(0, 0.1f) == 0);
  CHECK(burst_glr(2, 3) == 0);
}

TEST_CASE("burst: the largest statistic over windows of 1, 2 and 3 ticks and over channels", "[burst]") {
  BurstConfig cfg;
  BurstState s;
  s.rate[kBurstTool] = 0.1f;
  s.prev1[kBurstTool] = 2;
  BurstCounts now{};
  now[kBurstTool] = 1;
  // Windows: G(1, 0.1) = 1.40, G(3, 0.2) = 5.32, G(3, 0.3) = 4.21: the 2-tick window wins.
  BurstResult r = burst_test(s, now, cfg);
  CHECK(r.g == Approx(glr(3, 0.2)).epsilon(1e-5));
  CHECK(r.feature == kToolFlows);
  // Another channel with more: LLM flows at its floor (rate 0 → floor 0.05): G(4, 0.05) = 13.58.
  now[kBurstLlm] = 4;
  r = burst_test(s, now, cfg);
  CHECK(r.g == Approx(glr(4, 0.05)).epsilon(1e-5));
  CHECK(r.feature == kLlmFlows);
  // A quiet channel (first internal contacts) floors at quiet_floor: one contact is
  // G(1, 1e-4) = ln(1e4) − 1 + 1e-4 = 8.21.
  BurstCounts peers{};
  peers[kBurstPeers] = 1;
  r = burst_test(BurstState{}, peers, cfg);
  CHECK(r.g == Approx(glr(1, 1e-4)).epsilon(1e-4));
  CHECK(r.feature == kInternalPeers);
  // Nothing above the mean: no statistic, no feature.
  r = burst_test(BurstState{}, BurstCounts{}, cfg);
  CHECK(r.g == 0);
  CHECK(r.feature == 0xff);
}

TEST_CASE("burst: shift keeps two ticks, saturated; learn is an EWMA", "[burst]") {
  BurstState s;
  CHECK(s.quiet());
  BurstCounts a{}, b{}, none{};
  a[kBurstDns] = 7;
  b[kBurstUpload] = 1000;   // saturates at 255
  burst_shift(s, a);
  CHECK_FALSE(s.quiet());
  CHECK(s.prev1[kBurstDns] == 7);
  burst_shift(s, b);
  CHECK(s.prev1[kBurstUpload] == 255);
  CHECK(s.prev2[kBurstDns] == 7);
  burst_shift(s, none);
  burst_shift(s, none);
  CHECK(s.quiet());
  // Learning at baseline tick 3 (weight max(0.5, 1/4) = 0.5) from a rate of 0, then tick 4
  // lazily with no count: 3.5, then 1.75 when brought to tick 5.
  s.learnt_at = 3;
  burst_learn(s, a, 3, 0.5f);
  CHECK(s.rate[kBurstDns] == 3.5f);
  CHECK(s.learnt_at == 4);
  burst_bring(s, 5, 0.5f);
  CHECK(s.rate[kBurstDns] == 1.75f);
}

TEST_CASE("burst: lazy learning equals learning every tick", "[burst]") {
  // The eager rule, in double: r += w_k·(c_k − r), w_k = max(α, 1/(k+1)), every baseline tick.
  std::mt19937_64 g(3);
  std::bernoulli_distribution event(0.03);
  const float alpha = 0.02f;
  BurstState lazy;
  double eager = 0;
  for (std::uint32_t k = 0; k < 400; ++k) {
    const unsigned c = event(g) ? 1 + static_cast<unsigned>(g() % 4) : 0;
    eager += std::max(0.02, 1.0 / (k + 1)) * (c - eager);
    if (c != 0) {
      BurstCounts n{};
      n[kBurstTool] = c;
      burst_learn(lazy, n, k, alpha);
    }
    if (k % 37 == 0 || k == 399) {   // read now and then, as a test would
      BurstState peek = lazy;
      burst_bring(peek, k + 1, alpha);
      INFO("baseline tick " << k);
      REQUIRE(peek.rate[kBurstTool] == Approx(eager).epsilon(1e-4).margin(1e-7));
    }
  }
  // The decay in closed form: running-mean ticks telescope, EWMA ticks are powers.
  CHECK(burst_decay(10, 20, 0.02f) == Approx(10.0 / 20));
  CHECK(burst_decay(10, 60, 0.02f) == Approx(10.0 / 50 * std::pow(0.98, 10)));
  CHECK(burst_decay(70, 80, 0.02f) == Approx(std::pow(0.98, 10)));
  CHECK(burst_decay(0, 5, 0.02f) == 0);
  CHECK(burst_decay(7, 7, 0.02f) == 1);
}

TEST_CASE("burst: under the true Poisson rate, G ≥ 12 is rare; a storm reaches it within two ticks",
          "[burst]") {
  // Chernoff: P(G ≥ g) ≤ e^{−g} per window; three windows and one channel per tick here.
  BurstConfig cfg;
  std::mt19937_64 g(17);
  for (const double lambda : {0.05, 0.2, 1.0}) {
    BurstState s;
    s.rate[kBurstTool] = static_cast<float>(lambda);
    // The storm: twenty times the rate, and at least 3 a tick (tcp-routegen's tool_storm is 2–5
    // calls a tick).
    std::poisson_distribution<unsigned> normal(lambda), storm(std::max(3.0, 20 * lambda));
    int alarms = 0;
    const int ticks = 200000;
    for (int t = 0; t < ticks; ++t) {
      BurstCounts c{};
      c[kBurstTool] = normal(g);
      if (burst_test(s, c, cfg).g >= 12.0f) ++alarms;
      burst_shift(s, c);
    }
    INFO("lambda " << lambda << " alarms " << alarms);
    CHECK(alarms <= 3);   // 3·e^{−12}·200 000 = 3.7 expected at most by the bound
    // The storm: the median time to G ≥ 12 over 101 onsets is at most two ticks.
    std::vector<int> latency;
    for (int trial = 0; trial < 101; ++trial) {
      BurstState q;
      q.rate[kBurstTool] = static_cast<float>(lambda);
      int t = 1;
      for (;; ++t) {
        BurstCounts c{};
        c[kBurstTool] = storm(g);
        if (burst_test(q, c, cfg).g >= 12.0f || t == 50) break;
        burst_shift(q, c);
      }
      latency.push_back(t);
    }
    std::nth_element(latency.begin(), latency.begin() + 50, latency.end());
    CHECK(latency[50] <= 2);
  }
}

TEST_CASE("burst: a tick's counts per channel", "[burst]") {
  TickStats st;
  st.class_flows[kGroupLlm] = 2;
  st.class_flows[kGroupTool] = 3;
  st.class_flows[kGroupDns] = 1;
  st.class_flows[kGroupOther] = 9;   // no channel
  st.payload_bytes_out = 3 * 32768 + 32767;   // three whole 32 KB blocks
  const BurstCounts c = burst_counts(&st, 4, 5);
  CHECK(c == BurstCounts{4, 5, 2, 3, 1, 3});
  // An agent that sent nothing this tick still has its late-failed handshakes.
  CHECK(burst_counts(nullptr, 2, 0) == BurstCounts{2, 0, 0, 0, 0, 0});
}
