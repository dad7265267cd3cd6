// packet_view.hpp — the non-owning packet every stage works on, and what the parser makes of it.
//
// PacketView is what src/dataplane hands to the stages: a pointer to the first contiguous bytes of
// a frame, how many bytes are there, the frame's full length on the wire (it may span several
// buffers), the ingress port index and a timestamp in nanoseconds (capture time in replay).
//
// ParsedPacket is the parser's output: offsets from the start of the frame, addresses, ports,
// flags and the payload span. Offsets are only meaningful for the layers flagged as present.
#pragma once

#include <cstdint>
#include <cstring>

namespace tcpr::packet {

struct PacketView {
  const std::uint8_t* data = nullptr;
  std::uint32_t len = 0;       // contiguous bytes readable at data
  std::uint32_t wire_len = 0;  // whole frame length (>= len when the frame is segmented)
  std::uint16_t port = 0;      // ingress port index
  std::uint64_t ts_ns = 0;     // capture (replay) or receive (live) time
};

// An IPv4 or IPv6 address. IPv4 is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d) so one
// key layout serves both families; `is_v4()` tells them apart.
struct IpAddr {
  std::uint8_t b[16] = {};

  static IpAddr from_v4(const std::uint8_t* p) noexcept {
    IpAddr a;
    a.b[10] = 0xff;
    a.b[11] = 0xff;
    std::memcpy(a.b + 12, p, 4);
    return a;
  }
  static IpAddr from_v6(const std::uint8_t* p) noexcept {
    IpAddr a;
    std::memcpy(a.b, p, 16);
    return a;
  }
  bool is_v4() const noexcept {
    static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(b, kPrefix, 12) == 0;
  }
  friend bool operator==(const IpAddr& x, const IpAddr& y) noexcept {
    return std::memcmp(x.b, y.b, 16) == 0;
  }
};

enum class L3 : std::uint8_t { kNone = 0, kArp, kIpv4, kIpv6, kOther };

// IP protocol numbers the parser understands (IANA).
inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoIcmpv6 = 58;

// TCP flag bits (RFC 9293).
inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;

// ParsedPacket::flags
inline constexpr std::uint16_t kFlagHasL4 = 1u << 0;        // src/dst ports (or ICMP type) valid
inline constexpr std::uint16_t kFlagFragment = 1u << 1;     // part of a fragmented datagram
inline constexpr std::uint16_t kFlagLaterFragment = 1u << 2;  // offset != 0: no L4 header here
inline constexpr std::uint16_t kFlagIpOptions = 1u << 3;    // IPv4 IHL > 5
inline constexpr std::uint16_t kFlagIpv6Ext = 1u << 4;      // at least one extension header walked

struct ParsedPacket {
  // L2
  std::uint16_t ether_type = 0;     // innermost EtherType (after VLAN tags), host order
  std::uint16_t vlan_tci[2] = {};   // outer first; host order
  std::uint8_t vlan_count = 0;      // 0, 1 (802.1Q) or 2 (QinQ)
  L3 l3 = L3::kNone;
  std::uint16_t flags = 0;

  // L3
  std::uint16_t l3_offset = 0;
  std::uint8_t ip_version = 0;      // 4 or 6 when l3 is kIpv4/kIpv6
  std::uint8_t l4_proto = 0;        // IPv4 protocol, or the IPv6 upper-layer header after extensions
  std::uint8_t ttl = 0;             // IPv4 TTL / IPv6 hop limit
  std::uint8_t ipv6_ext_count = 0;
  IpAddr src, dst;

  // L4
  std::uint16_t l4_offset = 0;
  std::uint16_t src_port = 0, dst_port = 0;  // host order; 0 when not TCP/UDP
  std::uint8_t tcp_flags = 0;
  std::uint8_t icmp_type = 0, icmp_code = 0;
  std::uint32_t tcp_seq = 0, tcp_ack = 0;

  // Payload (L4 payload for TCP/UDP; the IP payload otherwise). payload_len comes from the IP
  // length fields, so Ethernet padding is excluded; the span may continue past the contiguous
  // bytes of a segmented frame.
  std::uint32_t payload_offset = 0;
  std::uint32_t payload_len = 0;

  bool has(std::uint16_t f) const noexcept { return (flags & f) != 0; }
};

}  // namespace tcpr::packet
