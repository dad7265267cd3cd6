// tcp_session.cpp — see tcp_session.hpp.
#include "tcp_session.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

namespace tcpr::gen {
namespace {

constexpr std::uint8_t kWindowScale = 7;
constexpr std::uint16_t kMssOption = 1460;
constexpr std::size_t kDataOptionLen = 12;

// Linux's SYN layout: MSS, SACK-permitted, timestamps, NOP, window scale (20 bytes); later
// segments carry NOP, NOP, timestamps (12 bytes).
std::size_t write_options(std::array<std::uint8_t, 40>& buf, bool syn, std::uint32_t tsval,
                          std::uint32_t tsecr) {
  std::size_t n = 0;
  const auto put = [&](std::initializer_list<std::uint32_t> bytes) {
    for (std::uint32_t b : bytes) buf[n++] = static_cast<std::uint8_t>(b);
  };
  const auto put32 = [&](std::uint32_t v) { put({v >> 24, v >> 16, v >> 8, v}); };
  if (syn) {
    put({2, 4, kMssOption >> 8, kMssOption & 0xff, 4, 2});
  } else {
    put({1, 1});
  }
  put({8, 10});
  put32(tsval);
  put32(tsecr);
  if (syn) put({1, 3, 3, kWindowScale});
  return n;
}

}  // namespace

TcpSession::TcpSession(Conversation& conv, Rng& rng) : conv_(conv), rng_(rng) {
  conv_.label().proto = "tcp";
  for (Direction& d : dirs_) {
    d.next_seq = rng_.next_u32();
    d.ts_base = rng_.next_u32();
  }
  // Linux defaults: 64240 / 65160 in the SYN, then 64 KiB-ish windows at scale 7.
  dir(Side::kClient).syn_window = 64240;
  dir(Side::kClient).window = 502;
  dir(Side::kServer).syn_window = 65160;
  dir(Side::kServer).window = 509;
  // The client sits on the gigabit agent segment; a server's bottleneck is further away.
  dir(Side::kServer).link_mbps = static_cast<std::uint32_t>(rng_.between(100, 1000));
}

std::uint64_t TcpSession::reaction_us(Side responder) {
  if (responder == Side::kServer) return conv_.rtt_us() + rng_.between(0, conv_.rtt_us() / 16);
  return rng_.between(15, 120);
}

std::uint64_t TcpSession::serialisation_us(Side from, std::size_t payload_len) const noexcept {
  const std::size_t bits = tcp_frame_size(kDataOptionLen, payload_len) * 8;
  return std::max<std::uint64_t>(1, bits / dirs_[index_of(from)].link_mbps);
}

void TcpSession::push(std::uint64_t ts_us, Side from, std::uint8_t flags,
                      std::span<const std::uint8_t> payload) {
  Direction& d = dir(from);
  const std::uint32_t ack = (flags & kTcpAck) != 0 ? dir(peer_of(from)).next_seq : 0;
  pending_.push_back({ts_us, from, flags, d.next_seq, ack, payload});
  d.next_seq += static_cast<std::uint32_t>(payload.size());
  if ((flags & (kTcpSyn | kTcpFin)) != 0) d.next_seq += 1;  // SYN and FIN take a sequence number
}

void TcpSession::connect() {
  const std::uint64_t syn = conv_.now_us();
  const std::uint64_t syn_ack = syn + reaction_us(Side::kServer);
  push(syn, Side::kClient, kTcpSyn);
  push(syn_ack, Side::kServer, kTcpSyn | kTcpAck);
  push(syn_ack + reaction_us(Side::kClient), Side::kClient, kTcpAck);
  flush();
}

void TcpSession::send(Side from, std::string_view text) {
  send(from, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

void TcpSession::send(Side from, std::span<const std::uint8_t> data) {
  const Side to = peer_of(from);
  Direction& d = dir(from);
  std::uint64_t t = conv_.now_us();
  std::size_t offset = 0;
  while (offset < data.size()) {
    const std::uint64_t ack_delay = reaction_us(to);
    std::uint64_t last_ack = t;
    std::uint32_t sent = 0;
    for (std::uint32_t j = 0; j < d.burst && offset < data.size(); ++j, ++sent) {
      const std::size_t len = std::min<std::size_t>(kMss, data.size() - offset);
      const bool last = offset + len == data.size();
      const bool burst_end = last || j + 1 == d.burst;
      push(t, from, last ? kTcpAck | kTcpPsh : kTcpAck, data.subspan(offset, len));
      offset += len;
      if (j % 2 == 1 || burst_end) {
        last_ack = t + ack_delay;
        push(last_ack, to, kTcpAck);
      }
      t += serialisation_us(from, len);
    }
    d.burst = std::min(d.burst + sent, kMaxBurst);  // slow start: one more per acked segment
    // The next burst leaves once the sender has seen the ACKs of this one.
    if (offset < data.size()) t = std::max(t, last_ack + reaction_us(from));
  }
  flush();
}

void TcpSession::close(Side initiator) {
  const Side responder = peer_of(initiator);
  const std::uint64_t fin = conv_.now_us();
  std::uint64_t t = fin + reaction_us(responder);
  push(fin, initiator, kTcpFin | kTcpAck);
  if (rng_.chance(50)) {
    push(t, responder, kTcpFin | kTcpAck);  // the ACK of the FIN rides on the peer's own FIN
  } else {
    push(t, responder, kTcpAck);  // the peer's application closes a little later
    t += rng_.between(20, 400);
    push(t, responder, kTcpFin | kTcpAck);
  }
  push(t + reaction_us(initiator), initiator, kTcpAck);
  flush();
}

void TcpSession::probe(ProbeReply reply, bool raw_syn) {
  raw_ = raw_syn;
  const std::uint64_t syn = conv_.now_us();
  push(syn, Side::kClient, kTcpSyn);
  if (reply == ProbeReply::kRefused) {
    push(syn + reaction_us(Side::kServer), Side::kServer, kTcpRst | kTcpAck);
    pending_.back().seq = 0;  // RFC 9293 §3.10.7.1: the SYN carried no ACK to take a seq from
  } else if (reply == ProbeReply::kSynAck) {
    const std::uint64_t syn_ack = syn + reaction_us(Side::kServer);
    push(syn_ack, Side::kServer, kTcpSyn | kTcpAck);
    push(syn_ack + reaction_us(Side::kClient), Side::kClient, kTcpRst);
  }
  flush();
}

void TcpSession::flush() {
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const Segment& a, const Segment& b) { return a.ts_us < b.ts_us; });
  std::array<std::uint8_t, 40> options{};
  for (const Segment& s : pending_) {
    Direction& d = dir(s.from);
    const bool syn = (s.flags & kTcpSyn) != 0;
    const auto tsval = static_cast<std::uint32_t>(d.ts_base + s.ts_us / 1000);
    const std::uint32_t tsecr = (s.flags & kTcpAck) != 0 ? dir(peer_of(s.from)).last_tsval : 0;
    d.last_tsval = tsval;
    const bool rst = (s.flags & kTcpRst) != 0;
    std::size_t option_len = 0;
    if (!raw_ && !rst) {
      option_len = write_options(options, syn, tsval, tsecr);
    } else if (syn) {
      options = {2, 4, kMssOption >> 8, kMssOption & 0xff};
      option_len = 4;
    }

    const Ipv4Fields ip = conv_.ipv4_from(s.from);
    TcpFields tcp;
    tcp.src_port = conv_.endpoint(s.from).port;
    tcp.dst_port = conv_.endpoint(peer_of(s.from)).port;
    tcp.seq = s.seq;
    tcp.ack = s.ack;
    tcp.flags = s.flags;
    tcp.window = rst ? 0 : syn ? d.syn_window : d.window;
    if (raw_ && syn && s.from == Side::kClient) tcp.window = 1024;
    tcp.options = std::span<const std::uint8_t>(options.data(), option_len);
    conv_.add_packet(
        s.ts_us, tcp_frame_size(option_len, s.payload.size()),
        [&](std::vector<std::uint8_t>& out) { append_tcp_frame(out, ip, tcp, s.payload); });
  }
  pending_.clear();
}

}  // namespace tcpr::gen
