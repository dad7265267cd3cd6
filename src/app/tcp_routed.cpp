// tcp-routed — the dataplane daemon (live mode) and `tcp-routed replay`.
//   tcp-routed --config FILE [-- EAL args]
//   tcp-routed replay IN.pcap --report-dir DIR [--config FILE] [--workers N] [--agents CIDR,...]
//                    [--path-events FILE] [-- EAL args]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tcpr/config/config.hpp"
#include "tcpr/dataplane/dataplane.hpp"

int main(int argc, char** argv) {
  // Everything after "--" belongs to the EAL.
  std::vector<std::string> eal_args;
  int own_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      eal_args.assign(argv + i + 1, argv + argc);
      own_argc = i;
      break;
    }
  }

  CLI::App app{"tcp-routed: a packet router for networks where AI agents run"};
  app.set_version_flag("--version", "tcp-routed 0.1.0");
  std::string config_path;
  app.add_option("-c,--config", config_path, "configuration file (TOML)")->check(CLI::ExistingFile);
  double stats_interval = 0;
  bool detach_on_exit = false;
  app.add_flag("--detach-on-exit", detach_on_exit,
               "live: detach the XDP zone guard when tcp-routed exits (default: it stays and keeps enforcing)");
  app.add_option("--stats-interval", stats_interval, "live: print port rates every SECONDS (0: never)")
      ->check(CLI::Range(0.0, 3600.0));

  auto* replay = app.add_subcommand("replay", "replay a capture and report what the router would have done");
  std::string capture, report_dir, replay_config;
  std::uint32_t workers = 0;
  bool quiet = false;
  replay->add_option("capture", capture, "input capture (pcap, Ethernet)")->required();
  replay->add_option("--report-dir", report_dir, "directory for flows.jsonl, summary.json and out/")->required();
  replay->add_option("-c,--config", replay_config, "configuration (default: the built-in config/replay.toml)")
      ->check(CLI::ExistingFile);
  replay->add_option("-w,--workers", workers, "worker lcores (default: dataplane.workers)")
      ->check(CLI::Range(1, 64));
  replay->add_flag("-q,--quiet", quiet, "do not print the summary");
  std::string classes_path;
  bool no_classify = false;
  replay->add_option("--classes", classes_path, "class definitions (default: classify.classes, or the built-in)")
      ->check(CLI::ExistingFile);
  replay->add_flag("--no-classify", no_classify, "skip content classification");
  double reload_interval = 0;
  replay->add_option("--reload-interval", reload_interval,
                     "testing aid: re-read the classes file every SECONDS during the replay")
      ->check(CLI::Range(0.0001, 3600.0));

  std::string agents;
  double tick = 0;
  replay->add_option("--agents", agents, "the agent side: CIDR[,CIDR...] (default: behavior.agents)");
  std::string path_events;
  replay->add_option("--path-events", path_events,
                     "a schedule of path state changes: lines 'TIME PATH up|down' (TIME in capture seconds, "
                     "or +SECONDS after the first packet)")
      ->check(CLI::ExistingFile);
  replay->add_option("--tick", tick, "behaviour tick in capture seconds (default: behavior.tick, 0.1)")
      ->check(CLI::Range(0.001, 60.0));

  try {
    app.parse(own_argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*replay) {
    auto cfg = replay_config.empty()
                   ? tcpr::config::parse_config(tcpr::config::embedded_replay_config(), "<built-in replay.toml>")
                   : tcpr::config::load_config(replay_config);
    if (!cfg) {
      fmt::print(stderr, "tcp-routed: {}\n", cfg.error());
      return 1;
    }
    if (!classes_path.empty()) cfg.value().classes_path = classes_path;
    if (no_classify) cfg.value().classify_enabled = false;
    tcpr::dataplane::ReplayOptions opt{capture, report_dir, workers, eal_args, quiet, reload_interval, agents, tick,
                                       path_events};
    return tcpr::dataplane::run_replay(cfg.value(), opt);
  }
  if (config_path.empty()) {
    fmt::print(stderr, "tcp-routed: live mode needs --config FILE (or use `tcp-routed replay`)\n");
    return 2;
  }
  auto cfg = tcpr::config::load_config(config_path);
  if (!cfg) {
    fmt::print(stderr, "tcp-routed: {}\n", cfg.error());
    return 1;
  }
  return tcpr::dataplane::run_live(cfg.value(), {eal_args, stats_interval, detach_on_exit});
}
