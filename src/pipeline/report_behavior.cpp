// agents.jsonl and events.jsonl (DESIGN.md "Data contracts"), and the behaviour part of
// summary.json.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "tcpr/pipeline/report.hpp"

namespace tcpr::pipeline {

namespace {

using nlohmann::ordered_json;

double seconds(std::uint64_t ns) { return static_cast<double>(ns / 1000) / 1e6; }

// Four significant decimals: enough to read, and stable against float noise in the last bits.
double round4(double v) { return std::round(v * 1e4) / 1e4; }

Result<bool> write_lines(const std::string& path, const std::vector<ordered_json>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error{fmt::format("{}: cannot create file", path)};
  for (const auto& j : lines) out << j.dump() << '\n';
  out.close();
  if (!out) return Error{fmt::format("{}: write failed", path)};
  return true;
}

}  // namespace

ordered_json agent_json(const behavior::AgentReport& a) {
  ordered_json j;
  j["agent"] = behavior::to_string(a.key);
  j["zone"] = behavior::zone_name(a.zone);
  j["trust"] = round4(a.trust);
  j["score"] = round4(a.score);
  ordered_json f = ordered_json::object();
  for (unsigned i = 0; i < behavior::kFeatures; ++i) f[behavior::kFeatureNames[i]] = round4(a.features[i]);
  j["features"] = f;
  j["first_anomalous_ts"] = a.first_anomalous_ns != 0 ? ordered_json(seconds(a.first_anomalous_ns)) : ordered_json();
  j["max_score"] = round4(a.max_score);
  j["why"] = a.why;
  j["cohort"] = a.cohort;
  j["ticks"] = a.ticks;
  return j;
}

Result<bool> write_agents(const std::string& path, const std::vector<behavior::AgentReport>& agents) {
  std::vector<ordered_json> lines;
  lines.reserve(agents.size());
  for (const auto& a : agents) lines.push_back(agent_json(a));
  return write_lines(path, lines);
}

Result<bool> write_events(const std::string& path, std::vector<behavior::ZoneEvent> events,
                          std::vector<route::RouteEvent> moves, const std::vector<std::string>& path_names) {
  std::stable_sort(events.begin(), events.end(),
                   [](const behavior::ZoneEvent& x, const behavior::ZoneEvent& y) { return x.ts_ns < y.ts_ns; });
  std::vector<std::pair<std::uint64_t, ordered_json>> lines;
  lines.reserve(events.size() + moves.size());
  for (const auto& e : events) {
    ordered_json j;
    j["ts"] = seconds(e.ts_ns);
    j["agent"] = behavior::to_string(e.agent);
    j["from"] = behavior::zone_name(e.from);
    j["to"] = behavior::zone_name(e.to);
    j["score"] = round4(e.score);
    j["reason"] = e.reason;
    lines.emplace_back(e.ts_ns, std::move(j));
  }
  const auto name = [&](std::uint16_t p) { return p < path_names.size() ? path_names[p] : std::string("drop"); };
  // Workers' moves arrive in any order: by time, then by flow.
  std::sort(moves.begin(), moves.end(), [](const route::RouteEvent& x, const route::RouteEvent& y) {
    if (x.ts_ns != y.ts_ns) return x.ts_ns < y.ts_ns;
    return std::memcmp(&x.key, &y.key, sizeof x.key) < 0;
  });
  std::vector<std::pair<std::uint64_t, ordered_json>> route_lines;
  for (const auto& m : moves) {
    const bool a_client = m.client == packet::Side::kA;
    const auto& k = m.key;
    ordered_json j;
    j["ts"] = seconds(m.ts_ns);
    j["kind"] = "route";
    j["agent"] = packet::format_addr(a_client ? k.a : k.b);
    j["client"] = packet::format_endpoint(a_client ? k.a : k.b, a_client ? k.port_a : k.port_b);
    j["server"] = packet::format_endpoint(a_client ? k.b : k.a, a_client ? k.port_b : k.port_a);
    j["proto"] = packet::proto_name(k.proto);
    j["from"] = name(m.from);
    j["to"] = name(m.to);
    j["reason"] = route::reroute_name(m.why);
    route_lines.emplace_back(m.ts_ns, std::move(j));
  }
  std::vector<std::pair<std::uint64_t, ordered_json>> all;
  all.reserve(lines.size() + route_lines.size());
  std::merge(std::make_move_iterator(lines.begin()), std::make_move_iterator(lines.end()),
             std::make_move_iterator(route_lines.begin()), std::make_move_iterator(route_lines.end()),
             std::back_inserter(all), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<ordered_json> out;
  out.reserve(all.size());
  for (auto& [ts, j] : all) out.push_back(std::move(j));
  return write_lines(path, out);
}

void add_behavior_summary(ordered_json& j, const BehaviorSummary& b) {
  ordered_json zones = ordered_json::object();
  for (behavior::Zone z = 0; z < TCPR_ZONE__COUNT; ++z) zones[behavior::zone_name(z)] = b.zones[z];
  j["behavior"] = {{"tick_seconds", b.tick_seconds},
                   {"ticks", b.counters.ticks},
                   {"agents", b.agents},
                   {"zones", zones},
                   {"events", b.events},
                   {"agents_created", b.counters.agents_created},
                   {"agents_evicted", b.counters.agents_evicted},
                   {"agents_refused", b.counters.agents_refused},
                   {"local_decisions_confirmed", b.counters.local_confirmed},
                   {"local_decisions_reverted", b.counters.local_reverted},
                   {"tick_table_full", b.counters.tick_table_full},
                   {"tick_hard_overflow", b.counters.tick_hard_overflow}};
}

ordered_json tick_ms_json(std::vector<double> ms) {
  if (ms.empty()) return ordered_json::object();
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ms.size())))]; };
  return {{"p50", at(0.5)}, {"p99", at(0.99)}, {"max", ms.back()}};
}

}  // namespace tcpr::pipeline
