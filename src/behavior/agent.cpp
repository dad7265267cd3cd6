#include "tcpr/behavior/agent.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <xxhash.h>

#include <charconv>

namespace tcpr::behavior {

std::uint64_t hash(const AgentKey& k) noexcept { return XXH3_64bits(&k, sizeof k); }

namespace {

std::string ip_text(const std::uint8_t* b) {
  char buf[INET6_ADDRSTRLEN] = {};
  packet::IpAddr a;
  std::memcpy(a.b, b, 16);
  if (a.is_v4()) {
    inet_ntop(AF_INET, b + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, b, buf, sizeof buf);
  }
  return buf;
}

bool parse_ip(std::string_view text, packet::IpAddr& out) {
  const std::string s(text);
  std::uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    out = packet::IpAddr::from_v4(buf);
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    out = packet::IpAddr::from_v6(buf);
    return true;
  }
  return false;
}

}  // namespace

std::string to_string(const AgentKey& k) {
  switch (static_cast<KeyMode>(k.mode)) {
    case KeyMode::kMac:
      return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", k.addr[0], k.addr[1], k.addr[2], k.addr[3],
                         k.addr[4], k.addr[5]);
    case KeyMode::kVlanIp:
      return fmt::format("vlan{}/{}", k.vlan, ip_text(k.addr));
    case KeyMode::kIp:
      break;
  }
  return ip_text(k.addr);
}

Result<AgentKey> parse_agent(std::string_view text, KeyMode mode) {
  AgentKey k;
  k.mode = static_cast<std::uint8_t>(mode);
  if (mode == KeyMode::kMac) {
    unsigned v[6];
    const std::string s(text);
    char extra = 0;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
      return Error{fmt::format("'{}' is not a MAC address", text)};
    for (int i = 0; i < 6; ++i) k.addr[i] = static_cast<std::uint8_t>(v[i]);
    return k;
  }
  if (mode == KeyMode::kVlanIp) {
    const auto slash = text.find('/');
    if (!text.starts_with("vlan") || slash == std::string_view::npos)
      return Error{fmt::format("'{}' is not an agent of the form vlanN/IP", text)};
    unsigned vlan = 0;
    const auto r = std::from_chars(text.data() + 4, text.data() + slash, vlan);
    if (r.ec != std::errc{} || r.ptr != text.data() + slash || vlan > 4095)
      return Error{fmt::format("'{}': bad VLAN id", text)};
    k.vlan = static_cast<std::uint16_t>(vlan);
    text = text.substr(slash + 1);
  }
  packet::IpAddr a;
  if (!parse_ip(text, a)) return Error{fmt::format("'{}' is not an IP address", text)};
  std::memcpy(k.addr, a.b, 16);
  return k;
}

Prefix prefix_of(const packet::IpAddr& a, unsigned bits) noexcept {
  Prefix p;
  p.net = a;
  p.bits = static_cast<std::uint8_t>(bits < 128 ? bits : 128);
  for (unsigned i = p.bits; i < 128; ++i) p.net.b[i / 8] &= static_cast<std::uint8_t>(~(0x80u >> (i % 8)));
  return p;
}

Result<Prefix> parse_prefix(std::string_view text) {
  const auto slash = text.find('/');
  packet::IpAddr a;
  if (!parse_ip(text.substr(0, slash), a)) return Error{fmt::format("'{}' is not an address prefix", text)};
  const unsigned max_bits = a.is_v4() ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (r.ec != std::errc{} || r.ptr != digits.data() + digits.size() || bits > max_bits)
      return Error{fmt::format("'{}': bad prefix length", text)};
  }
  const Prefix p = prefix_of(a, a.is_v4() ? bits + 96 : bits);
  if (!(p.net == a)) return Error{fmt::format("'{}': host bits are set", text)};
  return p;
}

std::string to_string(const Prefix& p) {
  return fmt::format("{}/{}", ip_text(p.net.b), p.net.is_v4() ? p.bits - 96 : p.bits);
}

Result<bool> parse_prefix_list(std::string_view text, PrefixSet& out) {
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    auto p = parse_prefix(item);
    if (!p) return Error{p.error()};
    out.add(p.value());
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  if (out.empty()) return Error{"an empty list of prefixes"};
  return true;
}

}  // namespace tcpr::behavior
