// flow_key.hpp — the direction-independent key of a flow, and its hash.
//
// Both directions of a conversation map to one FlowKey: the (address, port) pair that sorts lower
// is endpoint `a`. `key_for()` also says which endpoint sent this packet, so the flow table can
// keep per-direction counters and remember which side is the client. The hash is XXH3 over the
// 40 key bytes; since the key is canonical the hash is symmetric, and the dataplane uses the same
// value to spread flows over workers when a port has no symmetric RSS.
#pragma once

#include <cstdint>
#include <string>

#include "tcpr/packet/packet_view.hpp"

namespace tcpr::packet {

struct FlowKey {
  IpAddr a, b;                 // a <= b by (address, port)
  std::uint16_t port_a = 0, port_b = 0;
  std::uint8_t proto = 0;      // IP protocol number
  std::uint8_t pad[3] = {};    // zero, so the key hashes and compares as plain bytes

  friend bool operator==(const FlowKey& x, const FlowKey& y) noexcept {
    return std::memcmp(&x, &y, sizeof(FlowKey)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey is hashed as raw bytes: no implicit padding");

// Which endpoint of the key sent the packet.
enum class Side : std::uint8_t { kA = 0, kB = 1 };

// Key of an IP packet (TCP/UDP ports when present, 0 otherwise; ICMP keys by addresses and
// protocol). Returns false when the packet has no flow: non-IP, or a later IP fragment, which
// carries no ports and cannot be tied to its flow without reassembly.
bool key_for(const ParsedPacket& p, FlowKey& key, Side& sender) noexcept;

std::uint64_t hash(const FlowKey& key) noexcept;

// "10.0.0.1:80" / "[fd00::1]:443" — for reports and logs, never on the packet path.
std::string format_endpoint(const IpAddr& addr, std::uint16_t port);
std::string format_addr(const IpAddr& addr);
std::string proto_name(std::uint8_t proto);

}  // namespace tcpr::packet
