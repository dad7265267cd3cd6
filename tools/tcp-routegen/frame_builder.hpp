// frame_builder.hpp — Ethernet II + IPv4 + TCP/UDP frames with correct checksums.
//
// Input: addresses, header fields and a payload. Output: the frame's bytes appended to a vector,
// with the IPv4 header checksum (RFC 791) and the TCP (RFC 9293) / UDP (RFC 768) checksum over
// the pseudo-header computed as in RFC 1071. Frames shorter than the 60-byte Ethernet minimum
// are zero-padded, as they are on the wire. tcp_frame_size()/udp_frame_size() give the length a
// frame will have without building it. IPv4 only; IPv6 is not generated yet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tcpr::gen {

using MacAddr = std::array<std::uint8_t, 6>;

inline constexpr std::size_t kEthHeaderLen = 14;
inline constexpr std::size_t kIpv4HeaderLen = 20;
inline constexpr std::size_t kTcpHeaderLen = 20;
inline constexpr std::size_t kUdpHeaderLen = 8;
inline constexpr std::size_t kEthMinFrameLen = 60;  // without the FCS, which captures omit

inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;

struct Ipv4Fields {
  MacAddr src_mac{};
  MacAddr dst_mac{};
  std::uint32_t src_ip = 0;  // host order
  std::uint32_t dst_ip = 0;
  std::uint16_t id = 0;
  std::uint8_t ttl = 64;
  bool dont_fragment = true;
};

struct TcpFields {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::span<const std::uint8_t> options;  // length a multiple of 4, at most 40
};

std::size_t tcp_frame_size(std::size_t option_len, std::size_t payload_len) noexcept;
std::size_t udp_frame_size(std::size_t payload_len) noexcept;

void append_tcp_frame(std::vector<std::uint8_t>& out, const Ipv4Fields& ip, const TcpFields& tcp,
                      std::span<const std::uint8_t> payload);
void append_udp_frame(std::vector<std::uint8_t>& out, const Ipv4Fields& ip, std::uint16_t src_port,
                      std::uint16_t dst_port, std::span<const std::uint8_t> payload);

// RFC 1071 one's-complement sum of `data` added to `partial` (an unfolded running sum), folded and
// complemented.
std::uint16_t internet_checksum(std::span<const std::uint8_t> data,
                                std::uint32_t partial = 0) noexcept;

}  // namespace tcpr::gen
