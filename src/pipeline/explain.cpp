#include "tcpr/pipeline/explain.hpp"

#include <fmt/format.h>

#include "tcpr/packet/parser.hpp"
#include "tcpr/pipeline/report.hpp"

namespace tcpr::pipeline {

using Json = nlohmann::ordered_json;

namespace {

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

const char* l3_name(packet::L3 l3) {
  switch (l3) {
    case packet::L3::kArp: return "arp";
    case packet::L3::kIpv4: return "ipv4";
    case packet::L3::kIpv6: return "ipv6";
    case packet::L3::kOther: return "other";
    default: return "none";
  }
}

}  // namespace

Result<std::vector<std::uint8_t>> build_frame(const std::string& proto, const std::string& src, std::uint16_t sport,
                                              const std::string& dst, std::uint16_t dport, const std::string& payload) {
  auto s = behavior::parse_prefix(src);
  auto d = behavior::parse_prefix(dst);
  if (!s || s.value().bits != 128) return Error{fmt::format("src '{}' is not an IP address", src)};
  if (!d || d.value().bits != 128) return Error{fmt::format("dst '{}' is not an IP address", dst)};
  const packet::IpAddr& a = s.value().net;
  const packet::IpAddr& b = d.value().net;
  if (a.is_v4() != b.is_v4()) return Error{"src and dst must both be IPv4 or both IPv6"};
  std::uint8_t l4;
  if (proto == "tcp") l4 = 6;
  else if (proto == "udp") l4 = 17;
  else return Error{fmt::format("proto '{}': tcp or udp", proto)};
  if (payload.size() > 9000) return Error{"payload longer than 9000 bytes"};
  const std::size_t l4_len = (l4 == 6 ? 20 : 8) + payload.size();
  std::vector<std::uint8_t> f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  if (a.is_v4()) {
    put16(f, 0x0800);
    const std::size_t at = f.size();
    f.insert(f.end(), {0x45, 0});
    put16(f, static_cast<std::uint16_t>(20 + l4_len));
    f.insert(f.end(), {0, 1, 0x40, 0, 64, l4, 0, 0});
    f.insert(f.end(), a.b + 12, a.b + 16);
    f.insert(f.end(), b.b + 12, b.b + 16);
    std::uint32_t sum = 0;   // RFC 1071: the header checksum, so the frame is one a host would send
    for (std::size_t i = at; i < at + 20; i += 2) sum += static_cast<std::uint32_t>(f[i] << 8 | f[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    f[at + 10] = static_cast<std::uint8_t>(~sum >> 8);
    f[at + 11] = static_cast<std::uint8_t>(~sum);
  } else {
    put16(f, 0x86dd);
    f.insert(f.end(), {0x60, 0, 0, 0});
    put16(f, static_cast<std::uint16_t>(l4_len));
    f.insert(f.end(), {l4, 64});
    f.insert(f.end(), a.b, a.b + 16);
    f.insert(f.end(), b.b, b.b + 16);
  }
  put16(f, sport);
  put16(f, dport);
  if (l4 == 6) {
    f.insert(f.end(), {0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0});   // seq 1, ack 1, PSH|ACK
  } else {
    put16(f, static_cast<std::uint16_t>(l4_len));
    f.insert(f.end(), {0, 0});
  }
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

Json explain_frame(const ExplainContext& ctx, const std::vector<std::uint8_t>& frame, std::uint16_t port) {
  Json out;
  out["frame"] = {{"bytes", frame.size()},
                  {"port", port < ctx.port_names.size() ? ctx.port_names[port] : std::to_string(port)}};
  const packet::PacketView view{frame.data(), static_cast<std::uint32_t>(frame.size()), static_cast<std::uint32_t>(frame.size()),
                                port, 1};
  // 1. Parse.
  packet::ParsedPacket p;
  const DropReason parsed = packet::parse(view, p);
  if (parsed != TCPR_DROP_NONE) {
    out["parse"] = {{"ok", false}, {"drop", std::string(drop_reason_name(parsed))}};
    out["verdict"] = fmt::format("drop: {}", drop_reason_name(parsed));
    return out;
  }
  Json parse{{"ok", true}, {"l3", l3_name(p.l3)}, {"vlans", p.vlan_count}};
  if (p.l3 == packet::L3::kIpv4 || p.l3 == packet::L3::kIpv6) {
    parse["src"] = packet::format_endpoint(p.src, p.src_port);
    parse["dst"] = packet::format_endpoint(p.dst, p.dst_port);
    parse["proto"] = packet::proto_name(p.l4_proto);
    parse["ttl"] = p.ttl;
    parse["payload_bytes"] = p.payload_len;
  }
  out["parse"] = parse;

  // 2–5. A private pipeline: this frame's flow, classified, gated by the agents' zones, routed.
  PipelineConfig cfg = ctx.base;
  cfg.flow.capacity = 16;
  cfg.inline_ticks = false;
  cfg.worker = 0;
  std::unique_ptr<behavior::Behavior> b;
  if (ctx.behavior != nullptr && ctx.behavior->enabled) {
    behavior::BehaviorConfig bc = *ctx.behavior;
    bc.max_agents = 16;
    bc.tick_agents = 16;
    bc.pins.clear();
    for (const auto& [key, zone] : ctx.zones) bc.pins.emplace_back(key, zone);
    b = std::make_unique<behavior::Behavior>(bc, 1, std::vector<bool>(ctx.port_names.size(), false));
    b->tick_quiescent();   // the pins take effect at a tick: run one, so the gate sees them
  }
  cfg.behavior = b.get();
  cfg.routes = ctx.routes != nullptr ? std::make_shared<route::RouteShared>(ctx.routes, 1, std::vector<route::PathEvent>{}) : nullptr;
  std::vector<FlowRecord> records;
  ReportSink sink{&records, [](void* c, const FlowReport& r) { static_cast<std::vector<FlowRecord>*>(c)->push_back(make_record(r)); }};
  Verdict v;
  {
    Pipeline pl(cfg, sink);
    pl.process(&view, 1, &v);
    pl.flows().drain();
  }
  if (!records.empty()) {
    const FlowRecord& r = records.front();
    const auto& k = r.flow.key;
    const bool a_client = r.flow.client == packet::Side::kA;
    out["flow"] = {{"client", packet::format_endpoint(a_client ? k.a : k.b, a_client ? k.port_a : k.port_b)},
                   {"server", packet::format_endpoint(a_client ? k.b : k.a, a_client ? k.port_b : k.port_a)}};
    if (cfg.classes != nullptr) {
      Json secrets = Json::array();
      for (const auto& [kind, hash] : r.secrets) secrets.push_back(kind);
      out["classify"] = {{"class", r.cls}, {"tags", r.tags}, {"secrets", secrets}, {"sni", r.sni}, {"host", r.host},
                         {"method", r.method}, {"path", r.path}};
    } else {
      out["classify"] = "off";
    }
  } else {
    out["flow"] = nullptr;   // ARP and other frames without a flow
  }
  Json agents = Json::array();
  for (const auto& [key, zone] : ctx.zones) agents.push_back({{"agent", behavior::to_string(key)}, {"zone", behavior::zone_name(zone)}});
  out["agents"] = agents;
  const bool gated = v.drop == TCPR_DROP_ZONE_ISOLATED || v.drop == TCPR_DROP_ZONE_QUARANTINED;
  out["gate"] = b == nullptr ? "off" : gated ? fmt::format("drop: {}", drop_reason_name(v.drop)) : std::string("pass");
  Json route;
  if (v.drop != TCPR_DROP_NONE) {
    route["drop"] = std::string(drop_reason_name(v.drop));
  } else {
    if (v.egress < ctx.port_names.size()) route["port"] = ctx.port_names[v.egress];
    if (ctx.routes != nullptr && v.path < ctx.routes->paths().size()) route["path"] = ctx.routes->paths()[v.path].name;
    if (ctx.routes != nullptr && v.mirror < ctx.routes->paths().size()) route["mirror"] = ctx.routes->paths()[v.mirror].name;
  }
  out["route"] = route;
  if (v.drop != TCPR_DROP_NONE) out["verdict"] = fmt::format("drop: {}", drop_reason_name(v.drop));
  else if (route.contains("path")) out["verdict"] = fmt::format("forward on path {} (port {})", route["path"].get<std::string>(), route.value("port", std::string("?")));
  else out["verdict"] = fmt::format("forward to port {}", route.value("port", std::string("?")));
  return out;
}

}  // namespace tcpr::pipeline
