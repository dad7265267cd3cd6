// generator.cpp — see generator.hpp.
#include "generator.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <vector>

#include "conversation.hpp"
#include "label_writer.hpp"
#include "pcap_writer.hpp"
#include "rng.hpp"
#include "scenarios.hpp"
#include "topology.hpp"

namespace tcpr::gen {
namespace {

// Purposes of the random streams derived from --seed. Each flow then gets its own seed, drawn
// from the plan stream: what a flow carries does not depend on the flows after it.
constexpr std::uint64_t kTopologyStream = 0;
constexpr std::uint64_t kPlanStream = 1;
constexpr std::uint64_t kPortStream = 2;

struct FlowPlan {
  std::uint64_t seed = 0;
  std::uint64_t start_us = 0;
  std::uint64_t length_us = 0;  // measured by the dry run
  std::uint32_t agent = 0;
};

struct Plan {
  TopologyConfig topology;
  ScenarioMix mix;
  std::uint64_t duration_us = 0;
};

Result<Plan> validate(const GenConfig& c) {
  if (c.output.empty()) return make_error("an output file is required (-o OUT.pcap)");
  if (c.agents < 1 || c.agents > GenConfig::kMaxAgents) {
    return make_error("--agents must be between 1 and {}", GenConfig::kMaxAgents);
  }
  if (c.servers < 1 || c.servers > GenConfig::kMaxServers) {
    return make_error("--servers must be between 1 and {}", GenConfig::kMaxServers);
  }
  if (c.flows < c.agents || c.flows > GenConfig::kMaxFlows) {
    return make_error(
        "--flows must be between --agents ({}) and {}: every agent talks at least once", c.agents,
        GenConfig::kMaxFlows);
  }
  if (!std::isfinite(c.duration_s) || c.duration_s < 1e-3 ||
      c.duration_s > GenConfig::kMaxDurationS) {
    return make_error("--duration must be between 0.001 and {} seconds", GenConfig::kMaxDurationS);
  }
  auto agent_subnet = parse_subnet(c.agent_subnet);
  if (!agent_subnet.ok()) return make_error("--agent-subnet: {}", agent_subnet.error());
  auto server_subnet = parse_subnet(c.server_subnet);
  if (!server_subnet.ok()) return make_error("--server-subnet: {}", server_subnet.error());
  Plan plan{{agent_subnet.value(), server_subnet.value(), c.agents, c.servers},
            ScenarioMix::defaults(),
            static_cast<std::uint64_t>(std::llround(c.duration_s * 1e6))};
  if (Status fits = Topology::validate(plan.topology); !fits.ok()) return Error{fits.error()};
  if (!c.mix.empty()) {
    auto mix = ScenarioMix::parse(c.mix);
    if (!mix.ok()) return Error{mix.error()};
    plan.mix = std::move(mix.value());
  }
  return plan;
}

// Builds one flow's conversation from its plan. Everything random comes from the flow's seed, so
// the dry run and the real run of a flow are the same conversation.
class FlowFactory {
 public:
  FlowFactory(const Topology& topology, const ScenarioMix& mix) : topology_(topology), mix_(mix) {}

  std::unique_ptr<Conversation> make(const FlowPlan& plan, std::uint16_t client_port,
                                     bool render) const {
    Rng rng(plan.seed);
    const Scenario& scenario = mix_.pick(rng);
    const Peer peer = scenario.choose_peer(topology_, rng);
    const Host& agent = topology_.agents()[plan.agent];
    const auto rtt =
        static_cast<std::uint32_t>(peer.host->base_rtt_us * rng.between(90, 125) / 100);
    const Endpoint client{agent.ip, client_port, agent.mac, agent.ttl, agent.name};
    const Endpoint server{peer.host->ip, peer.port, peer.host->mac, peer.host->ttl,
                          peer.host->name};
    auto conv = std::make_unique<Conversation>(client, server, rtt, render, rng);
    conv->label().scenario = std::string(scenario.name());
    scenario.emit(*conv, rng, topology_);
    if (conv->packets().empty()) throw std::logic_error("a scenario emitted no packet");
    return conv;
  }

 private:
  const Topology& topology_;
  const ScenarioMix& mix_;
};

// A conversation being merged into the file.
struct Active {
  std::unique_ptr<Conversation> conv;
  std::uint64_t start_us = 0;
  std::size_t next = 0;  // index of its next packet
};

struct HeapItem {
  std::uint64_t ts_us;
  std::uint64_t rank;  // start order: breaks ties between conversations deterministically
  std::size_t slot;
  bool operator>(const HeapItem& o) const noexcept {
    return ts_us != o.ts_us ? ts_us > o.ts_us : rank > o.rank;
  }
};


// Steps 1 and 2: a seed and an agent per flow, its length from a dry run, its start.
Result<std::vector<FlowPlan>> plan_flows(const GenConfig& config, const Plan& plan,
                                         const FlowFactory& factory) {
  Rng plan_rng(derive_seed(config.seed, kPlanStream));
  std::vector<FlowPlan> flows(config.flows);
  for (std::uint64_t i = 0; i < config.flows; ++i) {
    FlowPlan& flow = flows[i];
    flow.seed = plan_rng.next_u64();
    flow.agent = i < config.agents ? static_cast<std::uint32_t>(i)
                                   : static_cast<std::uint32_t>(plan_rng.below(config.agents));
    flow.length_us = factory.make(flow, 0, false)->last_ts_us();
    if (flow.length_us > plan.duration_us) {
      return make_error("--duration {} s is shorter than a generated conversation ({:.3f} s)",
                        config.duration_s, static_cast<double>(flow.length_us) / 1e6);
    }
    flow.start_us = plan_rng.below(plan.duration_us - flow.length_us + 1);
  }
  return flows;
}

// Step 3: generates the flows in start order and merges their packets by time.
void write_flows(const std::vector<FlowPlan>& flows, const FlowFactory& factory,
                 PortAllocator& ports, PcapWriter& pcap, LabelWriter& labels, GenSummary& summary) {
  constexpr std::uint64_t kEpochUs = kEpochSeconds * 1'000'000;
  std::vector<std::uint64_t> order(flows.size());
  std::iota(order.begin(), order.end(), std::uint64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::uint64_t a, std::uint64_t b) {
    return flows[a].start_us < flows[b].start_us;
  });

  std::vector<Active> slots;
  std::vector<std::size_t> free_slots;
  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> heap;
  std::uint64_t rank = 0;
  while (rank < order.size() || !heap.empty()) {
    // A conversation joins the merge when the clock reaches its first packet.
    if (rank < order.size() && (heap.empty() || flows[order[rank]].start_us <= heap.top().ts_us)) {
      const FlowPlan& flow = flows[order[rank]];
      auto conv = factory.make(flow, ports.next(flow.agent), true);
      if (conv->last_ts_us() != flow.length_us) {
        throw std::logic_error("a conversation's dry run and real run differ");
      }
      labels.write(*conv, kEpochUs + flow.start_us);
      std::size_t slot = slots.size();
      if (free_slots.empty()) {
        slots.emplace_back();
      } else {
        slot = free_slots.back();
        free_slots.pop_back();
      }
      heap.push({flow.start_us + conv->packets().front().ts_us, rank, slot});
      slots[slot] = Active{std::move(conv), flow.start_us, 0};
      ++rank;
      continue;
    }
    const HeapItem item = heap.top();
    heap.pop();
    Active& active = slots[item.slot];
    const PacketRef& packet = active.conv->packets()[active.next];
    pcap.write(kEpochUs + item.ts_us, active.conv->frame(packet));
    ++summary.packets;
    summary.bytes += packet.length;
    if (++active.next < active.conv->packets().size()) {
      const std::uint64_t ts = active.start_us + active.conv->packets()[active.next].ts_us;
      heap.push({ts, item.rank, item.slot});
    } else {
      active.conv.reset();
      free_slots.push_back(item.slot);
    }
  }
}

}  // namespace

std::string labels_path_for(const std::string& pcap_path) { return pcap_path + ".labels.jsonl"; }

Result<GenSummary> generate(const GenConfig& config) {
  auto validated = validate(config);
  if (!validated.ok()) return Error{validated.error()};
  const Plan& plan = validated.value();

  Rng topology_rng(derive_seed(config.seed, kTopologyStream));
  const Topology topology(plan.topology, topology_rng);
  const FlowFactory factory(topology, plan.mix);
  auto flows = plan_flows(config, plan, factory);
  if (!flows.ok()) return Error{flows.error()};

  auto pcap = PcapWriter::open(config.output);
  if (!pcap.ok()) return Error{pcap.error()};
  GenSummary summary{config.flows, 0, 0, labels_path_for(config.output), plan.mix.describe()};
  auto labels = LabelWriter::open(summary.labels_path);
  if (!labels.ok()) return Error{labels.error()};
  Rng port_rng(derive_seed(config.seed, kPortStream));
  PortAllocator ports(topology.agents().size(), port_rng);
  write_flows(flows.value(), factory, ports, *pcap.value(), *labels.value(), summary);

  if (Status closed = pcap.value()->close(); !closed.ok()) return Error{closed.error()};
  if (Status closed = labels.value()->close(); !closed.ok()) return Error{closed.error()};
  return summary;
}

}  // namespace tcpr::gen
