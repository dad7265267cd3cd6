#include "tcpr/packet/flow_key.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#define XXH_INLINE_ALL  // XXH3 specialised for the 40-byte key, no call into libxxhash
#include <xxhash.h>

namespace tcpr::packet {

bool key_for(const ParsedPacket& p, FlowKey& key, Side& sender) noexcept {
  if (p.l3 != L3::kIpv4 && p.l3 != L3::kIpv6) return false;
  if (p.has(kFlagLaterFragment)) return false;
  key = FlowKey{};
  key.proto = p.l4_proto;
  // Lexicographic order of the 16 address bytes as two big-endian 64-bit words (== memcmp order).
  std::uint64_t s0, s1, d0, d1;
  std::memcpy(&s0, p.src.b, 8);
  std::memcpy(&s1, p.src.b + 8, 8);
  std::memcpy(&d0, p.dst.b, 8);
  std::memcpy(&d1, p.dst.b + 8, 8);
  s0 = __builtin_bswap64(s0), s1 = __builtin_bswap64(s1), d0 = __builtin_bswap64(d0), d1 = __builtin_bswap64(d1);
  const bool src_low = s0 < d0 || (s0 == d0 && (s1 < d1 || (s1 == d1 && p.src_port <= p.dst_port)));
  if (src_low) {
    key.a = p.src, key.port_a = p.src_port;
    key.b = p.dst, key.port_b = p.dst_port;
    sender = Side::kA;
  } else {
    key.a = p.dst, key.port_a = p.dst_port;
    key.b = p.src, key.port_b = p.src_port;
    sender = Side::kB;
  }
  return true;
}

std::uint64_t hash(const FlowKey& key) noexcept { return XXH3_64bits(&key, sizeof key); }

std::string format_addr(const IpAddr& addr) {
  char buf[INET6_ADDRSTRLEN];
  if (addr.is_v4()) return inet_ntop(AF_INET, addr.b + 12, buf, sizeof buf);
  return inet_ntop(AF_INET6, addr.b, buf, sizeof buf);
}

std::string format_endpoint(const IpAddr& addr, std::uint16_t port) {
  if (addr.is_v4()) return fmt::format("{}:{}", format_addr(addr), port);
  return fmt::format("[{}]:{}", format_addr(addr), port);
}

std::string proto_name(std::uint8_t proto) {
  switch (proto) {
    case kProtoTcp: return "tcp";
    case kProtoUdp: return "udp";
    case kProtoIcmp: return "icmp";
    case kProtoIcmpv6: return "icmpv6";
    default: return std::to_string(proto);
  }
}

}  // namespace tcpr::packet
