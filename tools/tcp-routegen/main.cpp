// main.cpp — tcp-routegen: writes a pcap of synthetic, labelled AI-agent traffic.
//
//   tcp-routegen -o OUT.pcap [--agents 50] [--servers 20] [--flows 500] [--duration 10]
//                [--seed 1] [--agent-subnet 10.1.0.0/16] [--server-subnet 10.2.0.0/16]
//                [--mix http_json=5,tls_hello=3,dns_query=2] [--list-scenarios]
//   tcp-routegen -o OUT.pcap --behavior [--agents N] [--duration D] [--seed S] [--rate R]
//                [--anomalies KIND=COUNT,...|all=K|none] [--onset T]     (behavior.hpp)
//
// Also writes OUT.pcap.labels.jsonl (label_writer.hpp), and in behaviour mode
// OUT.pcap.agents.jsonl. Errors are one line on stderr and a non-zero exit: 2 for bad options, 1
// for failures while writing.
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "behavior.hpp"
#include "generator.hpp"
#include "scenarios.hpp"

namespace {

constexpr const char* kProgram = "tcp-routegen";

int list_scenarios() {
  for (const tcpr::gen::ScenarioKind& kind : tcpr::gen::scenario_kinds()) {
    fmt::print("{:<14} weight {:<3} {}\n", kind.name, kind.default_weight, kind.help);
  }
  return 0;
}

int run_behavior(const tcpr::gen::BehaviorConfig& config) {
  try {
    const auto result = tcpr::gen::generate_behavior(config);
    if (!result.ok()) {
      fmt::print(stderr, "{}: error: {}\n", kProgram, result.error());
      return 2;
    }
    const tcpr::gen::BehaviorSummary& s = result.value();
    fmt::print(
        "{}: wrote {} packets ({} bytes) in {} conversations of {} agents ({} anomalous) "
        "to {} (agents: {}; labels: {})\n",
        kProgram, s.packets, s.bytes, s.conversations, config.base.agents, s.anomalous,
        config.base.output, s.agents_path, s.labels_path);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: internal error: {}\n", kProgram, e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using tcpr::gen::GenConfig;
  GenConfig config;
  bool list = false;
  CLI::App app{"Writes a pcap of synthetic AI-agent traffic (and OUT.labels.jsonl)", kProgram};
  app.add_option("-o,--output", config.output, "output pcap file");
  app.add_option("--agents", config.agents, "number of agents (distinct client IPs)")
      ->capture_default_str();
  app.add_option("--servers", config.servers, "number of servers")->capture_default_str();
  app.add_option("--flows", config.flows, "total number of conversations (TCP + UDP)")
      ->capture_default_str();
  app.add_option("--duration", config.duration_s, "seconds the capture spans at most")
      ->capture_default_str();
  // CLI11 would wrap "-1" into an unsigned seed; a negative seed is a mistake, say so.
  const CLI::Validator non_negative(
      [](std::string& text) { return text.starts_with('-') ? "must not be negative" : ""; }, "",
      "non-negative");
  app.add_option("--seed", config.seed, "random seed; same seed, same bytes")
      ->check(non_negative)
      ->capture_default_str();
  app.add_option("--agent-subnet", config.agent_subnet, "IPv4 subnet of the agents")
      ->capture_default_str();
  app.add_option("--server-subnet", config.server_subnet, "IPv4 subnet of the servers")
      ->capture_default_str();
  app.add_option("--mix", config.mix,
                 "scenario weights, e.g. http_json=5,tls_hello=3,dns_query=2 (default: all kinds "
                 "at their default weights; see --list-scenarios)");
  app.add_flag("--list-scenarios", list, "list the scenario kinds and exit");
  tcpr::gen::BehaviorConfig behavior;
  bool behavior_mode = false;
  double onset_s = 0;
  app.add_flag("--behavior", behavior_mode,
               "behaviour mode: agents acting over --duration, anomalies from an onset "
               "(also writes OUT.agents.jsonl)");
  app.add_option("--rate", behavior.rate, "behaviour mode: mean activities per agent per second")
      ->capture_default_str();
  app.add_option("--anomalies", behavior.anomalies,
                 "behaviour mode: kind=count,... or all=K or none (default: all=1 with 16 agents "
                 "or more, else none)");
  app.add_option("--onset", onset_s,
                 "behaviour mode: onset of the anomalies, seconds (default "
                 "0.6 x duration; each agent adds 0-0.5 s)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    fmt::print(stderr, "{}: error: {}\n", kProgram, e.what());
    return 2;
  }
  if (list) return list_scenarios();
  // Options of one mode given to the other are mistakes, not silently ignored.
  const char* misplaced = nullptr;
  if (behavior_mode) {
    misplaced = app.count("--flows") > 0 ? "--flows" : app.count("--mix") > 0 ? "--mix" : nullptr;
  } else {
    misplaced = app.count("--rate") > 0        ? "--rate"
                : app.count("--anomalies") > 0 ? "--anomalies"
                : app.count("--onset") > 0     ? "--onset"
                                               : nullptr;
  }
  if (misplaced != nullptr) {
    fmt::print(stderr, "{}: error: {} {} with --behavior\n", kProgram, misplaced,
               behavior_mode ? "cannot be used" : "only applies");
    return 2;
  }
  if (behavior_mode) {
    behavior.base = config;
    if (app.count("--onset") > 0) behavior.onset_s = onset_s;
    return run_behavior(behavior);
  }

  try {
    const auto result = tcpr::gen::generate(config);
    if (!result.ok()) {
      fmt::print(stderr, "{}: error: {}\n", kProgram, result.error());
      return 2;
    }
    const tcpr::gen::GenSummary& s = result.value();
    fmt::print("{}: wrote {} packets ({} bytes) in {} conversations to {} (labels: {}; mix {})\n",
               kProgram, s.packets, s.bytes, s.flows, config.output, s.labels_path, s.mix);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: internal error: {}\n", kProgram, e.what());
    return 1;
  }
  return 0;
}
