// scenarios.hpp — the kinds of conversation tcp-routegen writes, and the mix it draws them from.
//
// A Scenario is one small class: choose_peer() picks whom an agent talks to (a server, the
// resolver, later another agent) and on which port; emit() writes the conversation (the topology
// is there to name other hosts, e.g. the server a DNS query asks about) — packets
// through TcpSession or Conversation::send_udp(), and what later tests expect tcp-routed to find
// through conv.label() (content class, SNI, host, method, path, risk tags).
//
// Adding a kind is one class in its own scenario_*.cpp with a factory declared in
// scenario_kinds.hpp, plus one line in the registry table of scenarios.cpp: {name, help, default
// weight, factory}. The name is what --mix and labels.jsonl use. A scenario draws only from the Rng it is given, and must draw the
// same numbers whether or not the conversation is rendering (see Conversation's dry run).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conversation.hpp"
#include "result.hpp"
#include "rng.hpp"
#include "topology.hpp"

namespace tcpr::gen {

struct Peer {
  const Host* host = nullptr;
  std::uint16_t port = 0;
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual Peer choose_peer(const Topology& topology, Rng& rng) const = 0;
  virtual void emit(Conversation& conv, Rng& rng, const Topology& topology) const = 0;
};

struct ScenarioKind {
  std::string_view name;
  std::string_view help;
  std::uint32_t default_weight;
  std::unique_ptr<Scenario> (*make)();
};

// Every known kind, in registry order.
std::span<const ScenarioKind> scenario_kinds() noexcept;

// Weighted choice among scenario kinds, parsed from "name=weight,name=weight" (--mix).
class ScenarioMix {
 public:
  static constexpr std::uint32_t kMaxWeight = 1'000'000;

  static Result<ScenarioMix> parse(std::string_view spec);
  static ScenarioMix defaults();

  const Scenario& pick(Rng& rng) const;
  std::string describe() const;  // "http_json=5,tls_hello=3,dns_query=2"

 private:
  struct Entry {
    std::unique_ptr<const Scenario> scenario;
    std::uint32_t weight;
  };
  std::vector<Entry> entries_;
  std::uint64_t total_ = 0;
};

}  // namespace tcpr::gen
