// tcp-routectl — the operator's tool.
//
// Daemon commands go over tcp-routed's control socket (--socket, default
// /run/tcp-route/control.sock; README "tcp-routectl reference"):
//   status | agents [--zone Z] [--top N] | agent ID | zone set ID ZONE [--ttl D] | release ID
//   paths | path up|down NAME | flows [--top N] [--class C] [--agent IP] | stats | classes | reload
//   events [--last N] [--follow] | commands
//   explain --src IP --sport N --dst IP --dport N [--proto udp] [--payload TEXT | --payload-file F] [--port P]
//   explain --frame HEX | --pcap FILE [--index N]
// The XDP guard is driven directly through its pinned maps and program, so it works while
// tcp-routed is down too:
//   xdp attach IFACE [--mode native|generic] [--bpffs DIR] | xdp detach IFACE | xdp status [--bpffs DIR]
// Human tables by default; --json prints the daemon's reply data as JSON (one object; with
// events --follow, one object a line).
//
// Exit codes: 0 done; 1 the command failed (tcp-routed said why: no such agent, bad zone, reload
// refused …; or an XDP action failed); 2 bad usage; 3 tcp-routed is not running (no socket, or it
// refuses connections); 4 permission denied (not root and not in the control group); 5 a malformed
// or missing reply.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "tcpr/behavior/tracker.hpp"
#include "tcpr/control/server.hpp"
#include "tcpr/enforce/zone_guard.hpp"
#include "tcpr/packet/drop.hpp"

namespace {

using namespace tcpr;

const char* action_name(unsigned a) {
  static constexpr const char* kNames[] = {"pass", "counted", "allowed", "dropped", "sampled", "sample_lost"};
  return a < std::size(kNames) ? kNames[a] : "?";
}

int fail(const std::string& msg) {
  fmt::print(stderr, "tcp-routectl: {}\n", msg);
  return 1;
}

int status(const std::string& bpffs, bool json) {
  auto ifs = enforce::guarded_interfaces(bpffs);
  if (!ifs) return fail(ifs.error());
  auto counters = enforce::read_pinned_counters(bpffs);
  if (!counters) return fail(counters.error());
  const auto& c = counters.value();
  if (json) {
    nlohmann::ordered_json j;
    j["bpffs"] = bpffs;
    j["interfaces"] = nlohmann::ordered_json::array();
    for (const auto& i : ifs.value()) j["interfaces"].push_back({{"iface", i.iface}, {"mode", i.mode}, {"prog_id", i.prog_id}});
    nlohmann::ordered_json zones = nlohmann::ordered_json::object();
    for (unsigned z = 0; z < TCPR_ZONE__COUNT; ++z)
      for (unsigned a = 0; a < TCPR_XDP_ACTIONS; ++a)
        zones[behavior::zone_name(static_cast<behavior::Zone>(z))][action_name(a)] = c[tcpr_counter_index(z, a)];
    j["counters"] = zones;
    nlohmann::ordered_json drops = nlohmann::ordered_json::object();
    for (unsigned r = 1; r < TCPR_DROP__COUNT; ++r)
      if (c[tcpr_drop_counter_index(r)] != 0) drops[std::string(drop_reason_name(static_cast<DropReason>(r)))] = c[tcpr_drop_counter_index(r)];
    j["drops"] = drops;
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("zone guard pinned at {}\n", bpffs);
  if (ifs.value().empty()) fmt::print("  attached to no interface\n");
  for (const auto& i : ifs.value()) fmt::print("  {:<16} {:<8} prog {}\n", i.iface, i.mode, i.prog_id);
  fmt::print("{:<12}", "zone");
  for (unsigned a = 0; a < TCPR_XDP_ACTIONS; ++a) fmt::print(" {:>12}", action_name(a));
  fmt::print("\n");
  for (unsigned z = 0; z < TCPR_ZONE__COUNT; ++z) {
    fmt::print("{:<12}", behavior::zone_name(static_cast<behavior::Zone>(z)));
    for (unsigned a = 0; a < TCPR_XDP_ACTIONS; ++a) fmt::print(" {:>12}", c[tcpr_counter_index(z, a)]);
    fmt::print("\n");
  }
  for (unsigned r = 1; r < TCPR_DROP__COUNT; ++r)
    if (c[tcpr_drop_counter_index(r)] != 0)
      fmt::print("dropped malformed: {:<24} {}\n", drop_reason_name(static_cast<DropReason>(r)), c[tcpr_drop_counter_index(r)]);
  return 0;
}

// ---- daemon commands -------------------------------------------------------------------------

using control::Json;

enum Exit { kOk = 0, kFailed = 1, kUsage = 2, kNotRunning = 3, kPermission = 4, kProtocol = 5 };

std::string num(const Json& v, int prec = 2) {
  if (v.is_number_float()) return fmt::format("{:.{}f}", v.get<double>(), prec);
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string join(const Json& arr) {
  std::string out;
  for (const auto& v : arr) {
    if (!out.empty()) out += ',';
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out.empty() ? "-" : out;
}

void print_human(const std::string& cmd, const Json& d) {
  if (cmd == "status") {
    fmt::print("tcp-routed {}  up {:.0f} s  workers {}  packets {}  bytes {}\n", num(d["version"]), d["uptime_s"].get<double>(),
               num(d["workers"]), num(d["packets"]), num(d["bytes"]));
    if (d.contains("tick_ms_last"))
      fmt::print("behaviour: tick {} s, last tick {} ms (max {} ms), {} agents\n", num(d["tick_s"]), num(d["tick_ms_last"]),
                 num(d["tick_ms_max"]), num(d["agents"]));
    fmt::print("routing {}  xdp {}\n", d["routing"].get<bool>() ? "on" : "off", d["xdp"].get<bool>() ? "on" : "off");
    fmt::print("{:<14} {:<5} {:>14} {:>14} {:>10} {:>12} {:>12} {:>10}\n", "port", "link", "rx", "tx", "dropped", "rx/s", "tx/s", "drop/s");
    for (const auto& p : d["ports"])
      fmt::print("{:<14} {:<5} {:>14} {:>14} {:>10} {:>12} {:>12} {:>10}\n", num(p["name"]), num(p["link"]), num(p["rx"]),
                 num(p["tx"]), num(p["dropped"]), p.contains("rx_pps") ? num(p["rx_pps"], 0) : "-",
                 p.contains("tx_pps") ? num(p["tx_pps"], 0) : "-", p.contains("drop_pps") ? num(p["drop_pps"], 0) : "-");
  } else if (cmd == "agents") {
    fmt::print("{:<24} {:<12} {:>6} {:>6} {:<18} {}\n", "agent", "zone", "score", "trust", "cohort", "why");
    for (const auto& a : d["agents"])
      fmt::print("{:<24} {:<12} {:>6} {:>6} {:<18} {}\n", num(a["agent"]), num(a["zone"]), num(a["score"]), num(a["trust"]),
                 num(a["cohort"]), join(a["why"]));
    fmt::print("({} of {} matching, {} agents)\n", d["agents"].size(), num(d["matching"]), num(d["total"]));
  } else if (cmd == "agent") {
    fmt::print("agent {}  zone {}  score {} (max {})  trust {}  cohort {}  ticks {}\n", num(d["agent"]), num(d["zone"]),
               num(d["score"]), num(d["max_score"]), num(d["trust"]), num(d["cohort"]), num(d["ticks"]));
    fmt::print("why: {}\n", join(d["why"]));
    for (const auto& [k, v] : d["features"].items()) fmt::print("  {:<22} {}\n", k, num(v));
    if (!d["recent_events"].empty()) fmt::print("recent events:\n");
    for (const auto& e : d["recent_events"])
      fmt::print("  {:.3f} {} -> {} score {} ({})\n", e["ts"].get<double>(), num(e["from"]), num(e["to"]), num(e["score"]), num(e["reason"]));
  } else if (cmd == "zone") {
    fmt::print("{} pinned {}{}; in effect within {} s\n", num(d["agent"]), num(d["zone"]),
               d["ttl_s"].get<double>() > 0 ? fmt::format(" for {} s", num(d["ttl_s"], 0)) : "", num(d["effective_within_s"]));
  } else if (cmd == "release") {
    fmt::print("{} released\n", num(d["agent"]));
  } else if (cmd == "paths") {
    fmt::print("strategy {}  epoch {}\n", num(d["strategy"]), num(d["epoch"]));
    fmt::print("{:<14} {:<10} {:<4} {:<5} {:<5} {:<10} {:>6} {:>10} {:>8} {:>12} {}\n", "path", "port", "up", "admin", "link", "role",
               "load", "cap Mb/s", "lat us", "packets", "classes");
    for (const auto& p : d["paths"])
      fmt::print("{:<14} {:<10} {:<4} {:<5} {:<5} {:<10} {:>6} {:>10} {:>8} {:>12} {}\n", num(p["name"]), num(p["port"]),
                 p["up"].get<bool>() ? "yes" : "no", num(p["admin"]), num(p["link"]),
                 p["role"].get<std::string>().empty() ? "-" : num(p["role"]), num(p["load"]), num(p["capacity_mbps"], 0),
                 num(p["latency_us"], 0), p.contains("packets") ? num(p["packets"]) : "-", join(p["classes"]));
  } else if (cmd == "path") {
    fmt::print("path {} is {} (operator {}), route table epoch {}\n", num(d["path"]), d["up"].get<bool>() ? "up" : "down",
               num(d["admin"]), num(d["epoch"]));
  } else if (cmd == "flows") {
    fmt::print("{:<5} {:<24} {:<24} {:<12} {:>10} {:>12} {:<12}\n", "proto", "client", "server", "class", "packets", "bytes", "egress");
    for (const auto& f : d["flows"])
      fmt::print("{:<5} {:<24} {:<24} {:<12} {:>10} {:>12} {:<12}\n", num(f["proto"]), num(f["client"]), num(f["server"]),
                 f["class"].get<std::string>().empty() ? "-" : num(f["class"]), num(f["packets"]), num(f["bytes"]), num(f["egress"]));
    fmt::print("({} flows; {} of {} workers answered)\n", d["flows"].size(), num(d["workers_answered"]), num(d["workers"]));
  } else if (cmd == "explain") {
    fmt::print("frame     {} bytes on port {}\n", num(d["frame"]["bytes"]), num(d["frame"]["port"]));
    const Json& p = d["parse"];
    if (!p["ok"].get<bool>()) {
      fmt::print("parse     drop: {}\n", num(p["drop"]));
    } else {
      fmt::print("parse     {} {} -> {} {} ttl {} payload {} bytes{}\n", num(p["l3"]), p.value("src", std::string("-")),
                 p.value("dst", std::string("-")), p.value("proto", std::string("")), p.contains("ttl") ? num(p["ttl"]) : "-",
                 p.contains("payload_bytes") ? num(p["payload_bytes"]) : "-",
                 p["vlans"].get<int>() > 0 ? fmt::format(" ({} VLAN tags)", num(p["vlans"])) : "");
      if (d.contains("flow") && !d["flow"].is_null())
        fmt::print("flow      client {} server {}\n", num(d["flow"]["client"]), num(d["flow"]["server"]));
      if (d.contains("classify") && d["classify"].is_object()) {
        const Json& c = d["classify"];
        fmt::print("classify  {} tags {} secrets {}", num(c["class"]), join(c["tags"]), join(c["secrets"]));
        if (!c["host"].get<std::string>().empty()) fmt::print(" host {}", num(c["host"]));
        if (!c["method"].get<std::string>().empty()) fmt::print(" {} {}", num(c["method"]), num(c["path"]));
        fmt::print("\n");
      }
      for (const auto& a : d["agents"]) fmt::print("agent     {} is {}\n", num(a["agent"]), num(a["zone"]));
      fmt::print("gate      {}\n", num(d["gate"]));
      fmt::print("route     {}\n", d["route"].dump());
    }
    fmt::print("verdict   {}\n", num(d["verdict"]));
  } else if (cmd == "stats") {
    fmt::print("packets {}  bytes {}  without a flow {}\n", num(d["packets"]), num(d["bytes"]), num(d["no_flow"]));
    fmt::print("dataplane drops:\n");
    if (d["drops"].empty()) fmt::print("  none\n");
    for (const auto& [k, v] : d["drops"].items()) fmt::print("  {:<28} {}\n", k, num(v));
    if (d.contains("xdp")) {
      if (d["xdp"].contains("error")) {
        fmt::print("xdp: {}\n", num(d["xdp"]["error"]));
      } else {
        fmt::print("xdp guard:\n  {:<12}", "zone");
        for (const auto& [a, v] : d["xdp"]["zones"]["TRUSTED"].items()) fmt::print(" {:>12}", a);
        fmt::print("\n");
        for (const auto& [z, acts] : d["xdp"]["zones"].items()) {
          fmt::print("  {:<12}", z);
          for (const auto& [a, v] : acts.items()) fmt::print(" {:>12}", num(v));
          fmt::print("\n");
        }
        for (const auto& [k, v] : d["xdp"]["drops"].items()) fmt::print("  malformed {:<24} {}\n", k, num(v));
      }
    }
    if (d.contains("behavior")) {
      fmt::print("behaviour:");
      for (const auto& [k, v] : d["behavior"].items()) fmt::print(" {} {}", k, num(v));
      fmt::print("\n");
    }
    fmt::print("control:");
    for (const auto& [k, v] : d["control"].items()) fmt::print(" {} {}", k, num(v));
    fmt::print("\nreloads: applied {} refused {}\n", num(d["reloads"]["applied"]), num(d["reloads"]["refused"]));
  } else if (cmd == "classes") {
    fmt::print("{} classes, {} rules, from {}\n", d["classes"].size(), num(d["rules"]), num(d["source"]));
    for (const auto& c : d["classes"]) fmt::print("  {:<24} priority {}\n", num(c["name"]), num(c["priority"]));
    fmt::print("tags: {}\n", join(d["tags"]));
  } else if (cmd == "reload") {
    fmt::print("reloaded: {} classes, {} rules\napplied: {}\n", num(d["classes"]), num(d["rules"]), join(d["applied"]));
    if (!d["needs_restart"].empty()) fmt::print("changed, applied at the next restart: {}\n", join(d["needs_restart"]));
  } else if (cmd == "events") {
    for (const auto& e : d["events"])
      fmt::print("{:.3f} {:<24} {:<12} -> {:<12} score {} ({})\n", e["ts"].get<double>(), num(e["agent"]), num(e["from"]),
                 num(e["to"]), num(e["score"]), num(e["reason"]));
  } else if (cmd == "help") {
    for (const auto& c : d) fmt::print("{:<10} {:<48} {}\n", num(c["cmd"]), num(c["usage"]), num(c["help"]));
  } else {
    fmt::print("{}\n", d.dump(2));
  }
}

int connect_error(const control::ClientResult& r) {
  fmt::print(stderr, "tcp-routectl: {}\n", r.message);
  return r.error == control::ClientError::kNotRunning ? kNotRunning
         : r.error == control::ClientError::kPermission ? kPermission
                                                        : kProtocol;
}

int run_command(const std::string& socket, const std::string& cmd, const Json& args, bool json) {
  auto r = control::request(socket, Json{{"cmd", cmd}, {"args", args}});
  if (r.error != control::ClientError::kNone) return connect_error(r);
  if (!r.reply["ok"].get<bool>()) {
    fmt::print(stderr, "tcp-routectl: {}: {}\n", cmd, r.reply.value("error", std::string("failed")));
    return kFailed;
  }
  if (json) fmt::print("{}\n", r.reply["data"].dump(2));
  else print_human(cmd, r.reply["data"]);
  return kOk;
}

// events --follow: the reply, then one line per new event until interrupted or the daemon goes.
int follow_events(const std::string& socket, const Json& args, bool json) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (fd < 0 || socket.size() >= sizeof a.sun_path) return kProtocol;
  std::memcpy(a.sun_path, socket.data(), socket.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    control::ClientResult r{errno == EACCES ? control::ClientError::kPermission : control::ClientError::kNotRunning,
                            fmt::format("tcp-routed is not running (cannot connect to {}: {})", socket, std::strerror(errno)), {}};
    if (r.error == control::ClientError::kPermission) r.message = fmt::format("permission denied on {}", socket);
    ::close(fd);
    return connect_error(r);
  }
  const std::string req = Json{{"cmd", "events"}, {"args", args}}.dump() + "\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return kProtocol;
  std::string buf;
  char b[65536];
  bool first = true;
  for (ssize_t n; (n = ::recv(fd, b, sizeof b, 0)) > 0;) {
    buf.append(b, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
      const Json j = Json::parse(buf.substr(0, nl), nullptr, false);
      if (j.is_discarded()) return kProtocol;
      if (first) {
        first = false;
        if (!j.value("ok", false)) {
          fmt::print(stderr, "tcp-routectl: events: {}\n", j.value("error", std::string("failed")));
          return kFailed;
        }
        if (json) {
          for (const auto& e : j["data"]["events"]) fmt::print("{}\n", e.dump());
        } else {
          print_human("events", j["data"]);
        }
      } else if (json) {
        fmt::print("{}\n", j.dump());
      } else {
        print_human("events", Json{{"events", Json::array({j})}});
      }
      std::fflush(stdout);
    }
  }
  ::close(fd);
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tcp-routectl: operate tcp-route (exit codes: 0 done, 1 failed, 2 usage, 3 not running, 4 permission, 5 protocol)"};
  app.require_subcommand(1);
  app.fallthrough();   // --json and --socket after the command too
  std::string socket = "/run/tcp-route/control.sock";
  bool json = false;
  app.add_option("--socket", socket, "tcp-routed's control socket");
  app.add_flag("--json", json, "JSON instead of tables");

  // Daemon commands.
  std::string id, zone, ttl, name;
  std::size_t top = 20, last = 20;
  bool follow = false;
  auto* status_c = app.add_subcommand("status", "version, uptime, ports, workers, tick duration");
  auto* agents_c = app.add_subcommand("agents", "agents by anomaly score");
  agents_c->add_option("--zone", zone, "only agents in this zone");
  agents_c->add_option("--top", top, "how many (default 20)");
  auto* agent_c = app.add_subcommand("agent", "one agent in detail");
  agent_c->add_option("id", id, "the agent (IP, MAC or VLAN/IP as configured)")->required();
  auto* zone_c = app.add_subcommand("zone", "operator zone pins");
  zone_c->require_subcommand(1);
  auto* zone_set = zone_c->add_subcommand("set", "pin an agent in a zone");
  zone_set->add_option("id", id, "the agent")->required();
  zone_set->add_option("zone", zone, "TRUSTED, MONITORED, QUARANTINED or ISOLATED")->required();
  zone_set->add_option("--ttl", ttl, "for this long (90s, 5m, 2h); default until released");
  auto* release_c = app.add_subcommand("release", "remove an operator pin");
  release_c->add_option("id", id, "the agent")->required();
  auto* paths_c = app.add_subcommand("paths", "egress paths, their state and load");
  auto* path_c = app.add_subcommand("path", "take a path out of service or back");
  path_c->require_subcommand(1);
  auto* path_up = path_c->add_subcommand("up", "back in service");
  path_up->add_option("name", name, "the path")->required();
  auto* path_down = path_c->add_subcommand("down", "out of service");
  path_down->add_option("name", name, "the path")->required();
  std::string cls, agent_ip;
  auto* flows_c = app.add_subcommand("flows", "the largest flows now");
  flows_c->add_option("--top", top, "how many (default 20)");
  flows_c->add_option("--class", cls, "only flows of this class");
  flows_c->add_option("--agent", agent_ip, "only flows of this agent (IP)");
  std::string proto = "tcp", src, dst, payload, payload_file, frame_hex, pcap_file, in_port;
  std::uint16_t sport = 0, dport = 0;
  std::size_t index = 1;
  auto* explain_c = app.add_subcommand("explain", "what the pipeline would do with one packet (nothing is sent)");
  explain_c->add_option("--proto", proto, "tcp or udp")->check(CLI::IsMember({"tcp", "udp"}));
  explain_c->add_option("--src", src, "source address");
  explain_c->add_option("--sport", sport, "source port");
  explain_c->add_option("--dst", dst, "destination address");
  explain_c->add_option("--dport", dport, "destination port");
  explain_c->add_option("--payload", payload, "payload text");
  explain_c->add_option("--payload-file", payload_file, "payload from a file")->check(CLI::ExistingFile);
  explain_c->add_option("--frame", frame_hex, "a whole Ethernet frame in hex");
  explain_c->add_option("--pcap", pcap_file, "a capture (read by tcp-routed: an absolute path)");
  explain_c->add_option("--index", index, "which packet of --pcap (1-based, default 1)");
  explain_c->add_option("--port", in_port, "the port it arrives on (default: the first)");
  auto* stats_c = app.add_subcommand("stats", "drop counters of the dataplane and the XDP guard");
  auto* classes_c = app.add_subcommand("classes", "content classes in use");
  auto* reload_c = app.add_subcommand("reload", "re-read the classes file");
  auto* events_c = app.add_subcommand("events", "zone changes");
  events_c->add_option("--last", last, "how many past events (default 20)");
  events_c->add_flag("--follow", follow, "then every new one as it happens");
  auto* help_c = app.add_subcommand("commands", "the daemon's commands (its `help`)");

  // XDP, without the daemon.
  auto* xdp = app.add_subcommand("xdp", "the XDP zone guard on any interface");
  xdp->require_subcommand(1);
  std::string bpffs = "/sys/fs/bpf/tcp-route";
  std::string iface, mode = "native";
  auto* attach = xdp->add_subcommand("attach", "attach the pinned zone guard to an interface");
  attach->add_option("iface", iface, "interface name")->required();
  attach->add_option("--mode", mode, "native (driver) or generic (skb)")->check(CLI::IsMember({"native", "generic"}));
  attach->add_option("--bpffs", bpffs, "where tcp-routed pinned the guard and its maps");
  auto* detach = xdp->add_subcommand("detach", "detach the XDP program of an interface");
  detach->add_option("iface", iface, "interface name")->required();
  auto* st = xdp->add_subcommand("status", "interfaces running the guard, and its counters");
  st->add_option("--bpffs", bpffs, "where tcp-routed pinned the guard and its maps");
  st->add_flag("--json", json, "JSON instead of a table");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kUsage;
  }
  if (xdp->parsed()) {
    if (attach->parsed()) {
      auto r = enforce::attach_pinned(bpffs, iface, mode == "generic" ? enforce::AttachMode::kGeneric : enforce::AttachMode::kNative);
      if (!r) return fail(r.error());
      if (json) fmt::print("{}\n", Json{{"iface", iface}, {"attached", true}, {"mode", mode}}.dump(2));
      else fmt::print("zone guard attached to {} ({})\n", iface, mode);
      return 0;
    }
    if (detach->parsed()) {
      auto r = enforce::detach_iface(iface);
      if (!r) return fail(r.error());
      if (json) fmt::print("{}\n", Json{{"iface", iface}, {"attached", false}}.dump(2));
      else fmt::print("XDP detached from {}\n", iface);
      return 0;
    }
    return status(bpffs, json);
  }
  if (status_c->parsed()) return run_command(socket, "status", Json::object(), json);
  if (agents_c->parsed()) {
    Json a{{"top", top}};
    if (!zone.empty()) a["zone"] = zone;
    return run_command(socket, "agents", a, json);
  }
  if (agent_c->parsed()) return run_command(socket, "agent", Json{{"id", id}}, json);
  if (zone_set->parsed()) {
    Json a{{"id", id}, {"zone", zone}};
    if (!ttl.empty()) a["ttl"] = ttl;
    return run_command(socket, "zone", a, json);
  }
  if (release_c->parsed()) return run_command(socket, "release", Json{{"id", id}}, json);
  if (paths_c->parsed()) return run_command(socket, "paths", Json::object(), json);
  if (path_up->parsed() || path_down->parsed())
    return run_command(socket, "path", Json{{"name", name}, {"state", path_up->parsed() ? "up" : "down"}}, json);
  if (flows_c->parsed()) {
    Json a{{"top", top}};
    if (!cls.empty()) a["class"] = cls;
    if (!agent_ip.empty()) a["agent"] = agent_ip;
    return run_command(socket, "flows", a, json);
  }
  if (explain_c->parsed()) {
    Json a = Json::object();
    if (!in_port.empty()) a["port"] = in_port;
    if (!frame_hex.empty()) {
      a["frame"] = frame_hex;
    } else if (!pcap_file.empty()) {
      a["pcap"] = pcap_file;
      a["index"] = index;
    } else {
      if (src.empty() || dst.empty() || sport == 0 || dport == 0) {
        fmt::print(stderr, "tcp-routectl: explain needs --src, --sport, --dst and --dport (or --frame, or --pcap)\n");
        return kUsage;
      }
      if (!payload_file.empty()) {
        std::ifstream in(payload_file, std::ios::binary);
        payload.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      a.update(Json{{"proto", proto}, {"src", src}, {"sport", sport}, {"dst", dst}, {"dport", dport}, {"payload", payload}});
    }
    return run_command(socket, "explain", a, json);
  }
  if (stats_c->parsed()) return run_command(socket, "stats", Json::object(), json);
  if (classes_c->parsed()) return run_command(socket, "classes", Json::object(), json);
  if (reload_c->parsed()) return run_command(socket, "reload", Json::object(), json);
  if (events_c->parsed()) {
    const Json a{{"last", last}, {"follow", follow}};
    return follow ? follow_events(socket, a, json) : run_command(socket, "events", a, json);
  }
  if (help_c->parsed()) return run_command(socket, "help", Json::object(), json);
  return kUsage;
}
