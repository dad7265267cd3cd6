// snapshot.hpp — publishing an immutable object from the control thread to workers without a
// lock on the workers' side (a quiescent-state scheme in the manner of rte_rcu_qsbr).
//
// The control thread publish()es a new shared_ptr; each worker poll()s between bursts and, when
// a newer generation exists, copies it and acknowledges. Two slots suffice: a generation is only
// published once every reader has acknowledged the previous one, so the slot a reader copies is
// never being written. publish() returns false while a reader lags; the caller retries (a reload
// is rare, and a worker acknowledges at its next burst or idle poll).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace tcpr {

template <typename T>
class SnapshotPublisher {
 public:
  static constexpr unsigned kMaxReaders = 64;

  SnapshotPublisher(std::shared_ptr<const T> initial, unsigned readers) : readers_(readers) {
    slots_[0] = std::move(initial);
  }

  // Control thread only.
  bool publish(const std::shared_ptr<const T>& next) {
    const std::uint64_t g = gen_.load(std::memory_order_relaxed);
    for (unsigned r = 0; r < readers_; ++r) {
      if (acks_[r].seen.load(std::memory_order_acquire) != g) return false;
    }
    slots_[(g + 1) & 1] = next;
    gen_.store(g + 1, std::memory_order_release);
    return true;
  }

  bool readers_caught_up() const {
    const std::uint64_t g = gen_.load(std::memory_order_relaxed);
    for (unsigned r = 0; r < readers_; ++r) {
      if (acks_[r].seen.load(std::memory_order_acquire) != g) return false;
    }
    return true;
  }

  // Reader `r` only: a newer snapshot into `out` (true), or nothing new (false). One atomic load
  // when nothing changed.
  bool poll(unsigned r, std::shared_ptr<const T>& out) {
    const std::uint64_t g = gen_.load(std::memory_order_acquire);
    if (g == acks_[r].seen.load(std::memory_order_relaxed)) return false;
    out = slots_[g & 1];
    acks_[r].seen.store(g, std::memory_order_release);
    return true;
  }

  std::uint64_t generation() const { return gen_.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Ack {
    std::atomic<std::uint64_t> seen{0};
  };
  unsigned readers_;
  std::atomic<std::uint64_t> gen_{0};
  std::shared_ptr<const T> slots_[2];
  Ack acks_[kMaxReaders];
};

}  // namespace tcpr
