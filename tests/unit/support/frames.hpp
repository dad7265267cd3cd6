// frames.hpp — hand-built Ethernet frames for stage tests (no checksums: no stage checks them).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace tcpr::test {

inline void put16(std::vector<std::uint8_t>& b, unsigned v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

inline void eth(std::vector<std::uint8_t>& b, unsigned ether_type) {
  for (int i = 0; i < 6; ++i) b.push_back(0x02);  // dst
  for (int i = 0; i < 6; ++i) b.push_back(0x04);  // src
  put16(b, ether_type);
}

// Ethernet + IPv4 (IHL 5) + TCP (20 bytes) + payload_len bytes of 'x'.
inline std::vector<std::uint8_t> tcp4(std::initializer_list<std::uint8_t> src, std::uint16_t sport,
                                      std::initializer_list<std::uint8_t> dst, std::uint16_t dport,
                                      std::uint8_t flags, std::size_t payload_len = 0) {
  std::vector<std::uint8_t> b;
  eth(b, 0x0800);
  b.push_back(0x45);
  b.push_back(0);
  put16(b, static_cast<unsigned>(20 + 20 + payload_len));
  put16(b, 1);       // id
  put16(b, 0x4000);  // DF
  b.push_back(64);
  b.push_back(6);
  put16(b, 0);
  b.insert(b.end(), src);
  b.insert(b.end(), dst);
  put16(b, sport);
  put16(b, dport);
  for (int i = 0; i < 8; ++i) b.push_back(0);  // seq, ack
  b.push_back(0x50);                           // data offset 5
  b.push_back(flags);
  put16(b, 65535);
  put16(b, 0);
  put16(b, 0);
  b.insert(b.end(), payload_len, 'x');
  return b;
}

// Ethernet + IPv4 + TCP with a given sequence number and payload.
inline std::vector<std::uint8_t> tcp4_data(std::initializer_list<std::uint8_t> src, std::uint16_t sport,
                                           std::initializer_list<std::uint8_t> dst, std::uint16_t dport,
                                           std::uint32_t seq, std::string_view payload) {
  auto b = tcp4(src, sport, dst, dport, 0x18 /* PSH|ACK */, payload.size());
  b[38] = static_cast<std::uint8_t>(seq >> 24);
  b[39] = static_cast<std::uint8_t>(seq >> 16);
  b[40] = static_cast<std::uint8_t>(seq >> 8);
  b[41] = static_cast<std::uint8_t>(seq);
  for (std::size_t i = 0; i < payload.size(); ++i) b[54 + i] = static_cast<std::uint8_t>(payload[i]);
  return b;
}

inline std::vector<std::uint8_t> arp_request() {
  std::vector<std::uint8_t> b;
  eth(b, 0x0806);
  const std::uint8_t body[28] = {0, 1, 8, 0, 6, 4, 0, 1, 2, 4, 4, 4, 4, 4, 10, 0, 0, 1,
                                 0, 0, 0, 0, 0, 0, 10, 0, 0, 2};
  b.insert(b.end(), body, body + 28);
  return b;
}

}  // namespace tcpr::test
