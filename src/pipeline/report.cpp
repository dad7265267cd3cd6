#include "tcpr/pipeline/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

namespace tcpr::pipeline {

namespace {

using nlohmann::ordered_json;
using packet::Side;

// Capture seconds with the microsecond resolution of a pcap timestamp, as a JSON number.
double seconds(std::uint64_t ns) { return static_cast<double>(ns / 1000) / 1e6; }

struct Endpoints {
  std::string client, server;
};

Endpoints endpoints(const flow::FlowEntry& f) {
  const bool a_is_client = f.client == Side::kA;
  const auto& k = f.key;
  std::string ea = packet::format_endpoint(k.a, k.port_a);
  std::string eb = packet::format_endpoint(k.b, k.port_b);
  return a_is_client ? Endpoints{std::move(ea), std::move(eb)} : Endpoints{std::move(eb), std::move(ea)};
}

std::string egress_name(std::uint16_t e, const std::vector<std::string>& names) {
  if (e < names.size()) return names[e];
  return "drop";
}

Result<bool> write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error{fmt::format("{}: cannot create file", path)};
  out << text;
  out.close();
  if (!out) return Error{fmt::format("{}: write failed", path)};
  return true;
}

}  // namespace

std::string flow_json_line(const flow::FlowEntry& f, const std::vector<std::string>& port_names) {
  const auto [client, server] = endpoints(f);
  const auto c = static_cast<std::size_t>(f.client), s = static_cast<std::size_t>(f.server());
  ordered_json j;
  j["proto"] = packet::proto_name(f.key.proto);
  j["client"] = client;
  j["server"] = server;
  j["class"] = "unknown";
  j["tags"] = ordered_json::array();
  j["sni"] = nullptr;
  j["host"] = nullptr;
  j["method"] = nullptr;
  j["path"] = nullptr;
  j["packets"] = f.packets[0] + f.packets[1];
  j["bytes"] = f.bytes[0] + f.bytes[1];
  j["packets_c2s"] = f.packets[c];
  j["packets_s2c"] = f.packets[s];
  j["bytes_c2s"] = f.bytes[c];
  j["bytes_s2c"] = f.bytes[s];
  j["egress"] = egress_name(f.egress, port_names);
  j["first_ts"] = seconds(f.first_ns);
  j["last_ts"] = seconds(f.last_ns);
  return j.dump();
}

Result<bool> write_flows(const std::string& path, std::vector<flow::FlowEntry>& flows,
                         const std::vector<std::string>& port_names) {
  // Order by first packet time, then by the canonical key and client side: total and independent
  // of which worker held a flow.
  std::sort(flows.begin(), flows.end(), [](const flow::FlowEntry& x, const flow::FlowEntry& y) {
    if (x.first_ns != y.first_ns) return x.first_ns < y.first_ns;
    const int c = std::memcmp(&x.key, &y.key, sizeof x.key);
    if (c != 0) return c < 0;
    return std::tie(x.client, x.last_ns) < std::tie(y.client, y.last_ns);
  });
  std::string text;
  text.reserve(flows.size() * 320);
  for (const auto& f : flows) {
    text += flow_json_line(f, port_names);
    text += '\n';
  }
  return write_file(path, text);
}

Result<bool> write_summary(const std::string& path, const ReplayTotals& t) {
  ordered_json j;
  j["capture"] = t.capture;
  j["capture_packets"] = t.capture_packets;
  j["packets"] = t.counters.packets;
  j["bytes"] = t.counters.bytes;
  j["flows"] = t.flows;
  j["first_ts"] = t.first_ts;
  j["last_ts"] = t.last_ts;
  j["no_flow_packets"] = t.counters.no_flow;
  // Content classes arrive with the classify stage; until then every flow is "unknown".
  j["classes"] = ordered_json::object();
  j["classes"]["unknown"] = {{"flows", t.flows}};
  ordered_json ports = ordered_json::object();
  for (std::size_t i = 0; i < t.port_names.size(); ++i) {
    const PortCounters pc = i < t.counters.egress.size() ? t.counters.egress[i] : PortCounters{};
    ports[t.port_names[i]] = {{"packets", pc.packets}, {"bytes", pc.bytes}};
  }
  j["egress"] = ports;
  ordered_json drops = ordered_json::object();
  std::uint64_t dropped = 0;
  for (std::size_t r = 1; r < kDropReasonCount; ++r) {
    const std::uint64_t n = t.counters.drops.count[r];
    dropped += n;
    if (n != 0) drops[std::string(drop_reason_name(static_cast<DropReason>(r)))] = n;
  }
  j["dropped"] = dropped;
  j["drops"] = drops;
  j["flow_table"] = {{"created", t.flow_counters.created},
                     {"expired", t.flow_counters.expired},
                     {"evicted", t.flow_counters.evicted}};
  const double pps = t.wall_seconds > 0 ? static_cast<double>(t.counters.packets) / t.wall_seconds : 0;
  j["processing"] = {{"workers", t.workers},
                     {"wall_seconds", t.wall_seconds},
                     {"packets_per_second", pps}};
  return write_file(path, j.dump(2) + "\n");
}

}  // namespace tcpr::pipeline
