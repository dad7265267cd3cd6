// Flow keys: both directions give one key and hash; later fragments have none.
#include <catch2/catch.hpp>

#include "tcpr/packet/flow_key.hpp"

using namespace tcpr::packet;

namespace {
ParsedPacket v4(std::uint8_t s, std::uint16_t sp, std::uint8_t d, std::uint16_t dp) {
  ParsedPacket p;
  p.l3 = L3::kIpv4;
  p.l4_proto = kProtoTcp;
  const std::uint8_t sa[4] = {192, 168, 1, s}, da[4] = {192, 168, 1, d};
  p.src = IpAddr::from_v4(sa);
  p.dst = IpAddr::from_v4(da);
  p.src_port = sp;
  p.dst_port = dp;
  return p;
}
}  // namespace

TEST_CASE("a conversation has one key whichever way a packet goes", "[flow_key]") {
  FlowKey k1, k2;
  Side s1, s2;
  REQUIRE(key_for(v4(7, 5555, 3, 80), k1, s1));
  REQUIRE(key_for(v4(3, 80, 7, 5555), k2, s2));
  CHECK(k1 == k2);
  CHECK(hash(k1) == hash(k2));
  CHECK(s1 == Side::kB);  // 192.168.1.7 sorts after 192.168.1.3
  CHECK(s2 == Side::kA);
  CHECK(format_endpoint(k1.a, k1.port_a) == "192.168.1.3:80");
  // Same addresses, other ports: another flow.
  FlowKey k3;
  REQUIRE(key_for(v4(7, 5556, 3, 80), k3, s1));
  CHECK_FALSE(k3 == k1);
}

TEST_CASE("packets without a flow", "[flow_key]") {
  FlowKey k;
  Side s;
  ParsedPacket frag = v4(1, 0, 2, 0);
  frag.flags = kFlagFragment | kFlagLaterFragment;
  CHECK_FALSE(key_for(frag, k, s));
  ParsedPacket arp;
  arp.l3 = L3::kArp;
  CHECK_FALSE(key_for(arp, k, s));
}

TEST_CASE("protocol names and IPv6 formatting", "[flow_key]") {
  CHECK(proto_name(kProtoTcp) == "tcp");
  CHECK(proto_name(kProtoUdp) == "udp");
  CHECK(proto_name(kProtoIcmp) == "icmp");
  CHECK(proto_name(kProtoIcmpv6) == "icmpv6");
  CHECK(proto_name(47) == "47");
  std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
  a[15] = 0x10;
  CHECK(format_endpoint(IpAddr::from_v6(a), 443) == "[2001:db8::10]:443");
  CHECK_FALSE(IpAddr::from_v6(a).is_v4());
}
