// rewrite.hpp — the header rewrite of a routed packet, on plain bytes (src/dataplane applies it to
// mbufs): destination MAC = the path's next hop, source MAC = the egress port's MAC; the outer
// VLAN tag pushed, rewritten or stripped; on L3 paths the IPv4 TTL (checksum updated
// incrementally, RFC 1624 eqn. 3) or the IPv6 hop limit decremented, and a packet that would
// leave with 0 dropped (TTL_EXPIRED).
//
// A push needs 4 bytes in front of the frame (`headroom`); the MAC addresses move into them and
// the frame starts 4 bytes earlier (shift −4). A strip moves them 4 bytes later (shift +4).
#pragma once

#include <cstdint>

#include "tcpr/packet/drop.hpp"
#include "tcpr/route/route_config.hpp"

namespace tcpr::route {

struct RewriteSpec {
  Mac dst_mac{};
  Mac src_mac{};
  VlanAction vlan = VlanAction::kKeep;
  std::uint16_t vlan_id = 0;
  bool l3 = false;
};

struct RewriteResult {
  DropReason drop = TCPR_DROP_NONE;
  int shift = 0;   // the frame now starts at frame + shift and is len − shift bytes long
};

// `frame` points at `len` contiguous bytes, preceded by `headroom` writable bytes.
RewriteResult rewrite(std::uint8_t* frame, std::uint32_t len, std::uint32_t headroom, const RewriteSpec& spec) noexcept;

// True when an L3 path would drop the frame: an IPv4 TTL or IPv6 hop limit of 0 or 1. Read-only,
// so the pipeline decides the drop before the dataplane touches the frame.
bool ttl_expires(const std::uint8_t* frame, std::uint32_t len) noexcept;

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the summed data changed from `old_word`
// to `new_word` (all in network order as read from the packet, big-endian values).
inline std::uint16_t checksum_update(std::uint16_t hc, std::uint16_t old_word, std::uint16_t new_word) noexcept {
  std::uint32_t sum = static_cast<std::uint16_t>(~hc) + static_cast<std::uint32_t>(static_cast<std::uint16_t>(~old_word)) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace tcpr::route
