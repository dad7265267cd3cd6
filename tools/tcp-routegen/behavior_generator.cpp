// behavior_generator.cpp — behaviour mode: plan the agents, then run their activities in time
// order and merge the packets of the conversations in progress (see behavior.hpp).
//
// Two min-heaps: `pending` holds, per source (an agent's normal activities, or one anomaly
// driver), when its next activity is due; the merge holds the next packet of every conversation
// in progress. A source runs when the clock reaches it: it builds its conversations — they start
// at or after that moment, so no packet already written is later than theirs — and says when it
// is next due. Ties go to sources first, then to the older conversation.
#include "behavior.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <queue>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "behavior_kinds.hpp"
#include "behavior_schedule.hpp"
#include "dns_wire.hpp"
#include "label_writer.hpp"
#include "pcap_writer.hpp"
#include "scenario_kinds.hpp"
#include "scenarios.hpp"

namespace tcpr::gen {
namespace {

// Random streams derived from --seed; 0 and 2 as generator.cpp, so a seed gives the same
// topology and client ports in both modes.
constexpr std::uint64_t kTopologyStream = 0;
constexpr std::uint64_t kPortStream = 2;
constexpr std::uint64_t kAgentStream = 3;
constexpr std::uint64_t kAnomalySalt = 0xa11e6a1ULL;
constexpr std::uint64_t kUsualSalt = 0x0c0ffee5ULL;
constexpr std::uint64_t kEpochUs = kEpochSeconds * 1'000'000;

constexpr std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

struct Settings {
  TopologyConfig topology;
  std::uint64_t duration_us = 0;
  std::uint64_t rate_ppm = 0;
  AnomalyCounts counts{};
  std::uint64_t anomalous = 0;
  std::uint64_t onset_us = 0;
};

Result<Settings> validate(const BehaviorConfig& c) {
  const GenConfig& g = c.base;
  if (g.output.empty()) return make_error("an output file is required (-o OUT.pcap)");
  if (g.agents < 1 || g.agents > GenConfig::kMaxAgents) {
    return make_error("--agents must be between 1 and {}", GenConfig::kMaxAgents);
  }
  if (g.servers < 1 || g.servers > GenConfig::kMaxServers) {
    return make_error("--servers must be between 1 and {}", GenConfig::kMaxServers);
  }
  if (!std::isfinite(g.duration_s) || g.duration_s < 1 || g.duration_s > GenConfig::kMaxDurationS) {
    return make_error("--duration must be between 1 and {} seconds", GenConfig::kMaxDurationS);
  }
  if (!std::isfinite(c.rate) || c.rate < 0 || c.rate > BehaviorConfig::kMaxRate) {
    return make_error("--rate must be between 0 and {} activities a second",
                      BehaviorConfig::kMaxRate);
  }
  auto agent_subnet = parse_subnet(g.agent_subnet);
  if (!agent_subnet.ok()) return make_error("--agent-subnet: {}", agent_subnet.error());
  auto server_subnet = parse_subnet(g.server_subnet);
  if (!server_subnet.ok()) return make_error("--server-subnet: {}", server_subnet.error());
  Settings s;
  s.topology = {agent_subnet.value(), server_subnet.value(), g.agents, g.servers};
  if (Status fits = Topology::validate(s.topology); !fits.ok()) return Error{fits.error()};
  s.duration_us = static_cast<std::uint64_t>(std::llround(g.duration_s * 1e6));
  s.rate_ppm = static_cast<std::uint64_t>(std::llround(c.rate * 1e6));

  const std::string spec = c.anomalies.empty() ? (g.agents >= 16 ? "all=1" : "none") : c.anomalies;
  auto counts = parse_anomalies(spec, g.agents);
  if (!counts.ok()) return Error{counts.error()};
  s.counts = counts.value();
  for (std::uint32_t n : s.counts) s.anomalous += n;
  const bool onset_given = c.onset_s.has_value();
  const double onset_s = c.onset_s.value_or(0.6 * g.duration_s);
  if ((s.anomalous > 0 || onset_given) &&
      !(onset_s >= BehaviorConfig::kMinOnsetS && onset_s < g.duration_s - 1)) {
    return make_error("the onset ({} {} s) must be at least {} s and less than --duration - 1 s{}",
                      onset_given ? "--onset" : "0.6 x --duration =", onset_s,
                      BehaviorConfig::kMinOnsetS,
                      onset_given ? "" : "; use a longer --duration or --anomalies none");
  }
  s.onset_us = static_cast<std::uint64_t>(std::llround(onset_s * 1e6));
  const std::uint64_t hosts = s.topology.agent_subnet.size() - Topology::kFirstHostOffset - 1;
  if (s.counts[static_cast<std::size_t>(AnomalyKind::kLateral)] > 0 && hosts < 21) {
    return make_error("--anomalies lateral needs at least 21 host addresses in --agent-subnet");
  }
  return s;
}

// What normal agents do: benign kinds of the registry, weighted per persona.
class Personas {
 public:
  Personas() {
    struct Weighted {
      std::string_view kind;
      std::uint32_t weight;
    };
    static constexpr Weighted kLlm[] = {{"llm_http", 80}, {"llm_tls", 10}, {"http_json", 10}};
    static constexpr Weighted kTools[] = {{"mcp", 60}, {"llm_http", 25}, {"http_json", 15}};
    static constexpr Weighted kMixed[] = {{"llm_http", 25}, {"mcp", 20},       {"http_json", 15},
                                          {"http_get", 10}, {"tls_hello", 10}, {"llm_tls", 8},
                                          {"a2a", 5},       {"grpc", 4},       {"websocket", 3}};
    const auto fill = [](std::vector<Entry>& table, std::span<const Weighted> kinds) {
      for (const Weighted& w : kinds) table.push_back({make_kind(w.kind), w.weight});
    };
    fill(tables_[0], kLlm);
    fill(tables_[1], kTools);
    fill(tables_[2], kMixed);
  }

  const Scenario& pick(Persona persona, Rng& rng) const {
    const std::vector<Entry>& table = tables_[static_cast<std::size_t>(persona)];
    std::uint64_t total = 0;
    for (const Entry& e : table) total += e.weight;
    std::uint64_t draw = rng.below(total);
    for (const Entry& e : table) {
      if (draw < e.weight) return *e.scenario;
      draw -= e.weight;
    }
    throw std::logic_error("Personas::pick");
  }

 private:
  struct Entry {
    std::unique_ptr<Scenario> scenario;
    std::uint32_t weight;
  };
  static std::unique_ptr<Scenario> make_kind(std::string_view name) {
    for (const ScenarioKind& kind : scenario_kinds()) {
      if (kind.name == name) return kind.make();
    }
    throw std::logic_error("Personas: unknown scenario kind");
  }
  std::array<std::vector<Entry>, 3> tables_;
};

// The packet merge, and where every conversation is placed and labelled.
class Merge final : public Placer {
 public:
  Merge(std::uint64_t duration_us, PcapWriter& pcap, LabelWriter& labels, BehaviorSummary& summary)
      : duration_us_(duration_us), pcap_(pcap), labels_(labels), summary_(summary) {}

  std::uint64_t duration_us() const noexcept override { return duration_us_; }

  bool place(std::unique_ptr<Conversation> conv, std::uint64_t start_us) override {
    if (!fits(start_us, *conv)) return false;
    if (conv->packets().empty()) throw std::logic_error("a conversation without packets");
    labels_.write(*conv, kEpochUs + start_us);
    std::size_t slot = slots_.size();
    if (free_.empty()) {
      slots_.emplace_back();
    } else {
      slot = free_.back();
      free_.pop_back();
    }
    heap_.push({start_us + conv->packets().front().ts_us, rank_++, slot});
    slots_[slot] = Active{std::move(conv), start_us, 0};
    ++summary_.conversations;
    return true;
  }

  bool empty() const noexcept { return heap_.empty(); }
  std::uint64_t next_ts() const noexcept { return heap_.top().ts_us; }

  void write_next() {
    const Item item = heap_.top();
    heap_.pop();
    Active& active = slots_[item.slot];
    const PacketRef& packet = active.conv->packets()[active.next];
    pcap_.write(kEpochUs + item.ts_us, active.conv->frame(packet));
    ++summary_.packets;
    summary_.bytes += packet.length;
    if (++active.next < active.conv->packets().size()) {
      heap_.push(
          {active.start_us + active.conv->packets()[active.next].ts_us, item.rank, item.slot});
    } else {
      active.conv.reset();
      free_.push_back(item.slot);
    }
  }

 private:
  struct Active {
    std::unique_ptr<Conversation> conv;
    std::uint64_t start_us = 0;
    std::size_t next = 0;
  };
  struct Item {
    std::uint64_t ts_us;
    std::uint64_t rank;
    std::size_t slot;
    bool operator>(const Item& o) const noexcept {
      return ts_us != o.ts_us ? ts_us > o.ts_us : rank > o.rank;
    }
  };

  std::uint64_t duration_us_;
  PcapWriter& pcap_;
  LabelWriter& labels_;
  BehaviorSummary& summary_;
  std::vector<Active> slots_;
  std::vector<std::size_t> free_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap_;
  std::uint64_t rank_ = 0;
};

// The name a client resolves before it connects: the SNI, the Host without its port, or the
// server's own name.
std::string lookup_name(const Label& label, const Host& server) {
  if (label.sni) return *label.sni;
  if (label.host) return label.host->substr(0, label.host->rfind(':'));
  return server.name;
}

// The run: sources, their state, and the two heaps.
class Run {
 public:
  Run(const Settings& settings, const Topology& topology, std::vector<AgentPlan> plans,
      PortAllocator& ports, Merge& merge)
      : topology_(topology),
        plans_(std::move(plans)),
        ports_(ports),
        merge_(merge),
        clock_(settings.rate_ppm, settings.duration_us),
        normal_(plans_.size()) {
    for (std::uint32_t a = 0; a < plans_.size(); ++a) {
      Rng rng(derive_seed(plans_[a].seed, 0));
      if (const auto first = clock_.next(plans_[a], 0, rng)) {
        normal_[a].content_seed = rng.next_u64();
        pending_.push({*first, order_++, a});
      }
      if (plans_[a].anomaly) {
        const AnomalySetup setup{topology_, ports_, a, plans_[a].onset_us,
                                 derive_seed(plans_[a].seed, kAnomalySalt)};
        driver_of_.push_back(static_cast<std::uint32_t>(drivers_.size()));
        drivers_.push_back(make_anomaly(*plans_[a].anomaly, setup));
        pending_.push({plans_[a].onset_us, order_++,
                       static_cast<std::uint32_t>(plans_.size() + drivers_.size() - 1)});
      } else {
        driver_of_.push_back(kNoDriver);
      }
    }
  }

  const std::vector<AgentPlan>& plans() const noexcept { return plans_; }
  const AnomalyDriver* driver(std::uint32_t agent) const noexcept {
    return driver_of_[agent] == kNoDriver ? nullptr : drivers_[driver_of_[agent]].get();
  }

  void run() {
    while (!pending_.empty() || !merge_.empty()) {
      if (!pending_.empty() && (merge_.empty() || pending_.top().start_us <= merge_.next_ts())) {
        const Pending p = pending_.top();
        pending_.pop();
        std::optional<std::uint64_t> next;
        if (p.source < plans_.size()) {
          next = normal_step(p.source, p.start_us);
        } else {
          next = drivers_[p.source - plans_.size()]->step(merge_, p.start_us);
        }
        if (next) pending_.push({*next, order_++, p.source});
      } else {
        merge_.write_next();
      }
    }
  }

 private:
  static constexpr std::uint32_t kNoDriver = ~0U;
  struct Pending {
    std::uint64_t start_us;
    std::uint64_t order;
    std::uint32_t source;  // < agents: that agent's normal activities; else a driver
    bool operator>(const Pending& o) const noexcept {
      return start_us != o.start_us ? start_us > o.start_us : order > o.order;
    }
  };
  struct NormalState {
    std::uint64_t content_seed = 0;
    std::uint32_t index = 0;
  };

  std::unique_ptr<Conversation> open(std::uint32_t agent, const Host& peer, std::uint16_t port,
                                     Rng& rng, std::string_view kind) {
    const Host& self = topology_.agents()[agent];
    const auto rtt = static_cast<std::uint32_t>(peer.base_rtt_us * rng.between(90, 125) / 100);
    const Endpoint client{self.ip, ports_.next(agent), self.mac, self.ttl, self.name};
    const Endpoint server{peer.ip, port, peer.mac, peer.ttl, peer.name};
    auto conv = std::make_unique<Conversation>(client, server, rtt, true, rng);
    conv->label().scenario = std::string(kind);
    return conv;
  }

  // One normal activity at `t` (sometimes a DNS lookup first), then when the next is due.
  std::optional<std::uint64_t> normal_step(std::uint32_t agent, std::uint64_t t) {
    NormalState& state = normal_[agent];
    const AgentPlan& plan = plans_[agent];
    Rng rng(state.content_seed);
    const Scenario& scenario = personas_.pick(plan.persona, rng);
    Peer peer = scenario.choose_peer(topology_, rng);
    if (rng.chance(85)) {  // agents keep to their usual server (and port) for a kind of work
      Rng usual(derive_seed(plan.seed ^ kUsualSalt, fnv1a(scenario.name())));
      peer = scenario.choose_peer(topology_, usual);
    }
    auto conv = open(agent, *peer.host, peer.port, rng, scenario.name());
    scenario.emit(*conv, rng, topology_);
    if (!rng.chance(30)) {
      merge_.place(std::move(conv), t);
    } else {
      auto dns = open(agent, topology_.resolver(), kDnsPort, rng, "dns_query");
      emit_dns_lookup(*dns, rng, lookup_name(conv->label(), *peer.host), peer.host->ip);
      const std::uint64_t start = t + dns->last_ts_us() + rng.between(50, 400);
      if (merge_.fits(start, *conv)) {  // else the agent never starts it
        merge_.place(std::move(dns), t);
        merge_.place(std::move(conv), start);
      }
    }
    Rng next_rng(derive_seed(plan.seed, ++state.index));
    const auto next = clock_.next(plan, t, next_rng);
    state.content_seed = next_rng.next_u64();
    return next;
  }

  const Topology& topology_;
  std::vector<AgentPlan> plans_;
  PortAllocator& ports_;
  Merge& merge_;
  ActivityClock clock_;
  Personas personas_;
  std::vector<NormalState> normal_;
  std::vector<std::unique_ptr<AnomalyDriver>> drivers_;
  std::vector<std::uint32_t> driver_of_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
  std::uint64_t order_ = 0;
};

Status write_agents(const std::string& path, const Run& run, const Topology& topology,
                    std::uint64_t rate_ppm) {
  std::ofstream out(path);
  if (!out) return make_error("cannot create {}: {}", path, std::strerror(errno));
  for (std::uint32_t a = 0; a < run.plans().size(); ++a) {
    const AgentPlan& plan = run.plans()[a];
    nlohmann::ordered_json line;
    line["agent"] = format_ipv4(topology.agents()[a].ip);
    line["role"] = plan.anomaly ? "anomalous" : "normal";
    line["kind"] =
        plan.anomaly
            ? nlohmann::ordered_json(kAnomalyNames[static_cast<std::size_t>(*plan.anomaly)])
            : nlohmann::ordered_json(nullptr);
    line["onset"] =
        plan.anomaly ? nlohmann::ordered_json(static_cast<double>(kEpochUs + plan.onset_us) / 1e6)
                     : nlohmann::ordered_json(nullptr);
    line["profile"] = persona_name(plan.persona);
    // Mean normal activities a second, before drift: --rate times the agent's own factor.
    line["rate"] = static_cast<double>(rate_ppm * plan.factor_permille / 1000) / 1e6;
    line["params"] = plan.anomaly ? run.driver(a)->params() : nlohmann::ordered_json(nullptr);
    out << line.dump() << '\n';
  }
  out.close();
  if (!out) return make_error("writing {} failed", path);
  return ok_status();
}

}  // namespace

std::unique_ptr<AnomalyDriver> make_anomaly(AnomalyKind kind, const AnomalySetup& setup) {
  switch (kind) {
    case AnomalyKind::kExfilBurst:
      return exfil_burst_driver(setup);
    case AnomalyKind::kPortScan:
      return port_scan_driver(setup);
    case AnomalyKind::kSynFlood:
      return syn_flood_driver(setup);
    case AnomalyKind::kToolStorm:
      return tool_storm_driver(setup);
    case AnomalyKind::kBeacon:
      return beacon_driver(setup);
    case AnomalyKind::kSecretLeak:
      return secret_leak_driver(setup);
    case AnomalyKind::kLateral:
      return lateral_driver(setup);
    case AnomalyKind::kPromptFlood:
      return prompt_flood_driver(setup);
  }
  throw std::logic_error("make_anomaly: unknown kind");
}

std::string agents_path_for(const std::string& pcap_path) { return pcap_path + ".agents.jsonl"; }

Result<BehaviorSummary> generate_behavior(const BehaviorConfig& config) {
  auto validated = validate(config);
  if (!validated.ok()) return Error{validated.error()};
  const Settings& settings = validated.value();
  const GenConfig& g = config.base;

  Rng topology_rng(derive_seed(g.seed, kTopologyStream));
  const Topology topology(settings.topology, topology_rng);
  Rng port_rng(derive_seed(g.seed, kPortStream));
  PortAllocator ports(topology.agents().size(), port_rng);

  auto pcap = PcapWriter::open(g.output);
  if (!pcap.ok()) return Error{pcap.error()};
  BehaviorSummary summary;
  summary.labels_path = labels_path_for(g.output);
  summary.agents_path = agents_path_for(g.output);
  summary.anomalous = settings.anomalous;
  auto labels = LabelWriter::open(summary.labels_path);
  if (!labels.ok()) return Error{labels.error()};

  Merge merge(settings.duration_us, *pcap.value(), *labels.value(), summary);
  Run run(
      settings, topology,
      plan_agents(derive_seed(g.seed, kAgentStream), g.agents, settings.counts, settings.onset_us),
      ports, merge);
  if (Status written = write_agents(summary.agents_path, run, topology, settings.rate_ppm);
      !written.ok()) {
    return Error{written.error()};
  }
  run.run();

  if (Status closed = pcap.value()->close(); !closed.ok()) return Error{closed.error()};
  if (Status closed = labels.value()->close(); !closed.ok()) return Error{closed.error()};
  return summary;
}

}  // namespace tcpr::gen
