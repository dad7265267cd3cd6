// IdleRun: replay's stall detection counts a run of empty polls, not time without packets — a
// poller busy for longer than the window (a long behaviour tick) is not stalled. (Found when a
// 100 000-agent replay was stopped as "stalled" while its worker was in a long tick.)
#include <catch2/catch.hpp>

#include "tcpr/dataplane/idle_run.hpp"

using tcpr::dataplane::IdleRun;

TEST_CASE("idle run: empty polls count after kPolls in a row, for longer than the window", "[dataplane]") {
  IdleRun r;
  constexpr std::uint64_t kWindow = 3000;
  std::uint64_t t = 100;
  CHECK_FALSE(r.idle_for(t, kWindow));
  for (std::uint32_t i = 1; i < IdleRun::kPolls; ++i) r.poll(0, ++t);
  CHECK_FALSE(r.idle_for(t + 10 * kWindow, kWindow));   // one poll short of a run
  r.poll(0, ++t);                                        // the run counts from here
  const std::uint64_t start = t;
  CHECK_FALSE(r.idle_for(start + kWindow, kWindow));     // not more than the window yet
  CHECK(r.idle_for(start + kWindow + 1, kWindow));
  // More empty polls do not move the start; a packet ends the run.
  r.poll(0, start + 500);
  CHECK(r.idle_for(start + kWindow + 1, kWindow));
  r.poll(1, start + 600);
  CHECK_FALSE(r.idle_for(start + 10 * kWindow, kWindow));
}

TEST_CASE("idle run: a poller busy for long between two packets is not idle", "[dataplane]") {
  IdleRun r;
  r.poll(32, 1000);
  // Nothing polled for a long time (the worker ran a long tick), then packets again.
  r.poll(32, 1000 + 1'000'000);
  CHECK_FALSE(r.idle_for(1000 + 2'000'000, 3000));
  // A few empty polls after a long pause are not a run either.
  for (int i = 0; i < 10; ++i) r.poll(0, 5'000'000 + static_cast<std::uint64_t>(i));
  CHECK_FALSE(r.idle_for(9'000'000, 3000));
}
