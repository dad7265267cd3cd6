// topology.cpp — see topology.hpp.
#include "topology.hpp"

#include <array>
#include <charconv>

#include <fmt/format.h>

namespace tcpr::gen {
namespace {

constexpr std::string_view kServiceNames[] = {"api",    "tools", "search", "store", "files",
                                              "vector", "kb",    "queue",  "auth",  "events",
                                              "jobs",   "docs",  "cache",  "data",  "sync"};
constexpr std::string_view kDomains[] = {"example.com", "example.net", "example.org"};

std::string server_name(std::uint32_t index) {
  constexpr std::uint32_t kServices = std::size(kServiceNames);
  const std::string_view service = kServiceNames[index % kServices];
  const std::string_view domain = kDomains[index % std::size(kDomains)];
  const std::uint32_t round = index / kServices;
  return round == 0 ? fmt::format("{}.{}", service, domain)
                    : fmt::format("{}{}.{}", service, round + 1, domain);
}

std::uint64_t host_capacity(const Ipv4Subnet& subnet) {
  // Offsets below kFirstHostOffset are reserved, and the broadcast address is not a host.
  const std::uint64_t reserved = Topology::kFirstHostOffset + 1;
  return subnet.size() > reserved ? subnet.size() - reserved : 0;
}

bool parse_u32(std::string_view text, std::uint32_t& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc{} && ptr == end && !text.empty();
}

}  // namespace

Result<Ipv4Subnet> parse_subnet(std::string_view text) {
  const auto fail = [&] { return make_error("'{}' is not an IPv4 subnet like 10.1.0.0/16", text); };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return fail();
  std::string_view address = text.substr(0, slash);
  std::uint32_t ip = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const std::size_t dot = octet < 3 ? address.find('.') : address.size();
    if (dot == std::string_view::npos) return fail();
    std::uint32_t value = 0;
    if (!parse_u32(address.substr(0, dot), value) || value > 255) return fail();
    ip = ip << 8 | value;
    address = octet < 3 ? address.substr(dot + 1) : std::string_view{};
  }
  std::uint32_t prefix = 0;
  if (!parse_u32(text.substr(slash + 1), prefix)) return fail();
  if (prefix < 8 || prefix > 30) {
    return make_error("subnet '{}': prefix length must be between /8 and /30", text);
  }
  const std::uint32_t host_mask = (std::uint32_t{1} << (32 - prefix)) - 1;
  if ((ip & host_mask) != 0) {
    return make_error("subnet '{}' has host bits set (did you mean {}?)", text,
                      format_subnet({ip & ~host_mask, static_cast<std::uint8_t>(prefix)}));
  }
  return Ipv4Subnet{ip, static_cast<std::uint8_t>(prefix)};
}

std::string format_ipv4(std::uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

std::string format_subnet(const Ipv4Subnet& subnet) {
  return fmt::format("{}/{}", format_ipv4(subnet.network), subnet.prefix);
}

MacAddr mac_for_ipv4(std::uint32_t ip) noexcept {
  return {0x02,
          0x00,
          static_cast<std::uint8_t>(ip >> 24),
          static_cast<std::uint8_t>(ip >> 16),
          static_cast<std::uint8_t>(ip >> 8),
          static_cast<std::uint8_t>(ip)};
}

Status Topology::validate(const TopologyConfig& config) {
  if (config.agent_subnet.overlaps(config.server_subnet)) {
    return make_error("--agent-subnet {} and --server-subnet {} overlap",
                      format_subnet(config.agent_subnet), format_subnet(config.server_subnet));
  }
  if (config.agents > host_capacity(config.agent_subnet)) {
    return make_error("--agents {} does not fit in {} (at most {})", config.agents,
                      format_subnet(config.agent_subnet), host_capacity(config.agent_subnet));
  }
  if (config.servers > host_capacity(config.server_subnet)) {
    return make_error("--servers {} does not fit in {} (at most {})", config.servers,
                      format_subnet(config.server_subnet), host_capacity(config.server_subnet));
  }
  return ok_status();
}

Topology::Topology(const TopologyConfig& config, Rng& rng) : config_(config) {
  const std::uint32_t gateway_ip = config.agent_subnet.network + 1;
  gateway_ = Host{gateway_ip, mac_for_ipv4(gateway_ip), 64, 0, "gateway"};

  agents_.reserve(config.agents);
  for (std::uint32_t i = 0; i < config.agents; ++i) {
    const std::uint32_t ip = config.agent_subnet.network + kFirstHostOffset + i;
    agents_.push_back(Host{ip, mac_for_ipv4(ip), 64, 0, fmt::format("agent-{:04}", i)});
  }

  // Off-subnet hosts are reached through the gateway: their frames carry its MAC, and their TTL
  // has lost one per hop on the way.
  const auto hops = [&](std::uint64_t lo, std::uint64_t hi) {
    return static_cast<std::uint8_t>(64 - rng.between(lo, hi));
  };
  const std::uint32_t resolver_rtt = static_cast<std::uint32_t>(rng.between(400, 2500));
  resolver_ = Host{config.server_subnet.network + 2, gateway_.mac, hops(1, 3), resolver_rtt,
                   "ns1.example.net"};

  servers_.reserve(config.servers);
  for (std::uint32_t j = 0; j < config.servers; ++j) {
    const std::uint32_t rtt = static_cast<std::uint32_t>(rng.log_uniform(1500, 24000));
    servers_.push_back(Host{config.server_subnet.network + kFirstHostOffset + j, gateway_.mac,
                            hops(2, 14), rtt, server_name(j)});
  }
}

PortAllocator::PortAllocator(std::size_t agents, Rng& rng) : next_(agents) {
  for (auto& port : next_) port = static_cast<std::uint16_t>(rng.between(kFirst, kLast));
}

std::uint16_t PortAllocator::next(std::size_t agent) {
  const std::uint16_t port = next_.at(agent);
  next_[agent] = port == kLast ? kFirst : static_cast<std::uint16_t>(port + 1);
  return port;
}

}  // namespace tcpr::gen
