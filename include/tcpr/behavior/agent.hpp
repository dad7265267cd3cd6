// agent.hpp — who the agents are and how one is named.
//
// The agent side of the appliance is a set of address prefixes and/or ports (config
// [behavior] agent_subnets, agent_ports; replay --agents). A packet belongs to an agent when its
// source (the agent sends) or destination (the agent receives) is on the agent side; a packet
// between two agents belongs to both. An agent is keyed by IP (default), MAC, or VLAN+IP.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tcpr/packet/packet_view.hpp"
#include "tcpr/util/result.hpp"

namespace tcpr::behavior {

enum class KeyMode : std::uint8_t { kIp = 0, kMac = 1, kVlanIp = 2 };

// 20 bytes, compared and hashed as raw bytes: an IPv4-mapped IPv6 address or a MAC in the first
// six bytes, the VLAN id (kVlanIp only), the mode.
struct AgentKey {
  std::uint8_t addr[16] = {};
  std::uint16_t vlan = 0;
  std::uint8_t mode = 0;
  std::uint8_t pad = 0;
  friend bool operator==(const AgentKey& x, const AgentKey& y) noexcept {
    return std::memcmp(&x, &y, sizeof(AgentKey)) == 0;
  }
  friend bool operator<(const AgentKey& x, const AgentKey& y) noexcept {
    return std::memcmp(&x, &y, sizeof(AgentKey)) < 0;
  }
};
static_assert(sizeof(AgentKey) == 20, "AgentKey is hashed as raw bytes: no implicit padding");

std::uint64_t hash(const AgentKey& k) noexcept;
// "10.1.0.10", "2001:db8::1", "02:00:0a:01:00:0a" (MAC keys), "vlan7/10.1.0.10" (VLAN+IP keys).
std::string to_string(const AgentKey& k);
// The inverse of to_string (for operator commands and labels).
Result<AgentKey> parse_agent(std::string_view text, KeyMode mode);

struct Prefix {
  packet::IpAddr net;        // host bits zero
  std::uint8_t bits = 0;     // over the 128-bit (IPv4-mapped) form
  bool contains(const packet::IpAddr& a) const noexcept {
    const unsigned full = bits / 8, rest = bits % 8;
    if (std::memcmp(a.b, net.b, full) != 0) return false;
    if (rest == 0) return true;
    const std::uint8_t mask = static_cast<std::uint8_t>(0xff00u >> rest);
    return (a.b[full] & mask) == net.b[full];
  }
};
// The prefix of `bits` bits (over the 128-bit form) that holds `a`: host bits cleared.
Prefix prefix_of(const packet::IpAddr& a, unsigned bits) noexcept;
// "10.1.0.0/16", "2001:db8::/32", "10.1.0.7" (a host). Host bits must be zero.
Result<Prefix> parse_prefix(std::string_view text);
std::string to_string(const Prefix& p);

class PrefixSet {
 public:
  void add(const Prefix& p) { prefixes_.push_back(p); }
  bool empty() const noexcept { return prefixes_.empty(); }
  // Linear: the agent side is a handful of prefixes; a flow caches the answer.
  bool contains(const packet::IpAddr& a) const noexcept {
    for (const auto& p : prefixes_)
      if (p.contains(a)) return true;
    return false;
  }
  const std::vector<Prefix>& prefixes() const noexcept { return prefixes_; }

 private:
  std::vector<Prefix> prefixes_;
};

// Parses "CIDR[,CIDR…]" (the replay --agents option) into `out`.
Result<bool> parse_prefix_list(std::string_view text, PrefixSet& out);

}  // namespace tcpr::behavior
