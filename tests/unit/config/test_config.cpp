// Configuration: defaults, the shipped files, and one clear file:line:column error per mistake.
#include <catch2/catch.hpp>

#include "tcpr/config/config.hpp"

using tcpr::config::parse_config;
using tcpr::config::load_config;

namespace {
std::string error_of(const std::string& text) {
  auto r = parse_config(text, "test.toml");
  REQUIRE_FALSE(r.ok());
  return r.error();
}
}  // namespace

TEST_CASE("an empty configuration takes the documented defaults", "[config]") {
  auto r = parse_config("", "empty.toml");
  REQUIRE(r.ok());
  const auto& c = r.value();
  CHECK(c.dataplane.workers == 1);
  CHECK(c.dataplane.burst_size == 32);
  CHECK(c.flow.capacity == 1048576);
  CHECK(c.flow.timeout_ns[1] == 300'000'000'000ull);  // tcp_established
  CHECK(c.ports.empty());
}

TEST_CASE("the shipped configurations load", "[config]") {
  auto live = load_config(TCPR_SOURCE_DIR "/config/tcp-route.toml");
  REQUIRE(live.ok());
  CHECK(live.value().ports.size() == 2);
  CHECK(live.value().ports[0].egress == "world");
  CHECK(live.value().dataplane.eal_args.size() == 5);
  auto replay = load_config(TCPR_SOURCE_DIR "/config/replay.toml");
  REQUIRE(replay.ok());
  CHECK(replay.value().replay_ingress == "agents");
  auto embedded = parse_config(tcpr::config::embedded_replay_config(), "<built-in>");
  REQUIRE(embedded.ok());
  CHECK(embedded.value().ports.size() == replay.value().ports.size());
}

TEST_CASE("values are read with their units", "[config]") {
  auto r = parse_config(R"([dataplane]
workers = 4
eal_args = ["--no-huge"]
[flow]
capacity = 1000
[flow.timeouts]
udp = 7
[[port]]
name = "a"
device = "net_null0"
egress = "b"
[[port]]
name = "b"
egress = "drop"
[replay]
ingress = "b"
)", "t.toml");
  REQUIRE(r.ok());
  const auto& c = r.value();
  CHECK(c.dataplane.workers == 4);
  CHECK(c.flow.capacity == 1000);
  CHECK(c.flow.timeout_ns[4] == 7'000'000'000ull);
  CHECK(c.port_index("b") == 1);
  CHECK(c.port_index("zz") == -1);
  CHECK(c.replay_ingress == "b");
}

// Positions are those of the offending value (toml++ records where a value starts).
TEST_CASE("mistakes stop with file:line:column and the key", "[config]") {
  CHECK(error_of("[dataplane]\nworkerz = 2\n") == "test.toml:2:11: unknown key 'dataplane.workerz'");
  CHECK(error_of("[dataplane]\nworkers = \"two\"\n") == "test.toml:2:11: 'dataplane.workers' must be an integer");
  CHECK(error_of("[dataplane]\nworkers = 0\n") ==
        "test.toml:2:11: 'dataplane.workers' = 0 is out of range [1, 64]");
  CHECK(error_of("[flow]\ncapacity = -5\n") ==
        "test.toml:2:12: 'flow.capacity' = -5 is out of range [1, 67108864]");
  CHECK(error_of("[flow.timeouts]\nudp = 0\n") ==
        "test.toml:2:7: 'flow.timeouts.udp' = 0 is out of range [1, 86400]");
  CHECK(error_of("bogus = 1\n") == "test.toml:1:9: unknown key 'bogus'");
  CHECK(error_of("[[port]]\nname = \"a\"\negress = \"nowhere\"\n") ==
        "test.toml:3:10: port.egress: no port named 'nowhere' (nor \"drop\" or \"route\")");
  CHECK(error_of("[[port]]\nname = \"a\"\n[[port]]\nname = \"a\"\n").find("test.toml:3:1: duplicate port name 'a'") == 0);
  CHECK(error_of("[[port]]\nname = \"Bad Name\"\n").find("test.toml:1:1: port name 'Bad Name'") == 0);
  CHECK(error_of("[[port]]\ndevice = \"x\"\n") == "test.toml:1:1: missing required key 'port.name'");
  CHECK(error_of("[dataplane]\neal_args = [1]\n") == "test.toml:2:13: 'dataplane.eal_args' must contain only strings");
  CHECK(error_of("[replay]\ningress = \"x\"\n") == "test.toml:2:11: replay.ingress: no port named 'x'");
  // A TOML syntax error reports the parser's position.
  CHECK(error_of("[dataplane\nworkers = 1\n").rfind("test.toml:1:", 0) == 0);
}

TEST_CASE("a missing file is a clear error", "[config]") {
  auto r = load_config("/nonexistent/tcp-route.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "/nonexistent/tcp-route.toml: cannot open configuration file");
}

TEST_CASE("[behavior] takes agents, cohorts, scoring, trust and zone settings", "[config]") {
  auto r = parse_config(R"(
[[port]]
name = "a"
[behavior]
agents = ["10.1.0.0/16", "2001:db8::/32"]
agent_ports = ["a"]
key = "vlan_ip"
tick = 0.25
[behavior.cohorts]
prefix_v4 = 20
parent_prefix_v4 = 12
[[behavior.group]]
name = "coders"
prefixes = ["10.1.4.0/24"]
[behavior.score]
distance_scale = 6
[behavior.burst]
floor = 0.1
quiet_floor = 0.001
scale = 5
cold_spread = 3
[behavior.trust]
gain = 0.02
[behavior.zones]
remediation = ["10.9.0.0/24"]
quarantine_classes = ["dns", "http"]
)", "b.toml");
  REQUIRE(r);
  const auto& b = r.value().behavior;
  CHECK(b.enabled);
  CHECK(b.agents.prefixes().size() == 2);
  CHECK(b.agent_ports == std::vector<std::string>{"a"});
  CHECK(b.key_mode == tcpr::behavior::KeyMode::kVlanIp);
  CHECK(b.tick_seconds == 0.25);
  CHECK(b.cohort_prefix_v4 == 20);
  CHECK(b.parent_prefix_v4 == 12);
  REQUIRE(b.cohorts.size() == 1);
  CHECK(b.cohorts[0].name == "coders");
  CHECK(b.scorer.distance_scale == 6.0f);
  CHECK(b.burst.enabled);
  CHECK(b.burst.floor == 0.1f);
  CHECK(b.burst.quiet_floor == 0.001f);
  CHECK(b.burst.scale == 5.0f);
  CHECK(b.burst.cold_spread == 3.0f);
  CHECK(b.trust_gain == 0.02f);
  CHECK(b.remediation.prefixes().size() == 1);
  CHECK(b.quarantine_classes == std::vector<std::string>{"dns", "http"});
  // Untouched keys keep the documented defaults.
  CHECK(b.quarantine_above == 0.95f);
  CHECK(b.monitor_above == 0.80f);
  CHECK(b.max_agents == (1u << 20));
}

TEST_CASE("behaviour is off without agents", "[config]") {
  auto r = parse_config("[behavior]\ntick = 0.2\n", "b.toml");
  REQUIRE(r);
  CHECK_FALSE(r.value().behavior.enabled);
}

TEST_CASE("[behavior] mistakes name file, line, column and key", "[config]") {
  CHECK(error_of("[behavior]\nagents = [\"10.1.0.1/16\"]\n") ==
        "test.toml:2:10: 'behavior.agents': '10.1.0.1/16': host bits are set");
  CHECK(error_of("[behavior]\nagents = [\"10.1.0.0/33\"]\n") ==
        "test.toml:2:10: 'behavior.agents': '10.1.0.0/33': bad prefix length");
  CHECK(error_of("[behavior]\nkey = \"name\"\n") ==
        "test.toml:2:7: 'behavior.key' must be \"ip\", \"mac\" or \"vlan_ip\"");
  CHECK(error_of("[behavior]\ntick = 0\n") == "test.toml:2:8: 'behavior.tick' = 0 is out of range [0.001, 60]");
  CHECK(error_of("[behavior]\nagent_ports = [\"nope\"]\n") ==
        "test.toml:2:15: 'behavior.agent_ports': no port named 'nope'");
  CHECK(error_of("[behavior.zones]\nmonitor_above = 0.97\n") ==
        "test.toml:1:1: 'behavior.zones': need restore_below < monitor_above < quarantine_above");
  CHECK(error_of("[behavior.score]\nshrink = 0.1\n") == "test.toml:2:10: unknown key 'behavior.score.shrink'");
  CHECK(error_of("[behavior.trust]\ngain = \"fast\"\n") == "test.toml:2:8: 'behavior.trust.gain' must be a number");
  CHECK(error_of("[behavior.burst]\nenabled = 1\n") == "test.toml:2:11: 'behavior.burst.enabled' must be true or false");
  CHECK(error_of("[behavior.burst]\nscale = 0\n") == "test.toml:2:9: 'behavior.burst.scale' = 0 is out of range [0.01, 1000000]");
  CHECK(error_of("[behavior.burst]\ncold_spread = -1\n") ==
        "test.toml:2:15: 'behavior.burst.cold_spread' = -1 is out of range [0, 100]");
  CHECK(error_of("[behavior.burst]\nwindow = 3\n") == "test.toml:2:10: unknown key 'behavior.burst.window'");
}

TEST_CASE("[enforce] and [[behavior.pin]] are read and checked", "[config]") {
  auto ok = parse_config("[behavior]\nagents = [\"10.1.0.0/16\"]\n[[behavior.pin]]\nagent = \"10.1.0.7\"\nzone = \"isolated\"\n"
                         "[enforce]\nenabled = true\ninterfaces = [\"veth1\"]\nmode = \"generic\"\nservices = [\"10.53.0.53\"]\n"
                         "default_zone = \"MONITORED\"\n",
                         "t.toml");
  REQUIRE(ok.ok());
  const auto& c = ok.value();
  REQUIRE(c.behavior.pins.size() == 1);
  CHECK(c.behavior.pins[0].second == TCPR_ZONE_ISOLATED);
  CHECK(c.enforce.enabled);
  CHECK(c.enforce.generic);
  CHECK(c.enforce.bpffs == "/sys/fs/bpf/tcp-route");
  CHECK(c.enforce.default_zone == TCPR_ZONE_MONITORED);
  REQUIRE(c.enforce.services.size() == 1);
  CHECK(c.enforce.services[0].b[15] == 53);
  CHECK(error_of("[enforce]\nmode = \"fast\"\n") == "test.toml:2:8: 'enforce.mode' must be \"native\" or \"generic\"");
  CHECK(error_of("[enforce]\nbpffs = \"/tmp/x\"\n") == "test.toml:1:1: 'enforce.bpffs' = '/tmp/x' must be a directory under /sys/fs/bpf");
  CHECK(error_of("[enforce]\nservices = [\"10.0.0.0/8\"]\n") == "test.toml:2:12: 'enforce.services': '10.0.0.0/8' is not an address");
  CHECK(error_of("[behavior]\n[[behavior.pin]]\nagent = \"10.1.0.7\"\nzone = \"RED\"\n") ==
        "test.toml:4:8: 'behavior.pin.zone' = 'RED' is not a zone");
  CHECK(error_of("[behavior]\n[[behavior.pin]]\nagent = \"nope\"\nzone = \"ISOLATED\"\n").find("'behavior.pin.agent'") != std::string::npos);
}

TEST_CASE("[control] is read and checked", "[config]") {
  auto ok = parse_config("[control]\nsocket = \"/run/x/c.sock\"\ngroup = \"adm\"\nmax_clients = 4\nidle_timeout = 2.5\n", "t.toml");
  REQUIRE(ok.ok());
  const auto& c = ok.value().control;
  CHECK(c.enabled);
  CHECK(c.socket == "/run/x/c.sock");
  CHECK(c.group == "adm");
  CHECK(c.max_clients == 4);
  CHECK(c.max_line == 65536);
  CHECK(c.idle_timeout == 2.5);
  CHECK(parse_config("", "t.toml").value().control.socket == "/run/tcp-route/control.sock");
  CHECK(error_of("[control]\nsocket = \"relative.sock\"\n") ==
        "test.toml:2:10: 'control.socket' = 'relative.sock' must be an absolute path of at most 107 bytes");
  CHECK(error_of("[control]\nmax_clients = 0\n") == "test.toml:2:15: 'control.max_clients' = 0 is out of range [1, 1024]");
  CHECK(error_of("[control]\nport = 80\n") == "test.toml:2:8: unknown key 'control.port'");
  CHECK(parse_config("[control]\nmetrics = \"127.0.0.1:9464\"\n", "t.toml").value().control.metrics == "127.0.0.1:9464");
  CHECK(parse_config("[control]\nmetrics = \"[::1]:9464\"\n", "t.toml").ok());
  CHECK(error_of("[control]\nmetrics = \"0.0.0.0:9464\"\n").find("test.toml:2:11: metrics address '0.0.0.0:9464' must be on loopback") == 0);
  CHECK(error_of("[control]\nmetrics = \"127.0.0.1\"\n") == "test.toml:2:11: metrics address '127.0.0.1' must be HOST:PORT");
  CHECK(error_of("[control]\nmetrics = \"127.0.0.1:99999\"\n") == "test.toml:2:11: metrics address '127.0.0.1:99999': port out of range");
}
