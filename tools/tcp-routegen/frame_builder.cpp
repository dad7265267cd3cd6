// frame_builder.cpp — see frame_builder.hpp.
#include "frame_builder.hpp"

#include <algorithm>
#include <stdexcept>

#include "byte_writer.hpp"

namespace tcpr::gen {
namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::size_t kMaxIpv4Total = 65535;

std::size_t padded(std::size_t len) noexcept { return std::max(len, kEthMinFrameLen); }

// Sum of the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768), unfolded.
std::uint32_t pseudo_header_sum(const Ipv4Fields& ip, std::uint8_t proto, std::size_t l4_len) {
  std::uint32_t sum = 0;
  sum += ip.src_ip >> 16;
  sum += ip.src_ip & 0xffff;
  sum += ip.dst_ip >> 16;
  sum += ip.dst_ip & 0xffff;
  sum += proto;
  sum += static_cast<std::uint32_t>(l4_len);
  return sum;
}

// Writes Ethernet and IPv4 headers; returns where the L4 header starts.
std::size_t write_l2_l3(std::vector<std::uint8_t>& out, const Ipv4Fields& ip, std::uint8_t proto,
                        std::size_t l4_len) {
  const std::size_t total = kIpv4HeaderLen + l4_len;
  if (total > kMaxIpv4Total) throw std::logic_error("IPv4 datagram longer than 65535 bytes");
  ByteWriter w(out);
  w.bytes(ip.dst_mac);
  w.bytes(ip.src_mac);
  w.u16(kEtherTypeIpv4);
  const std::size_t ip_at = w.size();
  w.u8(0x45);  // version 4, IHL 5 words
  w.u8(0);     // DSCP/ECN
  w.u16(static_cast<std::uint16_t>(total));
  w.u16(ip.id);
  w.u16(ip.dont_fragment ? 0x4000 : 0);
  w.u8(ip.ttl);
  w.u8(proto);
  w.u16(0);  // checksum, patched below
  w.u32(ip.src_ip);
  w.u32(ip.dst_ip);
  w.patch_u16(ip_at + 10, internet_checksum({out.data() + ip_at, kIpv4HeaderLen}));
  return w.size();
}

void pad_frame(std::vector<std::uint8_t>& out, std::size_t frame_at) {
  const std::size_t len = out.size() - frame_at;
  if (len < kEthMinFrameLen) out.resize(frame_at + kEthMinFrameLen, 0);
}

}  // namespace

std::size_t tcp_frame_size(std::size_t option_len, std::size_t payload_len) noexcept {
  return padded(kEthHeaderLen + kIpv4HeaderLen + kTcpHeaderLen + option_len + payload_len);
}

std::size_t udp_frame_size(std::size_t payload_len) noexcept {
  return padded(kEthHeaderLen + kIpv4HeaderLen + kUdpHeaderLen + payload_len);
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> data,
                                std::uint32_t partial) noexcept {
  std::uint64_t sum = partial;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);  // odd byte, zero-padded
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

void append_tcp_frame(std::vector<std::uint8_t>& out, const Ipv4Fields& ip, const TcpFields& tcp,
                      std::span<const std::uint8_t> payload) {
  if (tcp.options.size() % 4 != 0 || tcp.options.size() > 40) {
    throw std::logic_error("TCP options must be a multiple of 4 bytes, at most 40");
  }
  const std::size_t frame_at = out.size();
  const std::size_t l4_len = kTcpHeaderLen + tcp.options.size() + payload.size();
  const std::size_t tcp_at = write_l2_l3(out, ip, kProtoTcp, l4_len);
  ByteWriter w(out);
  w.u16(tcp.src_port);
  w.u16(tcp.dst_port);
  w.u32(tcp.seq);
  w.u32(tcp.ack);
  w.u8(static_cast<std::uint8_t>(((kTcpHeaderLen + tcp.options.size()) / 4) << 4));
  w.u8(tcp.flags);
  w.u16(tcp.window);
  w.u16(0);  // checksum, patched below
  w.u16(0);  // urgent pointer
  w.bytes(tcp.options);
  w.bytes(payload);
  const std::uint32_t pseudo = pseudo_header_sum(ip, kProtoTcp, l4_len);
  w.patch_u16(tcp_at + 16, internet_checksum({out.data() + tcp_at, l4_len}, pseudo));
  pad_frame(out, frame_at);
}

void append_udp_frame(std::vector<std::uint8_t>& out, const Ipv4Fields& ip, std::uint16_t src_port,
                      std::uint16_t dst_port, std::span<const std::uint8_t> payload) {
  const std::size_t frame_at = out.size();
  const std::size_t l4_len = kUdpHeaderLen + payload.size();
  const std::size_t udp_at = write_l2_l3(out, ip, kProtoUdp, l4_len);
  ByteWriter w(out);
  w.u16(src_port);
  w.u16(dst_port);
  w.u16(static_cast<std::uint16_t>(l4_len));
  w.u16(0);  // checksum, patched below
  w.bytes(payload);
  std::uint16_t sum =
      internet_checksum({out.data() + udp_at, l4_len}, pseudo_header_sum(ip, kProtoUdp, l4_len));
  if (sum == 0) sum = 0xffff;  // RFC 768: a computed zero is sent as all ones
  w.patch_u16(udp_at + 6, sum);
  pad_frame(out, frame_at);
}

}  // namespace tcpr::gen
