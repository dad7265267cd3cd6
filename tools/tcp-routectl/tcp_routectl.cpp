// tcp-routectl — the operator's tool. This first part drives the XDP zone guard (issue 7):
//
//   tcp-routectl xdp attach IFACE [--mode native|generic] [--bpffs DIR]
//   tcp-routectl xdp detach IFACE
//   tcp-routectl xdp status [--bpffs DIR] [--json]
//
// attach puts the guard tcp-routed pinned under DIR (default /sys/fs/bpf/tcp-route) on any Linux
// interface — e.g. the host side of each agent container's veth — sharing its maps, so the zones
// tcp-routed writes hold there too. status lists the interfaces running the guard and its
// counters (zone × action, and malformed frames by drop reason).
//
// Exit codes: 0 done; 1 the action failed (message on stderr: no guard pinned, no such interface,
// not permitted, …); 2 bad usage. The control-socket commands join this tool with issue 8.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tcpr/behavior/tracker.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tcp-routectl: operate tcp-route"};
  app.require_subcommand(1);
  auto* xdp = app.add_subcommand("xdp", "the XDP zone guard on any interface");
  xdp->require_subcommand(1);
  std::string bpffs = "/sys/fs/bpf/tcp-route";
  std::string iface, mode = "native";
  bool json = false;
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
    return rc == 0 ? 0 : 2;
  }
  if (attach->parsed()) {
    auto r = enforce::attach_pinned(bpffs, iface, mode == "generic" ? enforce::AttachMode::kGeneric : enforce::AttachMode::kNative);
    if (!r) return fail(r.error());
    fmt::print("zone guard attached to {} ({})\n", iface, mode);
    return 0;
  }
  if (detach->parsed()) {
    auto r = enforce::detach_iface(iface);
    if (!r) return fail(r.error());
    fmt::print("XDP detached from {}\n", iface);
    return 0;
  }
  return status(bpffs, json);
}
