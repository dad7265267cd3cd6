// topology.hpp — who is on the network: agents, servers, the resolver and the gateway.
//
// Layout (for subnets A = --agent-subnet and S = --server-subnet):
//   A.1            the gateway; every off-subnet frame on the agent segment carries its MAC
//   A.10 + i       agent i (name "agent-0007"), i < --agents
//   S.2            the DNS resolver (name "ns1.example.net")
//   S.10 + j       server j, j < --servers, with a stable host name ("api.example.com", …)
// MACs are derived from IPv4 addresses (02:00:a.b.c.d, locally administered, unicast). Each server
// has a base round-trip time and a hop count (its TTL as seen on the agent segment), drawn once
// from the topology's own random stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "frame_builder.hpp"
#include "result.hpp"
#include "rng.hpp"

namespace tcpr::gen {

struct Ipv4Subnet {
  std::uint32_t network = 0;  // host order, host bits zero
  std::uint8_t prefix = 0;

  std::uint64_t size() const noexcept { return std::uint64_t{1} << (32 - prefix); }
  bool contains(std::uint32_t ip) const noexcept {
    return prefix == 0 || (ip >> (32 - prefix)) == (network >> (32 - prefix));
  }
  bool overlaps(const Ipv4Subnet& other) const noexcept {
    return contains(other.network) || other.contains(network);
  }
};

// "a.b.c.d/p" with /8 <= p <= /30 and no host bits set.
Result<Ipv4Subnet> parse_subnet(std::string_view text);
std::string format_ipv4(std::uint32_t ip);
std::string format_subnet(const Ipv4Subnet& subnet);
MacAddr mac_for_ipv4(std::uint32_t ip) noexcept;

struct Host {
  std::uint32_t ip = 0;
  MacAddr mac{};                  // the MAC its frames carry on the agent segment
  std::uint8_t ttl = 64;          // TTL of its packets as captured on the agent segment
  std::uint32_t base_rtt_us = 0;  // capture point <-> host round trip (0 for agents)
  std::string name;
};

struct TopologyConfig {
  Ipv4Subnet agent_subnet;
  Ipv4Subnet server_subnet;
  std::uint32_t agents = 0;
  std::uint32_t servers = 0;
};

class Topology {
 public:
  static constexpr std::uint32_t kFirstHostOffset = 10;

  // Checks that the hosts fit their subnets and the subnets are disjoint.
  static Status validate(const TopologyConfig& config);
  Topology(const TopologyConfig& config, Rng& rng);

  const std::vector<Host>& agents() const noexcept { return agents_; }
  const std::vector<Host>& servers() const noexcept { return servers_; }
  const Host& resolver() const noexcept { return resolver_; }
  const Host& gateway() const noexcept { return gateway_; }
  const TopologyConfig& config() const noexcept { return config_; }

 private:
  TopologyConfig config_;
  Host gateway_;
  Host resolver_;
  std::vector<Host> agents_;
  std::vector<Host> servers_;
};

// Client ephemeral ports, per agent: Linux's default range (32768–60999), a random start per
// agent, then consecutive ports in connection order, wrapping at the end of the range.
class PortAllocator {
 public:
  static constexpr std::uint16_t kFirst = 32768;
  static constexpr std::uint16_t kLast = 60999;

  PortAllocator(std::size_t agents, Rng& rng);
  std::uint16_t next(std::size_t agent);

 private:
  std::vector<std::uint16_t> next_;
};

}  // namespace tcpr::gen
