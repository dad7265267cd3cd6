// main.cpp — tcp-routegen: writes a pcap of synthetic, labelled AI-agent traffic.
//
//   tcp-routegen -o OUT.pcap [--agents 50] [--servers 20] [--flows 500] [--duration 10]
//                [--seed 1] [--agent-subnet 10.1.0.0/16] [--server-subnet 10.2.0.0/16]
//                [--mix http_json=5,tls_hello=3,dns_query=2] [--list-scenarios]
//
// Also writes OUT.pcap.labels.jsonl (label_writer.hpp). Errors are one line on stderr and a
// non-zero exit: 2 for bad options, 1 for failures while writing.
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    fmt::print(stderr, "{}: error: {}\n", kProgram, e.what());
    return 2;
  }
  if (list) return list_scenarios();

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
