#include "tcpr/route/rewrite.hpp"

#include <cstring>

namespace tcpr::route {

namespace {

constexpr std::uint16_t kVlan = 0x8100, kQinQ = 0x88a8, kIpv4 = 0x0800, kIpv6 = 0x86dd;
constexpr std::uint32_t kMaxTags = 4;

std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void put16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
bool is_tag(std::uint16_t type) noexcept { return type == kVlan || type == kQinQ; }

// The IP header after the frame's tags: its offset and ethertype, or 0.
std::uint32_t ip_offset(const std::uint8_t* f, std::uint32_t len, std::uint16_t& type) noexcept {
  std::uint32_t off = 12;
  for (std::uint32_t tags = 0; off + 2 <= len && is_tag(be16(f + off)) && tags < kMaxTags; ++tags) off += 4;
  if (off + 2 > len) return 0;
  type = be16(f + off);
  return off + 2;
}

// TTL / hop limit of the IP header after the frame's tags. The parser has validated the headers
// of every packet that reaches here; the bounds are checked again because this writes.
DropReason decrement_ttl(std::uint8_t* f, std::uint32_t len) noexcept {
  std::uint16_t type = 0;
  const std::uint32_t off = ip_offset(f, len, type);
  if (off == 0) return TCPR_DROP_NONE;
  std::uint8_t* ip = f + off;
  const std::uint32_t room = len - off;
  if (type == kIpv4 && room >= 20) {
    if (ip[8] <= 1) return TCPR_DROP_TTL_EXPIRED;
    const std::uint16_t old_word = be16(ip + 8);   // TTL and protocol share a 16-bit word
    --ip[8];
    put16(ip + 10, checksum_update(be16(ip + 10), old_word, be16(ip + 8)));
  } else if (type == kIpv6 && room >= 40) {
    if (ip[7] <= 1) return TCPR_DROP_TTL_EXPIRED;
    --ip[7];
  }
  return TCPR_DROP_NONE;
}

}  // namespace

bool ttl_expires(const std::uint8_t* frame, std::uint32_t len) noexcept {
  std::uint16_t type = 0;
  const std::uint32_t off = ip_offset(frame, len, type);
  if (off == 0) return false;
  if (type == kIpv4 && len - off >= 20) return frame[off + 8] <= 1;
  if (type == kIpv6 && len - off >= 40) return frame[off + 7] <= 1;
  return false;
}

RewriteResult rewrite(std::uint8_t* frame, std::uint32_t len, std::uint32_t headroom, const RewriteSpec& spec) noexcept {
  RewriteResult r;
  if (len < 14) return r;   // not Ethernet: nothing to rewrite (the parser counted it)
  // Every reason to drop is known before the first byte changes: a dropped frame is untouched.
  const bool tagged = len >= 18 && is_tag(be16(frame + 12));
  if (spec.vlan == VlanAction::kSet && !tagged && headroom < 4) {
    r.drop = TCPR_DROP_NO_HEADROOM;
    return r;
  }
  if (spec.l3) {
    r.drop = decrement_ttl(frame, len);
    if (r.drop != TCPR_DROP_NONE) return r;
  }
  switch (spec.vlan) {
    case VlanAction::kKeep:
      break;
    case VlanAction::kSet:
      if (tagged) {
        // Keep PCP and DEI, replace the 12-bit id.
        put16(frame + 14, static_cast<std::uint16_t>((be16(frame + 14) & 0xf000) | (spec.vlan_id & 0x0fff)));
      } else {
        std::memmove(frame - 4, frame, 12);
        frame -= 4;
        put16(frame + 12, kVlan);
        put16(frame + 14, static_cast<std::uint16_t>(spec.vlan_id & 0x0fff));
        r.shift = -4;
      }
      break;
    case VlanAction::kStrip:
      if (tagged) {
        std::memmove(frame + 4, frame, 12);
        frame += 4;
        r.shift = 4;
      }
      break;
  }
  std::memcpy(frame, spec.dst_mac.data(), 6);
  std::memcpy(frame + 6, spec.src_mac.data(), 6);
  return r;
}

}  // namespace tcpr::route
