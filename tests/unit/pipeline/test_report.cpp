// Report lines: the field set and formats of DESIGN.md's flows.jsonl, written out by hand.
#include <catch2/catch.hpp>

#include "tcpr/pipeline/report.hpp"

using namespace tcpr;

TEST_CASE("a flow line has the contract's fields, client first", "[report]") {
  flow::FlowEntry f;
  const std::uint8_t server[4] = {10, 0, 0, 1}, client[4] = {10, 0, 0, 5};
  f.key.a = packet::IpAddr::from_v4(server);
  f.key.port_a = 443;
  f.key.b = packet::IpAddr::from_v4(client);
  f.key.port_b = 40000;
  f.key.proto = packet::kProtoTcp;
  f.client = packet::Side::kB;
  f.packets[0] = 4, f.bytes[0] = 400;   // server -> client
  f.packets[1] = 6, f.bytes[1] = 700;   // client -> server
  f.first_ns = 1700000000'123456000ull;
  f.last_ns = 1700000001'500000999ull;  // sub-microsecond part is below pcap resolution
  f.egress = 1;
  pipeline::FlowRecord rec;
  rec.flow = f;
  CHECK(pipeline::flow_json_line(rec, {"agents", "world"}) ==
        R"({"proto":"tcp","client":"10.0.0.5:40000","server":"10.0.0.1:443","class":"unknown","tags":[],)"
        R"("sni":null,"host":null,"method":null,"path":null,"packets":10,"bytes":1100,"packets_c2s":6,)"
        R"("packets_s2c":4,"bytes_c2s":700,"bytes_s2c":400,"egress":"world","first_ts":1700000000.123456,)"
        R"("last_ts":1700000001.5,"verdict_packet":0})");
}

TEST_CASE("IPv6 endpoints are bracketed; a dropped flow's egress is drop", "[report]") {
  flow::FlowEntry f;
  std::uint8_t a[16] = {0xfd, 0x99}, b[16] = {0xfd, 0x99};
  a[15] = 1;
  b[15] = 2;
  f.key.a = packet::IpAddr::from_v6(a);
  f.key.port_a = 35016;
  f.key.b = packet::IpAddr::from_v6(b);
  f.key.port_b = 8080;
  f.key.proto = packet::kProtoUdp;
  f.client = packet::Side::kA;
  f.egress = flow::kEgressDrop;
  pipeline::FlowRecord rec;
  rec.flow = f;
  rec.cls = "dns";
  rec.tags = {"secret"};
  rec.secrets = {{"aws_access_key_id", 0xdeadbeef}};
  rec.host = "api.example.com";
  const std::string line = pipeline::flow_json_line(rec, {"world"});
  CHECK(line.find(R"("class":"dns","tags":["secret"],"sni":null,"host":"api.example.com")") != std::string::npos);
  CHECK(line.find(R"("secrets":[{"kind":"aws_access_key_id","hash":"deadbeef"}])") != std::string::npos);
  CHECK(line.find(R"("proto":"udp","client":"[fd99::1]:35016","server":"[fd99::2]:8080")") != std::string::npos);
  CHECK(line.find(R"("egress":"drop")") != std::string::npos);
}
