#include "tcpr/pipeline/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <array>
#include <map>
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

void add_behavior_summary(ordered_json& j, const BehaviorSummary& b);   // report_behavior.cpp
ordered_json tick_ms_json(std::vector<double> ms);

FlowRecord make_record(const FlowReport& r) {
  FlowRecord rec;
  rec.flow = *r.flow;
  if (r.cls == nullptr || r.db == nullptr) return rec;
  const auto& classes = r.db->classes();
  if (r.cls->class_id < classes.size()) rec.cls = classes[r.cls->class_id].name;
  for (std::size_t t = 0; t < r.db->tags().size(); ++t) {
    if (r.cls->tags & (1u << t)) rec.tags.push_back(r.db->tags()[t]);
  }
  for (const auto& sec : r.meta->secrets) {
    // Kinds of tags that were settled away (an agent's own key) are not reported.
    if (sec.kind < r.db->kinds().size() && !rec.tags.empty()) rec.secrets.emplace_back(r.db->kinds()[sec.kind], sec.hash);
  }
  rec.sni = std::string(r.meta->sni.view());
  rec.host = std::string(r.meta->host.view());
  const bool rpc = r.cls->class_id < classes.size() && classes[r.cls->class_id].report_rpc_method;
  rec.method = std::string(rpc && !r.meta->rpc_method.empty() ? r.meta->rpc_method.view() : r.meta->http_method.view());
  rec.path = std::string(r.meta->path.view());
  rec.verdict_packet = rec.cls == "unknown" ? 0 : r.cls->verdict_packet;
  return rec;
}

std::string flow_json_line(const FlowRecord& r, const std::vector<std::string>& port_names,
                           const std::vector<std::string>& path_names) {
  const flow::FlowEntry& f = r.flow;
  const auto [client, server] = endpoints(f);
  const auto c = static_cast<std::size_t>(f.client), s = static_cast<std::size_t>(f.server());
  ordered_json j;
  j["proto"] = packet::proto_name(f.key.proto);
  j["client"] = client;
  j["server"] = server;
  const auto str_or_null = [](const std::string& v) { return v.empty() ? ordered_json(nullptr) : ordered_json(v); };
  j["class"] = r.cls;
  j["tags"] = r.tags;
  j["sni"] = str_or_null(r.sni);
  j["host"] = str_or_null(r.host);
  j["method"] = str_or_null(r.method);
  j["path"] = str_or_null(r.path);
  j["packets"] = f.packets[0] + f.packets[1];
  j["bytes"] = f.bytes[0] + f.bytes[1];
  j["packets_c2s"] = f.packets[c];
  j["packets_s2c"] = f.packets[s];
  j["bytes_c2s"] = f.bytes[c];
  j["bytes_s2c"] = f.bytes[s];
  const bool routed = !path_names.empty() && f.route.zone != 0xff;
  j["egress"] = routed ? egress_name(f.route.path, path_names) : egress_name(f.egress, port_names);
  if (!path_names.empty())
    j["mirror"] = f.route.mirror < path_names.size() ? ordered_json(path_names[f.route.mirror]) : ordered_json(nullptr);
  j["first_ts"] = seconds(f.first_ns);
  j["last_ts"] = seconds(f.last_ns);
  if (!r.secrets.empty()) {
    ordered_json secrets = ordered_json::array();
    for (const auto& [kind, hash] : r.secrets) secrets.push_back({{"kind", kind}, {"hash", fmt::format("{:08x}", hash)}});
    j["secrets"] = secrets;
  }
  j["verdict_packet"] = r.verdict_packet;
  // Invalid UTF-8 in a host or path (they come off the wire) is replaced, never fatal.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<bool> write_flows(const std::string& path, std::vector<FlowRecord>& flows,
                         const std::vector<std::string>& port_names, const std::vector<std::string>& path_names) {
  // Order by first packet time, then by the canonical key and client side: total and independent
  // of which worker held a flow.
  std::sort(flows.begin(), flows.end(), [](const FlowRecord& rx, const FlowRecord& ry) {
    const flow::FlowEntry& x = rx.flow;
    const flow::FlowEntry& y = ry.flow;
    if (x.first_ns != y.first_ns) return x.first_ns < y.first_ns;
    const int c = std::memcmp(&x.key, &y.key, sizeof x.key);
    if (c != 0) return c < 0;
    return std::tie(x.client, x.last_ns) < std::tie(y.client, y.last_ns);
  });
  std::string text;
  text.reserve(flows.size() * 320);
  for (const auto& f : flows) {
    text += flow_json_line(f, port_names, path_names);
    text += '\n';
  }
  return write_file(path, text);
}

Result<bool> write_summary(const std::string& path, const ReplayTotals& t, const std::vector<FlowRecord>& flows) {
  ordered_json j;
  j["capture"] = t.capture;
  j["capture_packets"] = t.capture_packets;
  j["packets"] = t.counters.packets;
  j["bytes"] = t.counters.bytes;
  j["flows"] = t.flows;
  j["first_ts"] = t.first_ts;
  j["last_ts"] = t.last_ts;
  j["no_flow_packets"] = t.counters.no_flow;
  std::map<std::string, std::array<std::uint64_t, 3>> classes;  // flows, packets, bytes
  std::map<std::string, std::uint64_t> tags;
  for (const auto& r : flows) {
    auto& c = classes[r.cls];
    c[0] += 1;
    c[1] += r.flow.packets[0] + r.flow.packets[1];
    c[2] += r.flow.bytes[0] + r.flow.bytes[1];
    for (const auto& tag : r.tags) ++tags[tag];
  }
  j["classes"] = ordered_json::object();
  for (const auto& [name, c] : classes) j["classes"][name] = {{"flows", c[0]}, {"packets", c[1]}, {"bytes", c[2]}};
  j["tags"] = ordered_json::object();
  for (const auto& [name, n] : tags) j["tags"][name] = {{"flows", n}};
  ordered_json ports = ordered_json::object();
  for (std::size_t i = 0; i < t.port_names.size(); ++i) {
    const PortCounters pc = i < t.counters.egress.size() ? t.counters.egress[i] : PortCounters{};
    ports[t.port_names[i]] = {{"packets", pc.packets}, {"bytes", pc.bytes}};
  }
  j["egress"] = ports;
  if (!t.path_names.empty()) {
    ordered_json paths = ordered_json::object();
    for (std::size_t i = 0; i < t.path_names.size(); ++i) {
      const PortCounters pc = i < t.counters.paths.size() ? t.counters.paths[i] : PortCounters{};
      const std::uint64_t m = i < t.counters.mirrored.size() ? t.counters.mirrored[i] : 0;
      paths[t.path_names[i]] = {{"packets", pc.packets}, {"bytes", pc.bytes}, {"mirrored_packets", m}};
    }
    j["paths"] = paths;
    j["routing"] = {{"decisions", t.routing.decisions}, {"moves", t.routing.moves}, {"events_lost", t.routing.events_lost}};
  }
  ordered_json drops = ordered_json::object();
  std::uint64_t dropped = 0;
  for (std::size_t r = 1; r < kDropReasonCount; ++r) {
    const std::uint64_t n = t.counters.drops.count[r];
    dropped += n;
    if (n != 0) drops[std::string(drop_reason_name(static_cast<DropReason>(r)))] = n;
  }
  j["dropped"] = dropped;
  j["drops"] = drops;
  j["classify"] = {{"classes_revision", t.classes_revision},
                   {"bytes_scanned", t.classify.bytes_scanned},
                   {"streams_opened", t.classify.streams_opened},
                   {"stream_state_bytes_per_flow", t.stream_state_bytes},
                   {"tcp_gaps_skipped", t.classify.gaps},
                   {"head_pool_exhausted", t.classify.head_pool_exhausted},
                   {"scan_errors", t.classify.scan_errors}};
  j["flow_table"] = {{"created", t.flow_counters.created},
                     {"expired", t.flow_counters.expired},
                     {"evicted", t.flow_counters.evicted}};
  const double pps = t.wall_seconds > 0 ? static_cast<double>(t.counters.packets) / t.wall_seconds : 0;
  if (t.has_behavior) add_behavior_summary(j, t.behavior);
  j["processing"] = {{"workers", t.workers},
                     {"wall_seconds", t.wall_seconds},
                     {"packets_per_second", pps},
                     {"class_reloads", t.reloads_applied},
                     {"class_reloads_refused", t.reloads_refused}};
  if (t.has_behavior) j["processing"]["behavior_tick_ms"] = tick_ms_json(t.behavior.tick_ms);
  return write_file(path, j.dump(2) + "\n");
}

}  // namespace tcpr::pipeline
