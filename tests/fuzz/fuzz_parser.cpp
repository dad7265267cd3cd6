// libFuzzer harness of the L2–L4 parser.
//
// Each input is parsed three ways, each from a heap buffer of exactly the contiguous length so
// ASan reports any read past it:
//   a. unsegmented: len == wire_len == size;
//   b. same bytes, wire_len > len (the frame continues in further segments);
//   c. only a prefix contiguous, wire_len == size.
// On success the output must describe spans inside the frame; and since the parser uses len and
// wire_len only as bounds, a success with less room must repeat, identically, with more room
// (c ⇒ a ⇒ b). Any violation traps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tcpr/packet/parser.hpp"

namespace {

using namespace tcpr::packet;
using tcpr::DropReason;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

DropReason parse_copy(const std::uint8_t* data, std::size_t len, std::size_t wire_len,
                      ParsedPacket& out) {
  const std::vector<std::uint8_t> buf(data, data + len);
  PacketView v;
  v.data = buf.data();
  v.len = static_cast<std::uint32_t>(len);
  v.wire_len = static_cast<std::uint32_t>(wire_len);
  return parse(v, out);
}

bool same(const ParsedPacket& x, const ParsedPacket& y) {
  return x.ether_type == y.ether_type && x.vlan_tci[0] == y.vlan_tci[0] &&
         x.vlan_tci[1] == y.vlan_tci[1] && x.vlan_count == y.vlan_count && x.l3 == y.l3 &&
         x.flags == y.flags && x.l3_offset == y.l3_offset && x.ip_version == y.ip_version &&
         x.l4_proto == y.l4_proto && x.ttl == y.ttl && x.ipv6_ext_count == y.ipv6_ext_count &&
         x.src == y.src && x.dst == y.dst && x.l4_offset == y.l4_offset &&
         x.src_port == y.src_port && x.dst_port == y.dst_port && x.tcp_flags == y.tcp_flags &&
         x.icmp_type == y.icmp_type && x.icmp_code == y.icmp_code && x.tcp_seq == y.tcp_seq &&
         x.tcp_ack == y.tcp_ack && x.payload_offset == y.payload_offset &&
         x.payload_len == y.payload_len;
}

// Invariants of a successful parse of a frame with `len` contiguous and `wire` total bytes.
void check_success(const ParsedPacket& p, std::uint64_t len, std::uint64_t wire) {
  check(p.vlan_count <= kMaxVlanTags);
  check(p.l3 != L3::kNone);
  check(p.l3_offset == 14 + 4u * p.vlan_count);
  check(p.l3_offset <= len);
  const bool ip = p.l3 == L3::kIpv4 || p.l3 == L3::kIpv6;
  if (!ip) {
    check(p.flags == 0 && p.payload_len == 0 && p.ip_version == 0);
    return;
  }
  check(p.ip_version == (p.l3 == L3::kIpv4 ? 4 : 6));
  const std::uint64_t min_l3 = p.l3 == L3::kIpv4 ? 20 : 40;
  check(p.l3_offset + min_l3 <= len);
  check(p.payload_offset >= p.l3_offset + min_l3);
  check(std::uint64_t{p.payload_offset} + p.payload_len <= wire);
  check(p.has(kFlagIpv6Ext) == (p.ipv6_ext_count != 0));
  check(p.ipv6_ext_count <= kMaxIpv6ExtHeaders);
  check(p.l3 == L3::kIpv6 || p.ipv6_ext_count == 0);
  check(p.l3 == L3::kIpv4 || !p.has(kFlagIpOptions));
  if (p.has(kFlagLaterFragment)) check(p.has(kFlagFragment) && !p.has(kFlagHasL4));
  if (!p.has(kFlagHasL4)) {
    check(p.l4_offset == 0 && p.src_port == 0 && p.dst_port == 0 && p.tcp_flags == 0);
    return;
  }
  // The L4 header lies in the contiguous bytes, before the payload, which it bounds from below.
  check(p.l4_offset >= p.l3_offset + min_l3);
  check(p.payload_offset >= p.l4_offset);
  std::uint64_t min_l4 = 0;
  switch (p.l4_proto) {
    case kProtoTcp: min_l4 = 20; break;
    case kProtoUdp: min_l4 = 8; break;
    default: min_l4 = 4; break;
  }
  check(p.l4_proto == kProtoTcp || p.l4_proto == kProtoUdp ||
        p.l4_proto == (p.l3 == L3::kIpv4 ? kProtoIcmp : kProtoIcmpv6));
  check(p.l4_offset + min_l4 <= len);
  if (p.l4_proto == kProtoTcp) check(p.payload_offset - p.l4_offset >= 20 && p.payload_offset <= len);
  if (p.l4_proto == kProtoUdp) check(p.payload_offset == p.l4_offset + 8u);
  if (p.l4_proto != kProtoTcp && p.l4_proto != kProtoUdp) {
    check(p.src_port == 0 && p.dst_port == 0);
    check(p.payload_offset - p.l4_offset >= 4 && p.payload_offset - p.l4_offset <= 8);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ParsedPacket a, b, c;

  const DropReason ra = parse_copy(data, size, size, a);
  check(ra < TCPR_DROP__COUNT);
  if (ra == TCPR_DROP_NONE) check_success(a, size, size);

  // Room on the wire past the contiguous bytes: 1 .. 16321 bytes, chosen by the input.
  const std::size_t extra = 1 + (size ? data[size - 1] * 64u : 0);
  const DropReason rb = parse_copy(data, size, size + extra, b);
  check(rb < TCPR_DROP__COUNT);
  if (rb == TCPR_DROP_NONE) check_success(b, size, size + extra);
  if (ra == TCPR_DROP_NONE) check(rb == TCPR_DROP_NONE && same(a, b));

  // A prefix contiguous, the rest "in another segment"; the cut is chosen by the input.
  const std::size_t cut = size ? (data[0] * 257u + size / 2) % (size + 1) : 0;
  const DropReason rc = parse_copy(data, cut, size, c);
  check(rc < TCPR_DROP__COUNT);
  if (rc == TCPR_DROP_NONE) {
    check_success(c, cut, size);
    check(ra == TCPR_DROP_NONE && same(a, c));
  }
  return 0;
}
