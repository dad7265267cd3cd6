#include "tcpr/packet/parser.hpp"

#include <algorithm>
#include <cstdint>

// Bounds discipline: every header read is preceded by a check against `limit`, the end of the
// bytes a header may come from (the contiguous bytes, further capped by the end of the IP
// datagram once L3 is known). All offsets are uint32_t sums of at most a few 16-bit lengths, so
// no check below can overflow.

namespace tcpr::packet {
namespace {

constexpr std::uint32_t kEthHeaderLen = 14;
constexpr std::uint32_t kVlanTagLen = 4;
constexpr std::uint32_t kArpBodyLen = 28;  // Ethernet/IPv4 ARP (RFC 826)
constexpr std::uint32_t kIpv4MinHeaderLen = 20;
constexpr std::uint32_t kIpv6HeaderLen = 40;
constexpr std::uint32_t kIpv6MinExtLen = 8;   // every extension header has at least 8 octets
constexpr std::uint32_t kIpv6MaxExtLen = 2048;  // (255 + 1) * 8
constexpr std::uint32_t kTcpMinHeaderLen = 20;
constexpr std::uint32_t kUdpHeaderLen = 8;
constexpr std::uint32_t kIcmpMinLen = 4;     // type, code, checksum
constexpr std::uint32_t kIcmpHeaderLen = 8;  // plus the 4-byte "rest of header" (RFC 792, 4443)

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeArp = 0x0806;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q C-tag
constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;  // IEEE 802.1ad S-tag
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;

constexpr std::uint16_t kIpv4MoreFragments = 0x2000;
constexpr std::uint16_t kIpv4FragOffsetMask = 0x1fff;

constexpr std::uint8_t kIpv6HopByHop = 0;
constexpr std::uint8_t kIpv6Routing = 43;
constexpr std::uint8_t kIpv6Fragment = 44;
constexpr std::uint8_t kIpv6Ah = 51;
constexpr std::uint8_t kIpv6DestOptions = 60;

// l3_offset and l4_offset are 16-bit: the deepest header the parser can reach must fit.
static_assert(kEthHeaderLen + kMaxVlanTags * kVlanTagLen + kIpv6HeaderLen +
                      kMaxIpv6ExtHeaders * kIpv6MaxExtLen <= 0xffff,
              "L4 offset must fit ParsedPacket::l4_offset");

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// The IP datagram's upper-layer part: [begin, end) on the wire, headers readable below limit.
struct L4Span {
  std::uint32_t begin;
  std::uint32_t end;
  std::uint32_t limit;  // min(contiguous bytes, end)
  bool partial;         // first fragment of a larger datagram: the L4 data continues elsewhere
};

DropReason parse_tcp(const std::uint8_t* data, std::uint32_t len, const L4Span& s,
                     ParsedPacket& out) noexcept {
  // The fixed header must be part of the datagram, not Ethernet padding after it.
  if (s.begin + kTcpMinHeaderLen > s.limit) return TCPR_DROP_TCP_TRUNCATED;
  const std::uint8_t* h = data + s.begin;
  const std::uint32_t hlen = (h[12] >> 4) * 4u;
  if (hlen < kTcpMinHeaderLen || s.begin + hlen > s.end) return TCPR_DROP_TCP_BAD_DATA_OFFSET;
  if (s.begin + hlen > len) return TCPR_DROP_TCP_TRUNCATED;
  out.src_port = load_be16(h);
  out.dst_port = load_be16(h + 2);
  out.tcp_seq = load_be32(h + 4);
  out.tcp_ack = load_be32(h + 8);
  out.tcp_flags = h[13];  // CWR ECE URG ACK PSH RST SYN FIN (RFC 9293 §3.1)
  out.payload_offset = s.begin + hlen;
  out.payload_len = s.end - out.payload_offset;
  return TCPR_DROP_NONE;
}

DropReason parse_udp(const std::uint8_t* data, const L4Span& s, ParsedPacket& out) noexcept {
  if (s.begin + kUdpHeaderLen > s.limit) return TCPR_DROP_UDP_TRUNCATED;
  const std::uint8_t* h = data + s.begin;
  const std::uint32_t ulen = load_be16(h + 4);
  // RFC 768 length covers the whole datagram; in a first fragment only its lower bound holds, and
  // the payload is what this fragment carries.
  if (ulen < kUdpHeaderLen) return TCPR_DROP_UDP_BAD_LENGTH;
  if (!s.partial && s.begin + ulen > s.end) return TCPR_DROP_UDP_BAD_LENGTH;
  out.src_port = load_be16(h);
  out.dst_port = load_be16(h + 2);
  out.payload_offset = s.begin + kUdpHeaderLen;
  out.payload_len = s.partial ? s.end - out.payload_offset : ulen - kUdpHeaderLen;
  return TCPR_DROP_NONE;
}

// Only type/code/checksum are required. The payload starts after the 8-byte ICMP header (echo
// id/seq, or the unused/pointer/MTU word of an error), which every valid message has; a shorter
// message gets an empty payload at the end of the datagram.
DropReason parse_icmp(const std::uint8_t* data, const L4Span& s, ParsedPacket& out) noexcept {
  if (s.begin + kIcmpMinLen > s.limit) return TCPR_DROP_ICMP_TRUNCATED;
  out.icmp_type = data[s.begin];
  out.icmp_code = data[s.begin + 1];
  const std::uint32_t hlen = std::min(kIcmpHeaderLen, s.end - s.begin);
  out.payload_offset = s.begin + hlen;
  out.payload_len = s.end - out.payload_offset;
  return TCPR_DROP_NONE;
}

// Caller has set l4_proto and payload = the whole upper-layer part; an unknown protocol keeps it.
DropReason parse_l4(const std::uint8_t* data, std::uint32_t len, const L4Span& s,
                    std::uint8_t icmp_proto, ParsedPacket& out) noexcept {
  DropReason r;
  if (out.l4_proto == kProtoTcp) {
    r = parse_tcp(data, len, s, out);
  } else if (out.l4_proto == kProtoUdp) {
    r = parse_udp(data, s, out);
  } else if (out.l4_proto == icmp_proto) {
    r = parse_icmp(data, s, out);
  } else {
    return TCPR_DROP_NONE;
  }
  if (r == TCPR_DROP_NONE) {
    out.flags |= kFlagHasL4;
    out.l4_offset = static_cast<std::uint16_t>(s.begin);
  }
  return r;
}

DropReason parse_ipv4(const std::uint8_t* data, std::uint32_t len, std::uint32_t wire,
                      std::uint32_t off, ParsedPacket& out) noexcept {
  if (off + kIpv4MinHeaderLen > len) return TCPR_DROP_IPV4_TRUNCATED;
  const std::uint8_t* h = data + off;
  if ((h[0] >> 4) != 4) return TCPR_DROP_IPV4_BAD_VERSION;
  const std::uint32_t ihl = (h[0] & 0x0fu) * 4u;
  if (ihl < kIpv4MinHeaderLen || off + ihl > len) return TCPR_DROP_IPV4_BAD_IHL;
  const std::uint32_t total = load_be16(h + 2);
  if (total < ihl || off + total > wire) return TCPR_DROP_IPV4_BAD_TOTAL_LENGTH;

  out.l3 = L3::kIpv4;
  out.ip_version = 4;
  out.ttl = h[8];
  out.l4_proto = h[9];
  out.src = IpAddr::from_v4(h + 12);
  out.dst = IpAddr::from_v4(h + 16);
  const std::uint16_t frag = load_be16(h + 6);
  const bool more = (frag & kIpv4MoreFragments) != 0;
  const bool later = (frag & kIpv4FragOffsetMask) != 0;
  out.flags |= (ihl > kIpv4MinHeaderLen ? kFlagIpOptions : 0) | (more || later ? kFlagFragment : 0) |
               (later ? kFlagLaterFragment : 0);
  out.payload_offset = off + ihl;
  out.payload_len = total - ihl;
  // A later fragment carries L4 data, not an L4 header (RFC 791).
  if (later) return TCPR_DROP_NONE;
  const std::uint32_t end = off + total;
  return parse_l4(data, len, L4Span{off + ihl, end, std::min(len, end), more}, kProtoIcmp, out);
}

DropReason parse_ipv6(const std::uint8_t* data, std::uint32_t len, std::uint32_t wire,
                      std::uint32_t off, ParsedPacket& out) noexcept {
  if (off + kIpv6HeaderLen > len) return TCPR_DROP_IPV6_TRUNCATED;
  const std::uint8_t* h = data + off;
  if ((h[0] >> 4) != 6) return TCPR_DROP_IPV6_BAD_VERSION;
  // Jumbograms (payload length 0 + Jumbo option, RFC 2675) are not supported: no such links here.
  const std::uint32_t end = off + kIpv6HeaderLen + load_be16(h + 4);
  if (end > wire) return TCPR_DROP_IPV6_BAD_PAYLOAD_LENGTH;

  out.l3 = L3::kIpv6;
  out.ip_version = 6;
  out.ttl = h[7];
  out.src = IpAddr::from_v6(h + 8);
  out.dst = IpAddr::from_v6(h + 24);

  const std::uint32_t limit = std::min(len, end);
  std::uint32_t cur = off + kIpv6HeaderLen;
  std::uint8_t next = h[6];
  bool more = false;
  bool later = false;
  // RFC 8200 §4: walk the chain until an upper-layer header. ESP (50) ends the walk: what follows
  // it is encrypted. Order and repetition are not policed; the count is.
  while (!later && (next == kIpv6HopByHop || next == kIpv6Routing || next == kIpv6Fragment ||
                    next == kIpv6Ah || next == kIpv6DestOptions)) {
    if (out.ipv6_ext_count == kMaxIpv6ExtHeaders) return TCPR_DROP_IPV6_EXT_CHAIN_TOO_LONG;
    if (cur + kIpv6MinExtLen > limit) return TCPR_DROP_IPV6_EXT_TRUNCATED;
    const std::uint8_t* e = data + cur;
    std::uint32_t ext_len;
    if (next == kIpv6Fragment) {
      ext_len = 8;
      const std::uint16_t fo = load_be16(e + 2);  // offset (13 bits, 8-octet units), 2 res, M
      more = (fo & 1u) != 0;
      later = (fo >> 3) != 0;
      // Atomic fragments (offset 0, M 0; RFC 6946) are still flagged: the header was there.
      out.flags |= kFlagFragment | (later ? kFlagLaterFragment : 0);
    } else if (next == kIpv6Ah) {
      ext_len = (e[1] + 2u) * 4u;  // RFC 4302: in 32-bit words, minus 2
    } else {
      ext_len = (e[1] + 1u) * 8u;  // in 8-octet units, not counting the first 8
    }
    if (cur + ext_len > limit) return TCPR_DROP_IPV6_EXT_TRUNCATED;
    ++out.ipv6_ext_count;
    next = e[0];
    cur += ext_len;
  }
  out.flags |= out.ipv6_ext_count != 0 ? kFlagIpv6Ext : 0;
  out.l4_proto = next;  // 59 (No Next Header) is just an upper layer the parser does not know
  out.payload_offset = cur;
  out.payload_len = end - cur;
  if (later) return TCPR_DROP_NONE;
  return parse_l4(data, len, L4Span{cur, end, limit, more}, kProtoIcmpv6, out);
}

}  // namespace

DropReason parse(const PacketView& pkt, ParsedPacket& out) noexcept {
  out = ParsedPacket{};
  const std::uint8_t* data = pkt.data;
  const std::uint32_t len = pkt.len;
  // Contiguous bytes are frame bytes: a view claiming a shorter frame (a caller bug; mbufs and
  // pcap records never do) is taken as unsegmented rather than dropped.
  const std::uint32_t wire = std::max(pkt.wire_len, len);
  if (len < kEthHeaderLen) return TCPR_DROP_L2_TRUNCATED;

  std::uint32_t off = kEthHeaderLen;
  std::uint16_t type = load_be16(data + 12);
  // 802.1Q and 802.1ad tags are accepted in either order: both are seen in the wild as outer tag.
  while (type == kEtherTypeVlan || type == kEtherTypeQinQ) {
    if (out.vlan_count == kMaxVlanTags) return TCPR_DROP_VLAN_TOO_DEEP;
    if (off + kVlanTagLen > len) return TCPR_DROP_VLAN_TRUNCATED;
    out.vlan_tci[out.vlan_count++] = load_be16(data + off);
    type = load_be16(data + off + 2);
    off += kVlanTagLen;
  }
  out.ether_type = type;
  out.l3_offset = static_cast<std::uint16_t>(off);

  switch (type) {
    case kEtherTypeIpv4:
      return parse_ipv4(data, len, wire, off, out);
    case kEtherTypeIpv6:
      return parse_ipv6(data, len, wire, off, out);
    case kEtherTypeArp:
      if (off + kArpBodyLen > len) return TCPR_DROP_ARP_TRUNCATED;
      out.l3 = L3::kArp;
      return TCPR_DROP_NONE;
    default:
      out.l3 = L3::kOther;
      return TCPR_DROP_NONE;
  }
}

}  // namespace tcpr::packet
