// conversation.hpp — one flow being generated: its endpoints, clock, packets and label.
//
// A Scenario writes a conversation through a TcpSession (tcp_session.hpp) or send_udp(). Times are
// microseconds from the conversation's first packet (its SYN or first datagram is at 0); the
// generator later places the conversation on the capture's timeline. The capture point is the
// appliance on the agent segment: client packets are seen when sent, server packets one round
// trip after the client packet they answer.
//
// In a dry run (render == false) frames are not built, only their times and lengths recorded:
// the generator uses that to learn a conversation's length before it places it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "frame_builder.hpp"
#include "rng.hpp"

namespace tcpr::gen {

enum class Side : std::uint8_t { kClient = 0, kServer = 1 };

constexpr Side peer_of(Side side) noexcept {
  return side == Side::kClient ? Side::kServer : Side::kClient;
}
constexpr std::size_t index_of(Side side) noexcept { return static_cast<std::size_t>(side); }

struct Endpoint {
  std::uint32_t ip = 0;
  std::uint16_t port = 0;
  MacAddr mac{};          // as carried by its frames on the agent segment
  std::uint8_t ttl = 64;  // as captured
  std::string_view name;  // agent name or server host name (owned by the Topology)
};

// What the conversation is, as later tests expect tcp-routed to find it (labels.jsonl).
struct Label {
  std::string proto;              // "tcp" or "udp"
  std::string scenario;           // registry name, e.g. "http_json"
  std::string content_class;      // e.g. "http", "tls", "dns" (DESIGN.md content classes)
  std::vector<std::string> tags;  // risk tags, e.g. "secret"; empty for benign traffic
  std::optional<std::string> sni;
  std::optional<std::string> host;    // HTTP Host header as sent; DNS: the queried name
  std::optional<std::string> method;  // HTTP method of the first request
  std::optional<std::string> path;    // HTTP path of the first request
};

struct PacketRef {
  std::uint64_t ts_us = 0;  // from the conversation's first packet
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

class Conversation {
 public:
  Conversation(const Endpoint& client, const Endpoint& server, std::uint32_t rtt_us, bool render,
               Rng& rng);

  const Endpoint& endpoint(Side side) const noexcept { return ends_[index_of(side)]; }
  std::uint32_t rtt_us() const noexcept { return rtt_us_; }
  bool rendering() const noexcept { return render_; }
  Label& label() noexcept { return label_; }
  const Label& label() const noexcept { return label_; }

  std::uint64_t now_us() const noexcept { return now_us_; }
  void advance_us(std::uint64_t delta) noexcept { now_us_ += delta; }
  void advance_to_us(std::uint64_t t) noexcept { now_us_ = t > now_us_ ? t : now_us_; }

  // IPv4 header fields for a packet from `from`; consumes one IP id of that side.
  Ipv4Fields ipv4_from(Side from);

  // Records a frame of `length` bytes at `ts_us`; `build(std::vector<uint8_t>&)` appends exactly
  // those bytes, and is only called when rendering. Times must not go backwards.
  template <class Build>
  void add_packet(std::uint64_t ts_us, std::size_t length, Build&& build) {
    if (!packets_.empty() && ts_us < packets_.back().ts_us) {
      throw std::logic_error("Conversation: packet times went backwards");
    }
    const std::size_t offset = bytes_.size();
    if (render_) {
      build(bytes_);
      if (bytes_.size() - offset != length) throw std::logic_error("Conversation: frame length");
    }
    packets_.push_back(
        {ts_us, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(length)});
    wire_bytes_ += length;
    advance_to_us(ts_us);
  }

  // One datagram from `from`, at now_us().
  void send_udp(Side from, std::span<const std::uint8_t> payload);

  std::span<const PacketRef> packets() const noexcept { return packets_; }
  std::span<const std::uint8_t> frame(const PacketRef& packet) const noexcept {
    return {bytes_.data() + packet.offset, packet.length};
  }
  std::uint64_t wire_bytes() const noexcept { return wire_bytes_; }
  std::uint64_t last_ts_us() const noexcept { return packets_.empty() ? 0 : packets_.back().ts_us; }

 private:
  std::array<Endpoint, 2> ends_;
  std::uint32_t rtt_us_;
  bool render_;
  std::array<std::uint16_t, 2> ip_id_;
  std::uint64_t now_us_ = 0;
  Label label_;
  std::vector<PacketRef> packets_;
  std::vector<std::uint8_t> bytes_;
  std::uint64_t wire_bytes_ = 0;
};

}  // namespace tcpr::gen
