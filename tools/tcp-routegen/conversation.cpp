// conversation.cpp — see conversation.hpp.
#include "conversation.hpp"

namespace tcpr::gen {

Conversation::Conversation(const Endpoint& client, const Endpoint& server, std::uint32_t rtt_us,
                           bool render, Rng& rng)
    : ends_{client, server},
      rtt_us_(rtt_us),
      render_(render),
      // Linux gives each connected socket its own IP id counter with a random start.
      ip_id_{static_cast<std::uint16_t>(rng.next_u32()),
             static_cast<std::uint16_t>(rng.next_u32())} {}

Ipv4Fields Conversation::ipv4_from(Side from) {
  const Endpoint& src = endpoint(from);
  const Endpoint& dst = endpoint(peer_of(from));
  Ipv4Fields ip;
  ip.src_mac = src.mac;
  ip.dst_mac = dst.mac;
  ip.src_ip = src.ip;
  ip.dst_ip = dst.ip;
  ip.id = ip_id_[index_of(from)]++;
  ip.ttl = src.ttl;
  return ip;
}

void Conversation::send_udp(Side from, std::span<const std::uint8_t> payload) {
  if (label_.proto.empty()) label_.proto = "udp";
  const Ipv4Fields ip = ipv4_from(from);
  const std::uint16_t src_port = endpoint(from).port;
  const std::uint16_t dst_port = endpoint(peer_of(from)).port;
  add_packet(now_us_, udp_frame_size(payload.size()), [&](std::vector<std::uint8_t>& out) {
    append_udp_frame(out, ip, src_port, dst_port, payload);
  });
}

}  // namespace tcpr::gen
