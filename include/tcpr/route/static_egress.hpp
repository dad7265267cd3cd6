// static_egress.hpp — the route stage until semantic routing exists: every packet received on a
// port leaves by that port's configured `egress` port, or is dropped (NO_EGRESS) when the port has
// none or says "drop".
//
// Input: ingress port index. Output: egress port index, kNoEgress, or kRouteEgress for ports whose
// packets semantic routing places (`egress = "route"`). Config: port.egress.
#pragma once

#include <cstdint>
#include <vector>

namespace tcpr::route {

inline constexpr std::uint16_t kNoEgress = 0xffff;
inline constexpr std::uint16_t kRouteEgress = 0xfffd;   // the port's packets are routed by path

class StaticEgress {
 public:
  StaticEgress() = default;
  // egress_of[i] is the egress of ingress port i, or kNoEgress.
  explicit StaticEgress(std::vector<std::uint16_t> egress_of) : egress_of_(std::move(egress_of)) {}

  std::uint16_t egress_for(std::uint16_t ingress) const noexcept {
    return ingress < egress_of_.size() ? egress_of_[ingress] : kNoEgress;
  }
  std::size_t ports() const noexcept { return egress_of_.size(); }

 private:
  std::vector<std::uint16_t> egress_of_;
};

}  // namespace tcpr::route
