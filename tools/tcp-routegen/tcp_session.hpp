// tcp_session.hpp — a TCP connection written into a Conversation, segment by segment.
//
// connect()  SYN (MSS 1460, SACK-permitted, timestamps, window scale 7) / SYN-ACK / ACK.
// send()     data from one side, cut at the MSS (1448 payload bytes once the 12-byte timestamp
//            option is counted), PSH on the last segment; the receiver ACKs every second segment
//            and the last of a burst (delayed ACK). Bursts follow slow start: 10 segments at
//            first, growing by one per acknowledged segment up to 40 (57920 bytes, under the
//            peer's 64 KiB window), each next burst clocked by the ACKs of the previous one.
// close()    FIN/ACK from either side, answered with FIN/ACK (or ACK then FIN), then the last ACK.
// probe()    a SYN and what answers it, for scans and floods (behaviour mode): nothing, the
//            server's RST/ACK (closed port; seq 0, as Linux answers a segment without ACK), or a
//            SYN-ACK that the client's kernel resets (RST, seq = the SYN-ACK's ack) because the SYN
//            came from a raw socket. A raw SYN carries only MSS 1460 and a 1024-byte window, as
//            nmap -sS sends it; the SYN-ACK then offers MSS only. RSTs carry no options, window 0.
//
// Sequence and acknowledgement numbers follow RFC 9293 from random ISNs; timestamps (RFC 7323)
// tick at 1 kHz from a random base per side and echo the peer's latest value. Timing follows the
// capture model of conversation.hpp: a server reacts one round trip after the client packet it
// answers, a client within tens of microseconds; back-to-back segments are spaced by their
// serialisation time on the sender's link.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "conversation.hpp"
#include "rng.hpp"

namespace tcpr::gen {

class TcpSession {
 public:
  static constexpr std::uint32_t kMss = 1448;
  static constexpr std::uint32_t kInitialBurst = 10;
  static constexpr std::uint32_t kMaxBurst = 40;

  TcpSession(Conversation& conv, Rng& rng);

  void connect();
  void send(Side from, std::span<const std::uint8_t> data);
  void send(Side from, std::string_view text);
  void close(Side initiator);

  enum class ProbeReply : std::uint8_t { kNone, kRefused, kSynAck };
  void probe(ProbeReply reply, bool raw_syn);

 private:
  struct Segment {
    std::uint64_t ts_us;
    Side from;
    std::uint8_t flags;
    std::uint32_t seq;
    std::uint32_t ack;
    std::span<const std::uint8_t> payload;
  };
  struct Direction {
    std::uint32_t next_seq = 0;
    std::uint32_t ts_base = 0;
    std::uint32_t last_tsval = 0;  // latest timestamp value this side sent
    std::uint32_t burst = kInitialBurst;
    std::uint32_t link_mbps = 1000;
    std::uint16_t syn_window = 0;
    std::uint16_t window = 0;  // after the handshake, in units of 2^7 bytes
  };

  Direction& dir(Side side) noexcept { return dirs_[index_of(side)]; }
  std::uint64_t reaction_us(Side responder);
  std::uint64_t serialisation_us(Side from, std::size_t payload_len) const noexcept;
  void push(std::uint64_t ts_us, Side from, std::uint8_t flags,
            std::span<const std::uint8_t> payload = {});
  void flush();  // renders the pending segments in time order

  Conversation& conv_;
  Rng& rng_;
  std::array<Direction, 2> dirs_;
  std::vector<Segment> pending_;
  bool raw_ = false;  // set by probe(): MSS-only SYN options, none on other segments
};

}  // namespace tcpr::gen
