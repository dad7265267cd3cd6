// The routing engine: scores by the DESIGN.md formula (expected values computed by hand below),
// each strategy, pinning and its triggers, the consistent-hash disruption bound, the schedule
// of path events, and the config's [[path]] / [routing] checks.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "tcpr/config/config.hpp"
#include "tcpr/route/router.hpp"

using namespace tcpr;
using namespace tcpr::route;

namespace {

PathConfig path(const std::string& name, std::vector<std::string> classes, double min_trust = 0,
                std::vector<std::string> caps = {}) {
  PathConfig p;
  p.name = name;
  p.classes = std::move(classes);
  p.min_trust = min_trust;
  p.capabilities = std::move(caps);
  p.capacity_mbps = 8;   // 1e6 bytes/s: a load of 0.5 is 500 000 bytes/s
  return p;
}

struct Rig {
  std::shared_ptr<RouteShared> shared;
  std::unique_ptr<Router> router;
  ClassView view;
  explicit Rig(const RoutingConfig& cfg, std::vector<PathEvent> events = {}) {
    shared = std::make_shared<RouteShared>(std::make_shared<const RouteTable>(cfg, std::vector<Mac>(4)), 1,
                                           std::move(events));
    router = std::make_unique<Router>(shared, 0);
    view = router->make_view(nullptr, {"unknown", "llm.api", "mcp", "dns", "http"}, {"secret", "shell"});
  }
};

constexpr std::uint8_t kUnknown = 0, kLlm = 1, kMcp = 2, kDns = 3, kHttp = 4;
constexpr std::uint16_t kSecret = 1;

FlowFacts facts(std::uint8_t cls, float trust, float anomaly = 0, std::uint8_t zone = TCPR_ZONE_TRUSTED,
                std::uint64_t hash = 42) {
  FlowFacts f;
  f.class_id = cls;
  f.trust = trust;
  f.anomaly = anomaly;
  f.zone = zone;
  f.hash = hash;
  return f;
}

}  // namespace

TEST_CASE("glob matching", "[route]") {
  CHECK(glob_match("llm.*", "llm.api"));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("m?p", "mcp"));
  CHECK(glob_match("*.api", "llm.api"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("llm.*", "llm"));
  CHECK_FALSE(glob_match("mcp", "mcpx"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "x"));
}

TEST_CASE("scores follow the weighted formula and the anomaly penalty", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {"llm.*"}), path("b", {}, 0.6), path("c", {"dns"})};
  Rig rig(cfg);
  float s[kMaxPaths];
  // trust 0.8, no load, no needs (capability term 1):
  //   a: 0.3·1   + 0.3·(1 − 0.8)       + 0.2·1 + 0.2·1 = 0.76
  //   b: 0.3·0.5 + 0.3·(1 − (0.8 − 0.6)) + 0.2 + 0.2   = 0.79
  //   c: 0.3·0   + 0.3·0.2             + 0.2 + 0.2     = 0.46
  CHECK(rig.router->scores(facts(kLlm, 0.8f), rig.view, s) == 0b111u);
  CHECK(s[0] == Approx(0.76));
  CHECK(s[1] == Approx(0.79));
  CHECK(s[2] == Approx(0.46));
  // Anomaly 0.5 × sensitivity 0.5: every score × 0.75.
  rig.router->scores(facts(kLlm, 0.8f, 0.5f), rig.view, s);
  CHECK(s[0] == Approx(0.57));
  CHECK(s[1] == Approx(0.5925));
  // Trust 0.5 < b's min_trust: b is not eligible.
  CHECK(rig.router->scores(facts(kLlm, 0.5f), rig.view, s) == 0b101u);
  CHECK(s[1] == -1.0f);
  // The semantic choice is the best score.
  CHECK(rig.router->decide(facts(kLlm, 0.8f), rig.view).path == 1);
  CHECK(rig.router->decide(facts(kLlm, 0.5f), rig.view).path == 0);
}

TEST_CASE("min_score makes the penalty exclude paths; no eligible path means no path", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {"llm.*"}), path("b", {})};
  cfg.min_score = 0.5;
  cfg.behavioral_sensitivity = 1.0;
  Rig rig(cfg);
  float s[kMaxPaths];
  // trust 1: a = 0.3 + 0.3·0 + 0.4 = 0.7, b = 0.15 + 0.4 = 0.55; anomaly 0.25 → ×0.75: 0.525, 0.4125.
  CHECK(rig.router->scores(facts(kLlm, 1.0f, 0.25f), rig.view, s) == 0b01u);
  CHECK(s[0] == Approx(0.525));
  // Anomaly 0.5: 0.35 and 0.275, both under 0.5.
  CHECK(rig.router->decide(facts(kLlm, 1.0f, 0.5f), rig.view).path == kNoPath);
}

TEST_CASE("needed capabilities: hard excludes, soft scores", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("llm", {"llm.*"}), path("dlp", {}, 0, {"dlp"})};
  cfg.needs = {{"tag:secret", {"dlp"}}};
  {
    Rig rig(cfg);
    auto f = facts(kLlm, 1.0f);
    CHECK(rig.router->decide(f, rig.view).path == 0);
    f.tags = kSecret;
    float s[kMaxPaths];
    CHECK(rig.router->scores(f, rig.view, s) == 0b10u);
    CHECK(rig.router->decide(f, rig.view).path == 1);
  }
  cfg.needs_hard = false;
  {
    Rig rig(cfg);
    auto f = facts(kLlm, 1.0f);
    f.tags = kSecret;
    float s[kMaxPaths];
    CHECK(rig.router->scores(f, rig.view, s) == 0b11u);
    // llm: 0.3 + 0 + 0.2 + 0.2·0 = 0.5; dlp: 0.15 + 0 + 0.2 + 0.2·1 = 0.55.
    CHECK(s[0] == Approx(0.5));
    CHECK(s[1] == Approx(0.55));
  }
  cfg.needs = {{"llm.*", {"dlp"}}};   // a class glob
  cfg.needs_hard = true;
  Rig rig(cfg);
  CHECK(rig.router->decide(facts(kLlm, 1.0f), rig.view).path == 1);
  // http needs nothing; dlp lists no classes (affinity 0.5) against llm's 0 for http.
  CHECK(rig.router->decide(facts(kHttp, 1.0f), rig.view).path == 1);
}

TEST_CASE("an exclusive path takes only flows that need one of its capabilities", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("general", {}), path("dlp", {}, 0, {"dlp"})};
  cfg.paths[1].exclusive = true;
  cfg.needs = {{"tag:secret", {"dlp"}}};
  Rig rig(cfg);
  float s[kMaxPaths];
  // Without the exclusion both score 0.15 + 0.3·(1 − 1) + 0.2 + 0.2 and only load would part them.
  CHECK(rig.router->scores(facts(kHttp, 1.0f), rig.view, s) == 0b01u);
  auto f = facts(kHttp, 1.0f);
  f.tags = kSecret;
  CHECK(rig.router->decide(f, rig.view).path == 1);
}

TEST_CASE("least_loaded and lowest_latency choose among the paths made for the class", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("d1", {"dns"}), path("d2", {"dns"}), path("other", {})};
  cfg.paths[0].latency_us = 90;
  cfg.paths[1].latency_us = 40;
  cfg.paths[2].latency_us = 1;   // fastest, but not a DNS path
  cfg.load_alpha = 1.0;          // the load is the last interval's rate
  cfg.class_strategy = {{"dns", Strategy::kLeastLoaded}, {"http", Strategy::kLowestLatency}};
  Rig rig(cfg);
  Router& r = *rig.router;
  // 0.1 s intervals on the packet clock, anchored at the first advance.
  const std::uint64_t t0 = 1'000'000'000ull;
  r.advance(t0);
  r.count(0, 60'000);   // 600 000 B/s on d1 → load 0.6
  r.count(1, 20'000);   // 200 000 B/s on d2 → load 0.2
  r.advance(t0 + 100'000'000ull);
  CHECK(r.load(0) == Approx(0.6));
  CHECK(r.load(1) == Approx(0.2));
  CHECK(r.load(2) == Approx(0.0));
  CHECK(r.decide(facts(kDns, 1.0f), rig.view).path == 1);
  // Three idle intervals later (alpha 1: nothing left) d1 and d2 tie at 0: the better score
  // decides, equal here, so the lower index.
  r.advance(t0 + 400'000'000ull);
  CHECK(r.load(0) == Approx(0.0));
  CHECK(r.decide(facts(kDns, 1.0f), rig.view).path == 0);
  // http: no path lists it, so all three have affinity 0.5 and "other" is the fastest.
  CHECK(r.decide(facts(kHttp, 1.0f), rig.view).path == 2);
}

TEST_CASE("consistent hashing: balanced, and a lost path moves only its own flows", "[route]") {
  RoutingConfig cfg;
  for (int i = 0; i < 4; ++i) cfg.paths.push_back(path("dns" + std::to_string(i), {"dns"}));
  cfg.paths.push_back(path("web", {"http"}));
  cfg.class_strategy = {{"dns", Strategy::kConsistentHash}};
  const std::uint64_t t_down = 5'000'000'000ull;
  Rig rig(cfg, {{t_down, 2, false}});
  Router& r = *rig.router;
  std::mt19937_64 rng(9);
  std::vector<std::uint64_t> hashes(4000);
  for (auto& h : hashes) h = rng();
  std::vector<std::uint16_t> before;
  std::map<std::uint16_t, int> count;
  for (auto h : hashes) {
    const auto p = r.decide(facts(kDns, 1.0f, 0, TCPR_ZONE_TRUSTED, h), rig.view).path;
    before.push_back(p);
    ++count[p];
  }
  CHECK(count.count(4) == 0);   // never the web path
  for (int p = 0; p < 4; ++p) {
    INFO("path " << p);
    CHECK(count[static_cast<std::uint16_t>(p)] > 800);    // 1000 expected each
    CHECK(count[static_cast<std::uint16_t>(p)] < 1200);
  }
  // The same flow always gets the same path.
  CHECK(r.decide(facts(kDns, 1.0f, 0, TCPR_ZONE_TRUSTED, hashes[7]), rig.view).path == before[7]);
  r.advance(t_down);
  CHECK_FALSE(r.up(2));
  int moved = 0;
  std::map<std::uint16_t, int> spread;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    const auto p = r.decide(facts(kDns, 1.0f, 0, TCPR_ZONE_TRUSTED, hashes[i]), rig.view).path;
    if (before[i] != 2) {
      CHECK(p == before[i]);
    } else {
      ++moved;
      ++spread[p];
      CHECK(p != 2);
    }
  }
  CHECK(moved == count[2]);
  CHECK(spread.size() == 3);   // the lost path's flows spread over all three others
}

TEST_CASE("trust_weighted: fixed per flow, drawn by score^(1 + 4·trust)", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {"llm.*"}), path("b", {})};
  cfg.strategy = Strategy::kTrustWeighted;
  cfg.w_trust = 0;   // scores independent of trust: a = 0.3 + 0.4 = 0.7, b = 0.15 + 0.4 = 0.55
  Rig rig(cfg);
  std::mt19937_64 rng(3);
  auto share_of_a = [&](float trust) {
    int a = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) a += rig.router->decide(facts(kLlm, trust, 0, TCPR_ZONE_TRUSTED, rng()), rig.view).path == 0;
    return static_cast<double>(a) / n;
  };
  // trust 0: k = 1, P(a) = 0.7 / 1.25 = 0.56; trust 1: k = 5, 0.7^5 / (0.7^5 + 0.55^5) = 0.7682.
  CHECK(share_of_a(0.0f) == Approx(0.56).margin(0.015));
  CHECK(share_of_a(1.0f) == Approx(0.7682).margin(0.015));
  const auto f = facts(kLlm, 0.5f, 0, TCPR_ZONE_TRUSTED, 0x1234567890abcdefull);
  const auto first = rig.router->decide(f, rig.view).path;
  for (int i = 0; i < 10; ++i) CHECK(rig.router->decide(f, rig.view).path == first);
}

TEST_CASE("redundant mirrors on the monitor path, else the second best; zones pick strategies", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {"llm.*"}), path("b", {}), path("c", {"dns"})};
  Rig plain(cfg);
  // MONITORED: redundant by default. No monitor path: the second best (b, 0.55 against c 0.4).
  auto pin = plain.router->decide(facts(kLlm, 1.0f, 0, TCPR_ZONE_MONITORED), plain.view);
  CHECK(pin.path == 0);
  CHECK(pin.mirror == 1);
  CHECK(plain.router->decide(facts(kLlm, 1.0f, 0, TCPR_ZONE_TRUSTED), plain.view).mirror == kNoPath);
  cfg.paths.push_back(path("mon", {}));
  cfg.paths.back().role = PathRole::kMonitor;
  cfg.paths.push_back(path("quar", {}));
  cfg.paths.back().role = PathRole::kQuarantine;
  cfg.zone_strategy[TCPR_ZONE_TRUSTED] = Strategy::kLowestLatency;
  cfg.paths[1].latency_us = 1;
  Rig rig(cfg);
  pin = rig.router->decide(facts(kLlm, 1.0f, 0, TCPR_ZONE_MONITORED), rig.view);
  CHECK(pin.path == 0);
  CHECK(pin.mirror == 3);
  // Role paths are never an ordinary choice.
  float s[kMaxPaths];
  CHECK(rig.router->scores(facts(kLlm, 1.0f), rig.view, s) == 0b111u);
  // QUARANTINED: the quarantine path.
  CHECK(rig.router->decide(facts(kLlm, 0.0f, 1.0f, TCPR_ZONE_QUARANTINED), rig.view).path == 4);
  // A zone's own strategy replaces the class's: TRUSTED → lowest_latency. Among the paths of the
  // best affinity for llm.api (only a) that is a; for http (a, b, c... affinity 0.5 only b) b.
  CHECK(rig.router->decide(facts(kLlm, 1.0f), rig.view).path == 0);
  CHECK(rig.router->decide(facts(kHttp, 1.0f), rig.view).path == 1);
}

TEST_CASE("a pinned flow stays until its zone, content, path or trust says otherwise", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {"llm.*"}, 0.5), path("b", {})};
  const std::uint64_t t = 2'000'000'000ull;
  Rig rig(cfg, {{t, 0, false}, {t + 1'000'000'000ull, 0, true}});
  Router& r = *rig.router;
  r.advance(1'000'000'000ull);
  auto f = facts(kLlm, 1.0f);
  auto pin = r.decide(f, rig.view);
  REQUIRE(pin.path == 0);
  CHECK(r.check(pin, f) == Reroute::kNone);
  // Loads and scores change nothing for a pinned flow: only the triggers below do.
  auto g = f;
  g.zone = TCPR_ZONE_MONITORED;
  CHECK(r.check(pin, g) == Reroute::kZone);
  g = f;
  g.tags = kSecret;
  CHECK(r.check(pin, g) == Reroute::kContent);
  g = f;
  g.trust = 0.4f;
  CHECK(r.check(pin, g) == Reroute::kTrust);
  r.advance(t);   // a goes down
  CHECK(r.check(pin, f) == Reroute::kPathDown);
  pin = r.decide(f, rig.view);
  CHECK(pin.path == 1);
  r.advance(t + 1'000'000'000ull);   // a is back: b's flow stays pinned (one epoch check, then quiet)
  CHECK(r.check(pin, f) == Reroute::kNone);
  CHECK(r.check(pin, f) == Reroute::kNone);
  // A flow that found no path tries again when the paths change.
  flow::RoutePin none;
  none.zone = TCPR_ZONE_TRUSTED;
  none.class_id = kLlm;
  none.epoch = 0;
  CHECK(r.check(none, f) == Reroute::kPathUp);
}

TEST_CASE("operator path state arrives as a new table", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {"llm.*"}), path("b", {})};
  Rig rig(cfg);
  auto f = facts(kLlm, 1.0f);
  auto pin = rig.router->decide(f, rig.view);
  REQUIRE(pin.path == 0);
  REQUIRE(rig.shared->publisher.publish(rig.router->table().with_state(0, false)));
  rig.router->poll();
  CHECK_FALSE(rig.router->up(0));
  CHECK(rig.router->check(pin, f) == Reroute::kPathDown);
  CHECK(rig.router->decide(f, rig.view).path == 1);
}

TEST_CASE("a port's link state is its paths' state, apart from the operator's", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {"llm.*"}), path("b", {}), path("c", {})};
  cfg.paths[1].port_index = 1;
  cfg.paths[2].port_index = 1;
  const RouteTable t(cfg, std::vector<Mac>(2));
  CHECK(t.up() == 0b111u);
  const auto down = t.with_link(1, false);
  CHECK(down->up() == 0b001u);
  CHECK(down->epoch() == t.epoch() + 1);
  const auto admin = down->with_state(1, false);   // the operator takes b down while the link is down
  const auto back = admin->with_link(1, true);
  CHECK(back->up() == 0b101u);                      // c returns with the link, b stays down
  CHECK(back->admin_up() == 0b101u);
  CHECK(back->link_up() == 0b111u);
}

TEST_CASE("path event files: times, names, errors with file:line", "[route]") {
  RoutingConfig cfg;
  cfg.paths = {path("a", {}), path("b", {})};
  auto ok = parse_path_events("# schedule\n+1.5 a down\n\n1700000000.25 b down   # absolute\n+2 a up\n", "ev.txt", cfg,
                              1'700'000'000'000'000'000ull);
  REQUIRE(ok.ok());
  const auto& e = ok.value();
  REQUIRE(e.size() == 3);
  CHECK(e[0].ts_ns == 1'700'000'000'250'000'000ull);
  CHECK(e[0].path == 1);
  CHECK(e[1].ts_ns == 1'700'000'001'500'000'000ull);
  CHECK_FALSE(e[1].up);
  CHECK(e[2].ts_ns == 1'700'000'002'000'000'000ull);
  CHECK(e[2].up);
  auto err = [&](const char* text) {
    auto r = parse_path_events(text, "ev.txt", cfg, 0);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  CHECK(err("+1 a down\n+2 c down\n") == "ev.txt:2: no path named 'c'");
  CHECK(err("x a down\n") == "ev.txt:1: 'x' is not a time (capture seconds, or +seconds after the first packet)");
  CHECK(err("+1 a sideways\n") == "ev.txt:1: 'sideways': expected up or down");
  CHECK(err("+1 a\n") == "ev.txt:1: expected 'TIME PATH up|down'");
  CHECK(err("-1 a down\n").find("is not a time") != std::string::npos);
}

TEST_CASE("[[path]] and [routing] are read and checked", "[route]") {
  const std::string ports = "[[port]]\nname = \"agents\"\negress = \"route\"\n[[port]]\nname = \"wan\"\n";
  auto ok = config::parse_config(ports +
                                     "[[path]]\nname = \"p\"\nport = \"wan\"\nnext_hop_mac = \"02:00:00:00:00:aa\"\nvlan = 7\n"
                                     "classes = [\"llm.*\"]\ncapabilities = [\"dlp\"]\nl3 = true\n"
                                     "[[path]]\nname = \"q\"\nport = \"wan\"\nnext_hop_mac = \"02:00:00:00:00:bb\"\nvlan = \"strip\"\n"
                                     "[routing]\nstrategy = \"least_loaded\"\nweights = { affinity = 1, trust = 0 }\n"
                                     "[routing.classes]\n\"llm.*\" = \"redundant\"\n\"llm.api\" = \"lowest_latency\"\n"
                                     "[routing.zones]\nquarantined = \"consistent_hash\"\n",
                                 "t.toml");
  REQUIRE(ok.ok());
  const auto& rc = ok.value().routing;
  REQUIRE(rc.paths.size() == 2);
  CHECK(rc.paths[0].port_index == 1);
  CHECK(rc.paths[0].next_hop_mac == Mac{2, 0, 0, 0, 0, 0xaa});
  CHECK(rc.paths[0].vlan == VlanAction::kSet);
  CHECK(rc.paths[0].vlan_id == 7);
  CHECK(rc.paths[1].vlan == VlanAction::kStrip);
  CHECK(rc.strategy == Strategy::kLeastLoaded);
  CHECK(rc.w_affinity == 1.0);
  CHECK(rc.w_trust == 0.0);
  CHECK(rc.w_load == 0.2);
  REQUIRE(rc.class_strategy.size() == 2);
  CHECK(rc.class_strategy[0].class_glob == "llm.api");   // most specific first
  CHECK(rc.zone_strategy[TCPR_ZONE_QUARANTINED] == Strategy::kConsistentHash);
  CHECK(rc.needs.size() == 1);   // the built-in need: a dlp path exists
  auto err = [&](const std::string& text) {
    auto r = config::parse_config(ports + text, "t.toml");
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  const std::string p = "[[path]]\nname = \"p\"\nport = \"wan\"\nnext_hop_mac = \"02:00:00:00:00:aa\"\n";
  CHECK(err(p + "colour = 1\n") == "t.toml:10:10: unknown key 'path.colour'");
  CHECK(err("[[path]]\nname = \"p\"\nport = \"wan\"\nnext_hop_mac = \"02:00:00:00:00\"\n") ==
        "t.toml:9:16: 'path.next_hop_mac' = '02:00:00:00:00' is not a MAC address (aa:bb:cc:dd:ee:ff)");
  CHECK(err(p + "vlan = 4095\n") == "t.toml:10:8: 'path.vlan' = 4095 is out of range [1, 4094]");
  CHECK(err(p + "vlan = \"pop\"\n") == "t.toml:10:8: 'path.vlan' must be a VLAN id (1-4094) or \"strip\"");
  CHECK(err("[[path]]\nname = \"p\"\nport = \"lan\"\nnext_hop_mac = \"02:00:00:00:00:aa\"\n") ==
        "t.toml:8:8: path.port: no port named 'lan'");
  CHECK(err(p + p) == "t.toml:10:1: duplicate path name 'p'");
  CHECK(err(p + "role = \"boss\"\n") == "t.toml:10:8: 'path.role' must be \"quarantine\" or \"monitor\"");
  CHECK(err(p + "exclusive = true\n") == "t.toml:10:13: 'path.exclusive' needs capabilities: no flow could use the path");
  CHECK(err(p + "[routing]\nstrategy = \"fastest\"\n").find("'routing.strategy' must be one of semantic") != std::string::npos);
  CHECK(err(p + "[routing.zones]\nBLUE = \"semantic\"\n") == "t.toml:11:8: routing.zones: 'BLUE' is not a zone");
  CHECK(err(p + "[routing.needs]\n\"tag:secret\" = [\"dlp\"]\n") ==
        "t.toml:11:17: routing.needs.tag:secret: no path has capability 'dlp'");
  CHECK(err(p + "[routing]\ndefault_path = \"nowhere\"\n") == "t.toml:11:16: routing.default_path: no path named 'nowhere'");
  CHECK(config::parse_config(ports, "t.toml").error().find("egress = \"route\" needs at least one [[path]]") !=
        std::string::npos);
}
