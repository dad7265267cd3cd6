// Unit tests of the L2–L4 parser (src/packet/parser.cpp). No EAL, no root.
//
// Frames are built byte by byte; every expected offset, length and field is worked out by hand
// from the header layouts (IEEE 802.1Q, RFC 826, 791, 8200, 4302, 9293, 768, 792, 4443), never
// taken from the parser's output. Each frame is parsed from a heap buffer of exactly its
// contiguous length, so a sanitizer build catches any read past it.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tcpr/packet/parser.hpp"

namespace Catch {
template <>
struct StringMaker<tcpr_drop_reason> {
  static std::string convert(tcpr_drop_reason r) { return std::string(tcpr::drop_reason_name(r)); }
};
}  // namespace Catch

namespace {

using namespace tcpr::packet;
using tcpr::DropReason;

constexpr std::uint16_t kIpv4 = 0x0800;
constexpr std::uint16_t kArp = 0x0806;
constexpr std::uint16_t kIpv6 = 0x86dd;
constexpr std::uint16_t kCTag = 0x8100;
constexpr std::uint16_t kSTag = 0x88a8;

constexpr std::array<std::uint8_t, 4> kV4Src = {10, 0, 0, 1};
constexpr std::array<std::uint8_t, 4> kV4Dst = {10, 0, 0, 2};
constexpr std::array<std::uint8_t, 16> kV6Src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                                 0,    0,    0,    0,    0, 0, 0, 1};
constexpr std::array<std::uint8_t, 16> kV6Dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                                 0,    0,    0,    0,    0, 0, 0, 2};

struct Frame {
  std::vector<std::uint8_t> b;

  Frame& u8(std::uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Frame& be16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(v & 0xff); }
  Frame& be32(std::uint32_t v) {
    return be16(static_cast<std::uint16_t>(v >> 16)).be16(v & 0xffff);
  }
  template <typename Range>
  Frame& raw(const Range& r) {
    b.insert(b.end(), std::begin(r), std::end(r));
    return *this;
  }
  Frame& raw(std::initializer_list<std::uint8_t> r) {
    b.insert(b.end(), r);
    return *this;
  }
  Frame& fill(std::size_t n, std::uint8_t v = 0) {
    b.insert(b.end(), n, v);
    return *this;
  }
  // Ethernet minimum frame (without FCS) is 60 bytes; NICs pad shorter frames with zeros.
  Frame& pad_to(std::size_t n) { return fill(b.size() < n ? n - b.size() : 0); }
};

// 14 bytes.
Frame& eth(Frame& f, std::uint16_t type) {
  return f.raw({0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01}).be16(type);
}

// 4 bytes: TCI, then the EtherType of what follows.
Frame& vlan(Frame& f, std::uint16_t tci, std::uint16_t next) { return f.be16(tci).be16(next); }

struct Ipv4Fields {
  std::uint8_t version_ihl = 0x45;
  std::uint16_t total = 0;
  std::uint16_t frag = 0;  // DF 0x4000 | MF 0x2000 | offset in 8-octet units
  std::uint8_t ttl = 64;
  std::uint8_t proto = 0;
};

// 20 bytes plus (IHL - 5) words of NOP options. Checksum 0: the parser does not verify it.
Frame& ipv4(Frame& f, const Ipv4Fields& h) {
  f.u8(h.version_ihl).u8(0).be16(h.total).be16(0x1234).be16(h.frag).u8(h.ttl).u8(h.proto).be16(0);
  f.raw(kV4Src).raw(kV4Dst);
  const int words = (h.version_ihl & 0x0f) - 5;
  if (words > 0) f.fill(static_cast<std::size_t>(words) * 4, 0x01);
  return f;
}

// 40 bytes.
Frame& ipv6(Frame& f, std::uint8_t next, std::uint16_t payload_len, std::uint8_t first = 0x60) {
  return f.u8(first).raw({0, 0, 0}).be16(payload_len).u8(next).u8(64).raw(kV6Src).raw(kV6Dst);
}

struct TcpFields {
  std::uint16_t sport = 40000;
  std::uint16_t dport = 80;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t offset_byte = 0x50;  // data offset in the high nibble, reserved bits below
  std::uint8_t flags = kTcpAck;
};

// 20 bytes.
Frame& tcp(Frame& f, const TcpFields& t) {
  return f.be16(t.sport).be16(t.dport).be32(t.seq).be32(t.ack).u8(t.offset_byte).u8(t.flags)
      .be16(0xffff).be16(0).be16(0);
}

// 8 bytes.
Frame& udp(Frame& f, std::uint16_t sport, std::uint16_t dport, std::uint16_t len) {
  return f.be16(sport).be16(dport).be16(len).be16(0);
}

// 8 bytes: type, code, checksum, rest of header.
Frame& icmp(Frame& f, std::uint8_t type, std::uint8_t code, std::uint32_t rest) {
  return f.u8(type).u8(code).be16(0).be32(rest);
}

// Generic 8-octet-unit extension header (hop-by-hop, routing, destination options): next header,
// hdr ext len, then (hdrlen + 1) * 8 - 2 bytes of PadN-like filler.
Frame& ext(Frame& f, std::uint8_t next, std::uint8_t hdrlen) {
  return f.u8(next).u8(hdrlen).fill((hdrlen + 1u) * 8u - 2u, 0);
}

// IPv6 fragment header, 8 bytes.
Frame& frag6(Frame& f, std::uint8_t next, std::uint16_t offset_units, bool more) {
  return f.u8(next).u8(0).be16(static_cast<std::uint16_t>(offset_units << 3 | (more ? 1 : 0)))
      .be32(0xdeadbeef);
}

constexpr std::size_t kAll = ~std::size_t{0};

// Copies the first `len` bytes (all by default) into an exactly sized heap buffer and parses them
// as a frame of wire_len bytes (the whole frame by default).
DropReason parse_frame(const std::vector<std::uint8_t>& frame, ParsedPacket& p,
                       std::size_t len = kAll, std::size_t wire_len = kAll) {
  if (len == kAll) len = frame.size();
  if (wire_len == kAll) wire_len = frame.size();
  const std::vector<std::uint8_t> buf(frame.begin(),
                                      frame.begin() + static_cast<std::ptrdiff_t>(len));
  PacketView v;
  v.data = buf.data();
  v.len = static_cast<std::uint32_t>(len);
  v.wire_len = static_cast<std::uint32_t>(wire_len);
  return parse(v, p);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// L2

TEST_CASE("parser: empty and short frames are L2_TRUNCATED", "[parser][l2]") {
  ParsedPacket p;
  PacketView empty;  // data == nullptr, len 0
  CHECK(parse(empty, p) == TCPR_DROP_L2_TRUNCATED);

  Frame f;
  eth(f, kIpv4);
  CHECK(parse_frame(f.b, p, 0) == TCPR_DROP_L2_TRUNCATED);
  CHECK(parse_frame(f.b, p, 13) == TCPR_DROP_L2_TRUNCATED);
  // 14 bytes is a whole Ethernet header; what is missing then is the IPv4 header.
  CHECK(parse_frame(f.b, p, 14) == TCPR_DROP_IPV4_TRUNCATED);
}

TEST_CASE("parser: unknown EtherType passes as kOther", "[parser][l2]") {
  Frame f;
  eth(f, 0x88cc).fill(46);  // LLDP
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.l3 == L3::kOther);
  CHECK(p.ether_type == 0x88cc);
  CHECK(p.l3_offset == 14);
  CHECK(p.vlan_count == 0);
  CHECK(p.flags == 0);
  CHECK(p.payload_len == 0);

  Frame bare;
  eth(bare, 0x88cc);  // exactly 14 bytes
  CHECK(parse_frame(bare.b, p) == TCPR_DROP_NONE);
  CHECK(p.l3 == L3::kOther);
}

TEST_CASE("parser: one 802.1Q tag", "[parser][vlan]") {
  Frame f;
  eth(f, kCTag);
  vlan(f, 0xa064, kIpv4);  // PCP 5, DEI 0, VID 100
  ipv4(f, {.total = 28, .proto = kProtoUdp});
  udp(f, 1000, 2000, 8);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.vlan_count == 1);
  CHECK(p.vlan_tci[0] == 0xa064);
  CHECK(p.ether_type == kIpv4);
  CHECK(p.l3 == L3::kIpv4);
  CHECK(p.l3_offset == 18);
  CHECK(p.l4_offset == 38);
  CHECK(p.src_port == 1000);
  CHECK(p.dst_port == 2000);
  CHECK(p.payload_offset == 46);
  CHECK(p.payload_len == 0);
}

TEST_CASE("parser: QinQ, both tags kept outer first, in either TPID order", "[parser][vlan]") {
  std::uint16_t outer = 0;
  std::uint16_t inner = 0;
  SECTION("802.1ad S-tag then 802.1Q C-tag") {
    outer = kSTag;
    inner = kCTag;
  }
  SECTION("802.1Q then 802.1ad") {
    outer = kCTag;
    inner = kSTag;
  }
  SECTION("two 802.1Q tags") {
    outer = kCTag;
    inner = kCTag;
  }
  Frame f;
  eth(f, outer);
  vlan(f, 0x0064, inner);  // VID 100
  vlan(f, 0x30c8, kIpv6);  // PCP 1, VID 200
  ipv6(f, kProtoTcp, 20);
  tcp(f, {.sport = 1, .dport = 2});
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.vlan_count == 2);
  CHECK(p.vlan_tci[0] == 0x0064);
  CHECK(p.vlan_tci[1] == 0x30c8);
  CHECK(p.ether_type == kIpv6);
  CHECK(p.l3_offset == 22);
  CHECK(p.l4_offset == 62);  // 22 + 40
  CHECK(p.payload_offset == 82);
  CHECK(p.payload_len == 0);
}

TEST_CASE("parser: a third VLAN tag is VLAN_TOO_DEEP", "[parser][vlan]") {
  Frame f;
  eth(f, kSTag);
  vlan(f, 1, kCTag);
  vlan(f, 2, kCTag);
  ParsedPacket p;
  SECTION("third tag's TPID seen, its 4 bytes absent") {
    CHECK(parse_frame(f.b, p) == TCPR_DROP_VLAN_TOO_DEEP);
  }
  SECTION("whole third tag and an IPv4 packet present") {
    vlan(f, 3, kIpv4);
    ipv4(f, {.total = 20, .proto = 253});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_VLAN_TOO_DEEP);
  }
}

TEST_CASE("parser: a VLAN tag without its 4 bytes is VLAN_TRUNCATED", "[parser][vlan]") {
  ParsedPacket p;
  Frame one;
  eth(one, kCTag).raw({0x00, 0x64, 0x08});  // 17 bytes: TCI and half the EtherType
  CHECK(parse_frame(one.b, p) == TCPR_DROP_VLAN_TRUNCATED);

  Frame two;
  eth(two, kSTag);
  vlan(two, 0x0064, kCTag).raw({0x00, 0xc8});  // second tag: TCI only
  CHECK(parse_frame(two.b, p) == TCPR_DROP_VLAN_TRUNCATED);
}

// ---------------------------------------------------------------------------------------------
// ARP

TEST_CASE("parser: ARP request is recognised; 27 bytes of body is ARP_TRUNCATED", "[parser][arp]") {
  Frame f;
  eth(f, kArp);
  // htype 1 (Ethernet), ptype IPv4, hlen 6, plen 4, op 1 (request), sha, spa, tha, tpa
  f.be16(1).be16(0x0800).u8(6).u8(4).be16(1);
  f.raw({0x02, 0, 0, 0, 0, 0x01}).raw(kV4Src).fill(6).raw(kV4Dst);
  REQUIRE(f.b.size() == 42);
  ParsedPacket p;
  SECTION("exact") {
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.l3 == L3::kArp);
    CHECK(p.ether_type == kArp);
    CHECK(p.l3_offset == 14);
    CHECK(p.flags == 0);
  }
  SECTION("padded to 60 bytes") {
    f.pad_to(60);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.l3 == L3::kArp);
  }
  SECTION("truncated") { CHECK(parse_frame(f.b, p, 41) == TCPR_DROP_ARP_TRUNCATED); }
  SECTION("body on the wire but not contiguous") {
    f.pad_to(60);
    CHECK(parse_frame(f.b, p, 34) == TCPR_DROP_ARP_TRUNCATED);
  }
}

TEST_CASE("parser: ARP behind a VLAN tag", "[parser][arp][vlan]") {
  Frame f;
  eth(f, kCTag);
  vlan(f, 7, kArp).fill(28);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.l3 == L3::kArp);
  CHECK(p.l3_offset == 18);
  CHECK(parse_frame(f.b, p, 18 + 27) == TCPR_DROP_ARP_TRUNCATED);
}

// ---------------------------------------------------------------------------------------------
// IPv4

TEST_CASE("parser: TCP over IPv4, every field from a hand-written frame", "[parser][ipv4][tcp]") {
  const std::vector<std::uint8_t> frame = {
      // Ethernet II: dst, src, EtherType IPv4
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
      // IPv4: version 4 IHL 5, TOS, total length 45, id, DF, TTL 64, proto 6, checksum,
      // 192.168.1.10 -> 93.184.216.34
      0x45, 0x00, 0x00, 0x2d, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0xc0, 0xa8, 0x01,
      0x0a, 0x5d, 0xb8, 0xd8, 0x22,
      // TCP: 50000 -> 443, seq 0x01020304, ack 0xa0b0c0d0, data offset 5, PSH|ACK, window,
      // checksum, urgent pointer
      0xc3, 0x50, 0x01, 0xbb, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0, 0x50, 0x18, 0xfa,
      0xf0, 0x00, 0x00, 0x00, 0x00,
      // "hello"
      0x68, 0x65, 0x6c, 0x6c, 0x6f};
  const std::uint8_t src[4] = {192, 168, 1, 10};
  const std::uint8_t dst[4] = {93, 184, 216, 34};
  ParsedPacket p;
  REQUIRE(parse_frame(frame, p) == TCPR_DROP_NONE);
  CHECK(p.ether_type == kIpv4);
  CHECK(p.vlan_count == 0);
  CHECK(p.l3 == L3::kIpv4);
  CHECK(p.l3_offset == 14);
  CHECK(p.ip_version == 4);
  CHECK(p.ttl == 64);
  CHECK(p.l4_proto == kProtoTcp);
  CHECK(p.src == IpAddr::from_v4(src));
  CHECK(p.dst == IpAddr::from_v4(dst));
  CHECK(p.src.is_v4());
  CHECK(p.src.b[10] == 0xff);
  CHECK(p.src.b[12] == 192);
  CHECK(p.dst.b[15] == 34);
  CHECK(p.flags == kFlagHasL4);  // DF alone does not make a fragment
  CHECK(p.l4_offset == 34);
  CHECK(p.src_port == 50000);
  CHECK(p.dst_port == 443);
  CHECK(p.tcp_seq == 0x01020304u);
  CHECK(p.tcp_ack == 0xa0b0c0d0u);
  CHECK(p.tcp_flags == (kTcpPsh | kTcpAck));
  CHECK(p.icmp_type == 0);
  CHECK(p.payload_offset == 54);
  CHECK(p.payload_len == 5);
}

TEST_CASE("parser: IPv4 options are skipped and flagged", "[parser][ipv4]") {
  ParsedPacket p;
  SECTION("IHL 6, UDP") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.version_ihl = 0x46, .total = 24 + 8 + 3, .proto = kProtoUdp});
    udp(f, 53, 53, 11).raw({1, 2, 3});
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.flags == (kFlagIpOptions | kFlagHasL4));
    CHECK(p.l4_offset == 38);
    CHECK(p.payload_offset == 46);
    CHECK(p.payload_len == 3);
  }
  SECTION("IHL 15 (60-byte header), TCP") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.version_ihl = 0x4f, .total = 60 + 20, .proto = kProtoTcp});
    tcp(f, {.sport = 7, .dport = 9});
    REQUIRE(f.b.size() == 94);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.has(kFlagIpOptions));
    CHECK(p.l4_offset == 74);
    CHECK(p.src_port == 7);
    CHECK(p.dst_port == 9);
    CHECK(p.payload_offset == 94);
    CHECK(p.payload_len == 0);
  }
}

TEST_CASE("parser: IPv4 first fragment has L4; UDP length covers the whole datagram",
          "[parser][ipv4][fragment]") {
  Frame f;
  eth(f, kIpv4);
  // MF, offset 0; this fragment carries the UDP header and 8 of the 1000 datagram bytes.
  ipv4(f, {.total = 20 + 16, .frag = 0x2000, .proto = kProtoUdp});
  udp(f, 4000, 5000, 1008).fill(8, 0xab);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.flags == (kFlagFragment | kFlagHasL4));
  CHECK(p.l4_offset == 34);
  CHECK(p.src_port == 4000);
  CHECK(p.dst_port == 5000);
  CHECK(p.payload_offset == 42);
  CHECK(p.payload_len == 8);
}

TEST_CASE("parser: IPv4 later fragment is flagged and not parsed as L4", "[parser][ipv4][fragment]") {
  std::uint16_t frag = 0;
  SECTION("last fragment: offset 185 (1480 bytes)") { frag = 0x00b9; }
  SECTION("middle fragment: MF and offset 185") { frag = 0x20b9; }
  SECTION("highest offset bit alone: offset 4096 (32768 bytes)") { frag = 0x1000; }
  SECTION("offset 1 with DF") { frag = 0x4001; }
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 20 + 12, .frag = frag, .proto = kProtoUdp});
  udp(f, 1, 2, 0).fill(4);  // would be UDP_BAD_LENGTH if taken as a UDP header
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.flags == (kFlagFragment | kFlagLaterFragment));
  CHECK(p.l4_proto == kProtoUdp);
  CHECK(p.src_port == 0);
  CHECK(p.dst_port == 0);
  CHECK(p.l4_offset == 0);
  CHECK(p.payload_offset == 34);
  CHECK(p.payload_len == 12);
}

TEST_CASE("parser: DF and the reserved flag bit do not make a fragment", "[parser][ipv4][fragment]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 28, .frag = 0xc000, .proto = kProtoUdp});  // reserved bit and DF
  udp(f, 1, 2, 8);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.flags == kFlagHasL4);
}

TEST_CASE("parser: malformed IPv4 headers", "[parser][ipv4]") {
  ParsedPacket p;
  SECTION("header cut at 19 bytes") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 20, .proto = 253});
    CHECK(parse_frame(f.b, p, 14 + 19) == TCPR_DROP_IPV4_TRUNCATED);
  }
  SECTION("version 6 under EtherType IPv4") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.version_ihl = 0x65, .total = 20, .proto = 253});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV4_BAD_VERSION);
  }
  SECTION("IHL 4") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.version_ihl = 0x44, .total = 20, .proto = 253});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV4_BAD_IHL);
  }
  SECTION("IHL 0") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.version_ihl = 0x40, .total = 20, .proto = 253});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV4_BAD_IHL);
  }
  SECTION("IHL 15 but only 40 header bytes contiguous") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.version_ihl = 0x4f, .total = 60, .proto = 253});
    CHECK(parse_frame(f.b, p, 14 + 40) == TCPR_DROP_IPV4_BAD_IHL);
  }
  SECTION("total length 19 < IHL*4") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 19, .proto = 253});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV4_BAD_TOTAL_LENGTH);
  }
  SECTION("total length 20 < IHL*4 = 24") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.version_ihl = 0x46, .total = 20, .proto = 253});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV4_BAD_TOTAL_LENGTH);
  }
  SECTION("total length one past the frame") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 27, .proto = 253}).fill(6);  // frame 40 = 14 + 26
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV4_BAD_TOTAL_LENGTH);
    f.fill(1);  // now exactly 14 + 27
    CHECK(parse_frame(f.b, p) == TCPR_DROP_NONE);
  }
  SECTION("total length past wire_len of a segmented frame") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 1500, .proto = kProtoTcp});
    tcp(f, {});
    CHECK(parse_frame(f.b, p, f.b.size(), 14 + 1499) == TCPR_DROP_IPV4_BAD_TOTAL_LENGTH);
  }
}

TEST_CASE("parser: IPv4 with an unknown protocol has L3 and no L4", "[parser][ipv4]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 30, .ttl = 3, .proto = 47}).fill(10, 0xee).pad_to(60);  // GRE
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.l3 == L3::kIpv4);
  CHECK(p.l4_proto == 47);
  CHECK(p.ttl == 3);
  CHECK(p.flags == 0);
  CHECK(p.l4_offset == 0);
  CHECK(p.payload_offset == 34);
  CHECK(p.payload_len == 10);  // the 16 padding bytes are not payload
}

TEST_CASE("parser: Ethernet padding is not payload", "[parser][ipv4]") {
  ParsedPacket p;
  SECTION("UDP with 2 payload bytes in a 60-byte frame") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 30, .proto = kProtoUdp});
    udp(f, 9, 9, 10).raw({'h', 'i'}).pad_to(60);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.payload_offset == 42);
    CHECK(p.payload_len == 2);
  }
  SECTION("bare TCP ACK in a 60-byte frame") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 40, .proto = kProtoTcp});
    tcp(f, {}).pad_to(60);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.payload_offset == 54);
    CHECK(p.payload_len == 0);
  }
  SECTION("UDP length shorter than the IP payload: trailing bytes are not payload either") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 20 + 12, .proto = kProtoUdp});
    udp(f, 9, 9, 10).raw({1, 2, 3, 4});
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.payload_len == 2);
  }
}

TEST_CASE("parser: segmented frame with the headers in the first bytes", "[parser][segmented]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 1500, .proto = kProtoTcp});
  tcp(f, {.sport = 443, .dport = 50000, .seq = 7, .ack = 9});
  ParsedPacket p;
  // 54 contiguous bytes of a 1514-byte frame: the payload lies in later segments.
  REQUIRE(parse_frame(f.b, p, 54, 1514) == TCPR_DROP_NONE);
  CHECK(p.flags == kFlagHasL4);
  CHECK(p.src_port == 443);
  CHECK(p.tcp_seq == 7);
  CHECK(p.payload_offset == 54);
  CHECK(p.payload_len == 1460);
}

// ---------------------------------------------------------------------------------------------
// IPv6

TEST_CASE("parser: plain IPv6 with TCP", "[parser][ipv6]") {
  Frame f;
  eth(f, kIpv6);
  ipv6(f, kProtoTcp, 23);
  tcp(f, {.sport = 22, .dport = 61000, .seq = 100, .ack = 200, .flags = kTcpSyn | kTcpAck})
      .raw({'a', 'b', 'c'});
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.l3 == L3::kIpv6);
  CHECK(p.ether_type == kIpv6);
  CHECK(p.ip_version == 6);
  CHECK(p.ttl == 64);
  CHECK(p.src == IpAddr::from_v6(kV6Src.data()));
  CHECK(p.dst == IpAddr::from_v6(kV6Dst.data()));
  CHECK_FALSE(p.src.is_v4());
  CHECK(p.l4_proto == kProtoTcp);
  CHECK(p.ipv6_ext_count == 0);
  CHECK(p.flags == kFlagHasL4);
  CHECK(p.l4_offset == 54);
  CHECK(p.src_port == 22);
  CHECK(p.dst_port == 61000);
  CHECK(p.tcp_flags == (kTcpSyn | kTcpAck));
  CHECK(p.tcp_seq == 100);
  CHECK(p.tcp_ack == 200);
  CHECK(p.payload_offset == 74);
  CHECK(p.payload_len == 3);
}

TEST_CASE("parser: each IPv6 extension header kind is walked", "[parser][ipv6][ext]") {
  ParsedPacket p;
  SECTION("hop-by-hop, 8 bytes, then UDP") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 0, 8 + 10);
    ext(f, kProtoUdp, 0);
    udp(f, 546, 547, 10).raw({1, 2});
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.ipv6_ext_count == 1);
    CHECK(p.flags == (kFlagIpv6Ext | kFlagHasL4));
    CHECK(p.l4_proto == kProtoUdp);
    CHECK(p.l4_offset == 62);
    CHECK(p.src_port == 546);
    CHECK(p.payload_offset == 70);
    CHECK(p.payload_len == 2);
  }
  SECTION("routing, hdr ext len 2 (24 bytes), then TCP") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 43, 24 + 20);
    ext(f, kProtoTcp, 2);
    tcp(f, {.sport = 1234, .dport = 80});
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.ipv6_ext_count == 1);
    CHECK(p.l4_offset == 78);
    CHECK(p.src_port == 1234);
    CHECK(p.payload_offset == 98);
    CHECK(p.payload_len == 0);
  }
  SECTION("destination options, hdr ext len 1 (16 bytes), then ICMPv6") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 60, 16 + 8);
    ext(f, kProtoIcmpv6, 1);
    icmp(f, 128, 0, 0x00010002);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.ipv6_ext_count == 1);
    CHECK(p.l4_proto == kProtoIcmpv6);
    CHECK(p.l4_offset == 70);
    CHECK(p.icmp_type == 128);
    CHECK(p.payload_offset == 78);
    CHECK(p.payload_len == 0);
  }
  SECTION("AH, payload len 4 ((4 + 2) * 4 = 24 bytes, 96-bit ICV), then TCP") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 51, 24 + 20);
    // next, payload len, reserved, SPI, sequence, 12-byte ICV
    f.u8(kProtoTcp).u8(4).be16(0).be32(0x100).be32(1).fill(12, 0x5a);
    tcp(f, {.sport = 5, .dport = 6});
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.ipv6_ext_count == 1);
    CHECK(p.l4_offset == 78);
    CHECK(p.src_port == 5);
    CHECK(p.payload_offset == 98);
  }
  SECTION("fragment, first (offset 0, M 1): L4 parsed, UDP length is the datagram's") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 44, 8 + 16);
    frag6(f, kProtoUdp, 0, true);
    udp(f, 7000, 8000, 1000).fill(8);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.flags == (kFlagFragment | kFlagIpv6Ext | kFlagHasL4));
    CHECK(p.ipv6_ext_count == 1);
    CHECK(p.l4_offset == 62);
    CHECK(p.dst_port == 8000);
    CHECK(p.payload_offset == 70);
    CHECK(p.payload_len == 8);
  }
  SECTION("fragment, later (offset 100): no L4, payload is the fragment data") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 44, 8 + 16);
    frag6(f, kProtoTcp, 100, true);
    f.fill(16, 0xcc);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.flags == (kFlagFragment | kFlagLaterFragment | kFlagIpv6Ext));
    CHECK(p.ipv6_ext_count == 1);
    CHECK(p.l4_proto == kProtoTcp);
    CHECK(p.src_port == 0);
    CHECK(p.payload_offset == 62);
    CHECK(p.payload_len == 16);
  }
  SECTION("atomic fragment (offset 0, M 0) is a whole datagram: UDP length checked") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 44, 8 + 16);
    frag6(f, kProtoUdp, 0, false);
    udp(f, 7000, 8000, 1000).fill(8);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_UDP_BAD_LENGTH);
  }
}

TEST_CASE("parser: IPv6 extension header chain length", "[parser][ipv6][ext]") {
  // Hop-by-hop then n - 1 destination options, 8 bytes each, then UDP.
  const auto chain = [](unsigned n) {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 0, static_cast<std::uint16_t>(n * 8 + 8));
    for (unsigned i = 0; i < n; ++i) ext(f, i + 1 < n ? 60 : kProtoUdp, 0);
    udp(f, 1, 2, 8);
    return f;
  };
  ParsedPacket p;
  const Frame eight = chain(8);
  REQUIRE(parse_frame(eight.b, p) == TCPR_DROP_NONE);
  CHECK(p.ipv6_ext_count == 8);
  CHECK(p.l4_offset == 118);  // 54 + 8 * 8
  CHECK(p.has(kFlagHasL4));
  CHECK(p.payload_offset == 126);

  const Frame nine = chain(9);
  CHECK(parse_frame(nine.b, p) == TCPR_DROP_IPV6_EXT_CHAIN_TOO_LONG);
}

TEST_CASE("parser: truncated IPv6 extension headers", "[parser][ipv6][ext]") {
  ParsedPacket p;
  SECTION("hop-by-hop of 16 bytes in an 8-byte payload, padding behind it") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 0, 8);
    ext(f, kProtoUdp, 1);  // 16 bytes in the frame, only 8 of them in the IP payload
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV6_EXT_TRUNCATED);
  }
  SECTION("payload length 0 and a hop-by-hop next header") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 0, 0).fill(8);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV6_EXT_TRUNCATED);
  }
  SECTION("routing header past the contiguous bytes of a segmented frame") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 43, 1000);
    ext(f, kProtoTcp, 1);
    CHECK(parse_frame(f.b, p, 54 + 8, 1054) == TCPR_DROP_IPV6_EXT_TRUNCATED);
    CHECK(parse_frame(f.b, p, 54 + 4, 1054) == TCPR_DROP_IPV6_EXT_TRUNCATED);
  }
  SECTION("AH longer than the payload") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 51, 16);
    f.u8(kProtoTcp).u8(4).fill(22);  // claims 24 bytes
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV6_EXT_TRUNCATED);
  }
}

TEST_CASE("parser: IPv6 upper layers the parser does not walk", "[parser][ipv6]") {
  ParsedPacket p;
  SECTION("No Next Header (59)") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 59, 4).fill(4, 0xff);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.l3 == L3::kIpv6);
    CHECK(p.l4_proto == 59);
    CHECK(p.flags == 0);
    CHECK(p.payload_offset == 54);
    CHECK(p.payload_len == 4);
  }
  SECTION("ESP (50) after hop-by-hop ends the walk") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 0, 8 + 16);
    ext(f, 50, 0).fill(16, 0x77);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.l4_proto == 50);
    CHECK(p.ipv6_ext_count == 1);
    CHECK(p.flags == kFlagIpv6Ext);
    CHECK(p.payload_offset == 62);
    CHECK(p.payload_len == 16);
  }
  SECTION("ICMP (1) is not ICMPv6: no L4") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, kProtoIcmp, 8);
    icmp(f, 8, 0, 0);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK_FALSE(p.has(kFlagHasL4));
    CHECK(p.payload_offset == 54);
    CHECK(p.payload_len == 8);
  }
}

TEST_CASE("parser: malformed IPv6 headers", "[parser][ipv6]") {
  ParsedPacket p;
  SECTION("header cut at 39 bytes") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 59, 0);
    CHECK(parse_frame(f.b, p, 14 + 39) == TCPR_DROP_IPV6_TRUNCATED);
  }
  SECTION("version 4 under EtherType IPv6") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 59, 0, 0x40);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV6_BAD_VERSION);
  }
  SECTION("payload length one past the frame") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, 59, 21).fill(20);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_IPV6_BAD_PAYLOAD_LENGTH);
    CHECK(parse_frame(f.b, p, f.b.size(), f.b.size() + 1) == TCPR_DROP_NONE);
  }
}

// ---------------------------------------------------------------------------------------------
// TCP

TEST_CASE("parser: TCP options are skipped by the data offset", "[parser][tcp]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 20 + 32, .proto = kProtoTcp});
  tcp(f, {.seq = 0xfffffffe, .offset_byte = 0x80, .flags = kTcpSyn});
  // MSS 1460, SACK permitted, NOP, window scale 7, NOP, NOP: 12 bytes
  f.raw({0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07, 0x01, 0x01});
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.tcp_flags == kTcpSyn);
  CHECK(p.tcp_seq == 0xfffffffeu);
  CHECK(p.tcp_ack == 0);
  CHECK(p.l4_offset == 34);
  CHECK(p.payload_offset == 66);
  CHECK(p.payload_len == 0);
}

TEST_CASE("parser: TCP flags are the low 8 bits; reserved bits do not disturb data offset",
          "[parser][tcp]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 20 + 20 + 1, .proto = kProtoTcp});
  tcp(f, {.offset_byte = 0x5f, .flags = 0xff}).u8(0);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.tcp_flags == 0xff);
  CHECK(p.payload_offset == 54);
  CHECK(p.payload_len == 1);
}

TEST_CASE("parser: malformed TCP headers", "[parser][tcp]") {
  ParsedPacket p;
  SECTION("data offset 4") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 40, .proto = kProtoTcp});
    tcp(f, {.offset_byte = 0x40});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_TCP_BAD_DATA_OFFSET);
  }
  SECTION("data offset 0") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 40, .proto = kProtoTcp});
    tcp(f, {.offset_byte = 0x00});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_TCP_BAD_DATA_OFFSET);
  }
  SECTION("data offset 7 (28 bytes) in a 24-byte IP payload, all bytes contiguous") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 20 + 24, .proto = kProtoTcp});
    tcp(f, {.offset_byte = 0x70}).fill(4, 0x01).pad_to(64);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_TCP_BAD_DATA_OFFSET);
  }
  SECTION("data offset 7 over IPv6, one byte past the payload") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, kProtoTcp, 27);
    tcp(f, {.offset_byte = 0x70}).fill(8, 0x01);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_TCP_BAD_DATA_OFFSET);
  }
  SECTION("fixed header not in the IP payload (only padding behind it)") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 20 + 10, .proto = kProtoTcp});
    tcp(f, {}).pad_to(60);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_TCP_TRUNCATED);
  }
  SECTION("fixed header past the contiguous bytes") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 1500, .proto = kProtoTcp});
    tcp(f, {});
    CHECK(parse_frame(f.b, p, 34 + 19, 1514) == TCPR_DROP_TCP_TRUNCATED);
  }
  SECTION("options past the contiguous bytes") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 1500, .proto = kProtoTcp});
    tcp(f, {.offset_byte = 0x80}).fill(12, 0x01);
    CHECK(parse_frame(f.b, p, 34 + 24, 1514) == TCPR_DROP_TCP_TRUNCATED);
    CHECK(parse_frame(f.b, p, 34 + 32, 1514) == TCPR_DROP_NONE);
  }
}

// ---------------------------------------------------------------------------------------------
// UDP

TEST_CASE("parser: UDP over IPv4 and IPv6", "[parser][udp]") {
  ParsedPacket p;
  SECTION("IPv4") {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = 20 + 12, .proto = kProtoUdp});
    udp(f, 5353, 53, 12).raw({'a', 'b', 'c', 'd'});
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.flags == kFlagHasL4);
    CHECK(p.l4_proto == kProtoUdp);
    CHECK(p.l4_offset == 34);
    CHECK(p.src_port == 5353);
    CHECK(p.dst_port == 53);
    CHECK(p.payload_offset == 42);
    CHECK(p.payload_len == 4);
  }
  SECTION("IPv6") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, kProtoUdp, 8 + 5);
    udp(f, 443, 51000, 13).fill(5, 0x11);
    REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
    CHECK(p.l4_offset == 54);
    CHECK(p.src_port == 443);
    CHECK(p.dst_port == 51000);
    CHECK(p.payload_offset == 62);
    CHECK(p.payload_len == 5);
  }
}

TEST_CASE("parser: malformed UDP headers", "[parser][udp]") {
  ParsedPacket p;
  const auto v4 = [](std::uint16_t total, std::uint16_t udp_len) {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = total, .proto = kProtoUdp});
    udp(f, 1, 2, udp_len).fill(4);
    return f;
  };
  SECTION("length 7") { CHECK(parse_frame(v4(32, 7).b, p) == TCPR_DROP_UDP_BAD_LENGTH); }
  SECTION("length 0") { CHECK(parse_frame(v4(32, 0).b, p) == TCPR_DROP_UDP_BAD_LENGTH); }
  SECTION("length 13 in a 12-byte IP payload") {
    CHECK(parse_frame(v4(32, 13).b, p) == TCPR_DROP_UDP_BAD_LENGTH);
    CHECK(parse_frame(v4(32, 12).b, p) == TCPR_DROP_NONE);
  }
  SECTION("header cut by the IP total length (6 bytes), padding behind it") {
    Frame f = v4(26, 8);
    f.pad_to(60);
    CHECK(parse_frame(f.b, p) == TCPR_DROP_UDP_TRUNCATED);
  }
  SECTION("header past the contiguous bytes") {
    CHECK(parse_frame(v4(32, 12).b, p, 34 + 7, 46) == TCPR_DROP_UDP_TRUNCATED);
  }
}

// ---------------------------------------------------------------------------------------------
// ICMP / ICMPv6
//
// The payload starts after the 8-byte ICMP header (type, code, checksum and the 4-byte rest of
// header: echo id/seq, or the unused/MTU/pointer word of an error).

TEST_CASE("parser: ICMP echo request", "[parser][icmp]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 20 + 8 + 4, .proto = kProtoIcmp});
  icmp(f, 8, 0, 0x12340001).raw({'p', 'i', 'n', 'g'});
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.flags == kFlagHasL4);
  CHECK(p.l4_proto == kProtoIcmp);
  CHECK(p.l4_offset == 34);
  CHECK(p.icmp_type == 8);
  CHECK(p.icmp_code == 0);
  CHECK(p.src_port == 0);
  CHECK(p.dst_port == 0);
  CHECK(p.payload_offset == 42);
  CHECK(p.payload_len == 4);
}

TEST_CASE("parser: ICMP destination unreachable carries the offending header as payload",
          "[parser][icmp]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 20 + 8 + 28, .proto = kProtoIcmp});
  icmp(f, 3, 3, 0);  // port unreachable
  ipv4(f, {.total = 100, .proto = kProtoUdp});
  udp(f, 1, 2, 80);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.icmp_type == 3);
  CHECK(p.icmp_code == 3);
  CHECK(p.payload_offset == 42);
  CHECK(p.payload_len == 28);
}

TEST_CASE("parser: ICMPv6 echo request", "[parser][icmp][ipv6]") {
  Frame f;
  eth(f, kIpv6);
  ipv6(f, kProtoIcmpv6, 8 + 4);
  icmp(f, 128, 0, 0x00070001).fill(4, 0x61);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.flags == kFlagHasL4);
  CHECK(p.l4_proto == kProtoIcmpv6);
  CHECK(p.l4_offset == 54);
  CHECK(p.icmp_type == 128);
  CHECK(p.icmp_code == 0);
  CHECK(p.payload_offset == 62);
  CHECK(p.payload_len == 4);
}

TEST_CASE("parser: ICMP sizes around the 4 required bytes", "[parser][icmp]") {
  ParsedPacket p;
  const auto v4 = [](std::uint16_t icmp_bytes) {
    Frame f;
    eth(f, kIpv4);
    ipv4(f, {.total = static_cast<std::uint16_t>(20 + icmp_bytes), .proto = kProtoIcmp});
    icmp(f, 11, 1, 0);  // 8 bytes written; the IP total length decides how many count
    return f;
  };
  SECTION("3 bytes: ICMP_TRUNCATED, even with the rest in the frame") {
    CHECK(parse_frame(v4(3).b, p) == TCPR_DROP_ICMP_TRUNCATED);
  }
  SECTION("4 bytes: type and code, empty payload at the end of the datagram") {
    REQUIRE(parse_frame(v4(4).b, p) == TCPR_DROP_NONE);
    CHECK(p.icmp_type == 11);
    CHECK(p.icmp_code == 1);
    CHECK(p.payload_offset == 38);
    CHECK(p.payload_len == 0);
  }
  SECTION("6 bytes") {
    REQUIRE(parse_frame(v4(6).b, p) == TCPR_DROP_NONE);
    CHECK(p.payload_offset == 40);
    CHECK(p.payload_len == 0);
  }
  SECTION("header past the contiguous bytes") {
    CHECK(parse_frame(v4(8).b, p, 34 + 3, 42) == TCPR_DROP_ICMP_TRUNCATED);
  }
  SECTION("ICMPv6 with 2 bytes") {
    Frame f;
    eth(f, kIpv6);
    ipv6(f, kProtoIcmpv6, 2).raw({135, 0});
    CHECK(parse_frame(f.b, p) == TCPR_DROP_ICMP_TRUNCATED);
  }
}

TEST_CASE("parser: ICMPv6 number under IPv4 is not ICMP", "[parser][icmp]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 20 + 2, .proto = kProtoIcmpv6}).raw({1, 2});
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p) == TCPR_DROP_NONE);
  CHECK(p.flags == 0);
  CHECK(p.payload_len == 2);
}

// ---------------------------------------------------------------------------------------------
// Output discipline and the Parser stage

TEST_CASE("parser: the output is reset on every call", "[parser]") {
  Frame t;
  eth(t, kIpv4);
  ipv4(t, {.total = 40, .proto = kProtoTcp});
  tcp(t, {.sport = 1, .dport = 2, .seq = 3});
  Frame a;
  eth(a, kArp).fill(28);
  ParsedPacket p;
  REQUIRE(parse_frame(t.b, p) == TCPR_DROP_NONE);
  REQUIRE(p.has(kFlagHasL4));
  REQUIRE(parse_frame(a.b, p) == TCPR_DROP_NONE);
  CHECK(p.l3 == L3::kArp);
  CHECK(p.flags == 0);
  CHECK(p.src_port == 0);
  CHECK(p.tcp_seq == 0);
  CHECK(p.l4_offset == 0);
  CHECK(p.ip_version == 0);
  CHECK(p.src == IpAddr{});
}

TEST_CASE("parser: a view whose wire_len is below len is taken as unsegmented", "[parser]") {
  Frame f;
  eth(f, kIpv4);
  ipv4(f, {.total = 28, .proto = kProtoUdp});
  udp(f, 1, 2, 8);
  ParsedPacket p;
  REQUIRE(parse_frame(f.b, p, f.b.size(), 0) == TCPR_DROP_NONE);
  CHECK(p.has(kFlagHasL4));
}

TEST_CASE("Parser counts drops per reason", "[parser][stage]") {
  Frame good;
  eth(good, kIpv4);
  ipv4(good, {.total = 28, .proto = kProtoUdp});
  udp(good, 1, 2, 8);
  Frame bad_udp = good;
  bad_udp.b[38] = 0;  // UDP length 0x0004
  bad_udp.b[39] = 4;
  const std::vector<std::uint8_t> runt(10, 0);

  Parser parser;
  ParsedPacket p;
  const auto feed = [&](const std::vector<std::uint8_t>& b) {
    PacketView v;
    v.data = b.data();
    v.len = v.wire_len = static_cast<std::uint32_t>(b.size());
    return parser.run(v, p);
  };
  CHECK(feed(good.b) == TCPR_DROP_NONE);
  CHECK(feed(runt) == TCPR_DROP_L2_TRUNCATED);
  CHECK(feed(bad_udp.b) == TCPR_DROP_UDP_BAD_LENGTH);
  CHECK(feed(runt) == TCPR_DROP_L2_TRUNCATED);
  CHECK(feed(good.b) == TCPR_DROP_NONE);
  CHECK(feed(runt) == TCPR_DROP_L2_TRUNCATED);

  CHECK(parser.drops()[TCPR_DROP_L2_TRUNCATED] == 3);
  CHECK(parser.drops()[TCPR_DROP_UDP_BAD_LENGTH] == 1);
  CHECK(parser.drops()[TCPR_DROP_NONE] == 0);
  CHECK(parser.drops()[TCPR_DROP_TCP_TRUNCATED] == 0);
  CHECK(parser.drops().total() == 4);
}
