// dataplane.hpp — the two ways tcp-routed runs, behind an interface free of DPDK types.
//
// run_live(): EAL from config `dataplane.eal_args` plus the command line's EAL arguments, every
// configured port probed from its device string, N workers; runs until SIGINT/SIGTERM, then
// prints final port and drop counters.
//
// run_replay(): builds its own net_pcap devices — RX from the capture on `replay.ingress`, TX of
// every configured port into DIR/out/<port>.pcap — runs without hugepages to the end of the
// capture on the capture's clock, and writes DIR/flows.jsonl, DIR/summary.json and, with agents
// configured (behavior.agents or --agents), DIR/agents.jsonl and DIR/events.jsonl.
//
// Both return the process exit code; errors are one line on stderr.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tcpr/config/config.hpp"

namespace tcpr::dataplane {

struct ReplayOptions {
  std::string capture;
  std::string report_dir;
  std::uint32_t workers = 0;              // 0: from the configuration
  std::vector<std::string> eal_args;      // appended to the EAL arguments replay builds
  bool quiet = false;                     // no summary on stdout
  double reload_interval = 0;             // testing aid: reload the classes every this many s
  std::string agents;                     // "CIDR[,CIDR…]": the agent side (overrides behavior.agents)
  double tick_seconds = 0;                // 0: behavior.tick
  std::string path_events;                // file of scheduled path up/down events (route_table.hpp)
};

int run_replay(const config::Config& cfg, const ReplayOptions& opt);
struct LiveOptions {
  std::vector<std::string> eal_args;      // after those of `dataplane.eal_args`
  double stats_interval = 0;              // seconds between rate lines on stdout; 0: none
  bool detach_on_exit = false;            // the XDP guard leaves with tcp-routed ([enforce])
};

int run_live(const config::Config& cfg, const LiveOptions& opt);

}  // namespace tcpr::dataplane
