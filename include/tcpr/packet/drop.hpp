// drop.hpp — C++ view of the shared drop-reason list (include/tcpr/abi/drop_reason.h).
//
// DropReason is the enum every stage returns; drop_reason_name() gives the report name;
// DropCounters is the per-worker array of counts, one slot per reason, merged by the control
// side by plain addition.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tcpr/abi/drop_reason.h"

namespace tcpr {

using DropReason = tcpr_drop_reason;
inline constexpr std::size_t kDropReasonCount = TCPR_DROP__COUNT;

constexpr std::string_view drop_reason_name(DropReason r) noexcept {
  constexpr std::string_view kNames[] = {
#define TCPR_X_NAME(name, str) str,
      TCPR_DROP_REASONS(TCPR_X_NAME)
#undef TCPR_X_NAME
  };
  const auto i = static_cast<std::size_t>(r);
  return i < kDropReasonCount ? kNames[i] : std::string_view{"invalid"};
}

struct DropCounters {
  std::array<std::uint64_t, kDropReasonCount> count{};

  void add(DropReason r) noexcept { ++count[static_cast<std::size_t>(r) % kDropReasonCount]; }
  std::uint64_t operator[](DropReason r) const noexcept { return count[r]; }
  std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (std::size_t i = 1; i < kDropReasonCount; ++i) t += count[i];
    return t;
  }
  DropCounters& operator+=(const DropCounters& o) noexcept {
    for (std::size_t i = 0; i < kDropReasonCount; ++i) count[i] += o.count[i];
    return *this;
  }
};

}  // namespace tcpr
