// agent_index.hpp — AgentKey → agent number, for the control thread: open addressing with
// linear probing and backward-shift deletion over a flat array (no node per agent: the tick looks
// up every active agent, and a node-based map costs a cache miss per lookup more).
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "tcpr/behavior/agent.hpp"

namespace tcpr::behavior {

class AgentIndex {
 public:
  static constexpr std::uint32_t kNone = ~0u;

  std::uint32_t find(const AgentKey& k, std::uint64_t h) const noexcept {
    if (slots_.empty()) return kNone;
    for (std::size_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const Slot& s = slots_[pos];
      if (s.agent == kNone) return kNone;
      if (s.hash == h && s.key == k) return s.agent;
    }
  }

  // A lookup of hash h is coming: start loading its home slot.
  void prefetch(std::uint64_t h) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }

  void insert(const AgentKey& k, std::uint64_t h, std::uint32_t agent, std::size_t count_after) {
    if (count_after * 2 > slots_.size()) grow(count_after);
    place(Slot{h, agent, k});
  }

  // Removes `agent` (whose hash is h).
  void erase(std::uint64_t h, std::uint32_t agent) noexcept {
    std::size_t pos = h & mask_;
    while (slots_[pos].agent != agent) pos = (pos + 1) & mask_;
    // Backward-shift: pull later members of the probe run into the hole.
    for (std::size_t next = (pos + 1) & mask_;; next = (next + 1) & mask_) {
      const Slot s = slots_[next];
      if (s.agent == kNone) break;
      const std::size_t home = s.hash & mask_;
      if (((next - home) & mask_) >= ((next - pos) & mask_)) {
        slots_[pos] = s;
        pos = next;
      }
    }
    slots_[pos] = Slot{};
  }

  // Agent `from` is now numbered `to` (swap-remove).
  void renumber(std::uint64_t h, std::uint32_t from, std::uint32_t to) noexcept {
    std::size_t pos = h & mask_;
    while (slots_[pos].agent != from) pos = (pos + 1) & mask_;
    slots_[pos].agent = to;
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t agent = kNone;
    AgentKey key;
  };
  static_assert(sizeof(Slot) == 32, "two slots per cache line");
  void place(const Slot& in) noexcept {
    std::size_t pos = in.hash & mask_;
    while (slots_[pos].agent != kNone) pos = (pos + 1) & mask_;
    slots_[pos] = in;
  }
  void grow(std::size_t count) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(std::bit_ceil(std::max<std::size_t>(1024, count * 4)), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.agent != kNone) place(s);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace tcpr::behavior
