// parser.hpp — L2–L4 parsing of one frame into a ParsedPacket.
//
// Input: a PacketView (data, len = contiguous bytes, wire_len = frame length).
// Output: a ParsedPacket and TCPR_DROP_NONE, or a drop reason. Never reads outside [data, data+len).
//
// Understood: Ethernet II; 802.1Q (0x8100) and 802.1ad (0x88a8) tags, at most two (QinQ; a third
// tag is VLAN_TOO_DEEP); ARP (recognised, l3 = kArp, truncated ARP dropped); IPv4 with options and
// fragments (a later fragment — offset != 0 — is flagged and not parsed as L4); IPv6 with the
// extension headers hop-by-hop (0), routing (43), fragment (44), destination options (60) and AH
// (51), at most kMaxIpv6ExtHeaders of them; TCP (flags, seq/ack, data offset, options skipped),
// UDP, ICMP and ICMPv6. Any other EtherType is l3 = kOther and passes unparsed; any other IP
// protocol has l3 parsed and no L4.
//
// Drop reasons (tcpr_drop_reason): L2_TRUNCATED, VLAN_TRUNCATED, VLAN_TOO_DEEP, ARP_TRUNCATED,
// IPV4_TRUNCATED, IPV4_BAD_VERSION, IPV4_BAD_IHL (IHL < 5 or header past the buffer),
// IPV4_BAD_TOTAL_LENGTH (total length < IHL*4 or past the frame), IPV6_TRUNCATED,
// IPV6_BAD_VERSION, IPV6_BAD_PAYLOAD_LENGTH (past the frame), IPV6_EXT_TRUNCATED,
// IPV6_EXT_CHAIN_TOO_LONG, TCP_TRUNCATED, TCP_BAD_DATA_OFFSET (< 5, or past the IP payload),
// UDP_TRUNCATED, UDP_BAD_LENGTH (< 8 or past the IP payload), ICMP_TRUNCATED.
// A header must lie within the contiguous bytes (len); lengths are checked against wire_len.
#pragma once

#include "tcpr/packet/drop.hpp"
#include "tcpr/packet/packet_view.hpp"

namespace tcpr::packet {

inline constexpr unsigned kMaxVlanTags = 2;
inline constexpr unsigned kMaxIpv6ExtHeaders = 8;

DropReason parse(const PacketView& pkt, ParsedPacket& out) noexcept;

// The parse stage of a worker: parse() plus its per-reason drop counters.
class Parser {
 public:
  DropReason run(const PacketView& pkt, ParsedPacket& out) noexcept {
    const DropReason r = parse(pkt, out);
    if (r != TCPR_DROP_NONE) drops_.add(r);
    return r;
  }
  const DropCounters& drops() const noexcept { return drops_; }

 private:
  DropCounters drops_;
};

}  // namespace tcpr::packet
