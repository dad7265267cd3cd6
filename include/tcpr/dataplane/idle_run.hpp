// idle_run.hpp — "this poller has been polling and getting nothing for a while", for replay's
// stall detection. Plain types (no DPDK), shared by the workers' and the main lcore's loops.
//
// A replay must not hang when the PMD stops delivering before the end of the capture, but a
// poller that is busy — a long behaviour tick, a slow report — is not the PMD running dry: what
// counts is a run of empty polls, not time without packets. The poller calls poll() after every
// poll; another thread may read idle_for().
#pragma once

#include <atomic>
#include <cstdint>

namespace tcpr::dataplane {

class IdleRun {
 public:
  // Empty polls in a row before the run counts (then its time starts).
  static constexpr std::uint32_t kPolls = 1000;

  // One poll that received `got` packets, at time `now` (any monotonic clock, e.g. the TSC;
  // never 0). Written by the polling thread only.
  void poll(std::uint32_t got, std::uint64_t now) noexcept {
    if (got != 0) {
      if (polls_ != 0) {
        polls_ = 0;
        since_.store(0, std::memory_order_relaxed);
      }
    } else if (++polls_ == kPolls) {
      since_.store(now, std::memory_order_relaxed);
    }
  }
  // True when the current run of empty polls has lasted more than `window` since it counted.
  bool idle_for(std::uint64_t now, std::uint64_t window) const noexcept {
    const std::uint64_t since = since_.load(std::memory_order_relaxed);
    return since != 0 && now > since && now - since > window;
  }

 private:
  std::uint32_t polls_ = 0;
  std::atomic<std::uint64_t> since_{0};
};

}  // namespace tcpr::dataplane
