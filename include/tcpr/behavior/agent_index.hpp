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

  // `key_of(i)` must return agent i's key (the index stores numbers only).
  template <typename KeyOf>
  std::uint32_t find(const AgentKey& k, std::uint64_t h, KeyOf&& key_of) const noexcept {
    if (slots_.empty()) return kNone;
    for (std::size_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const Slot& s = slots_[pos];
      if (s.agent == kNone) return kNone;
      if (s.hash == h && key_of(s.agent) == k) return s.agent;
    }
  }

  template <typename KeyOf>
  void insert(std::uint64_t h, std::uint32_t agent, std::size_t count_after, KeyOf&& key_of) {
    if (count_after * 2 > slots_.size()) grow(count_after, key_of);
    place(h, agent);
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
  };
  void place(std::uint64_t h, std::uint32_t agent) noexcept {
    std::size_t pos = h & mask_;
    while (slots_[pos].agent != kNone) pos = (pos + 1) & mask_;
    slots_[pos] = Slot{h, agent};
  }
  template <typename KeyOf>
  void grow(std::size_t count, KeyOf&&) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(std::bit_ceil(std::max<std::size_t>(1024, count * 4)), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.agent != kNone) place(s.hash, s.agent);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace tcpr::behavior
