// The first question name of a DNS query (RFC 1035 4.1.1, 4.1.2, 3.1).
#include "tcpr/classify/extract.hpp"

namespace tcpr::classify {

Extract parse_dns_query(const std::uint8_t* msg, std::size_t len, FixedString<256>& qname) noexcept {
  constexpr std::size_t kHeader = 12;
  if (len < kHeader) return Extract::kNo;
  const bool is_response = msg[2] & 0x80;
  const unsigned qdcount = static_cast<unsigned>(msg[4]) << 8 | msg[5];
  if (is_response || qdcount == 0) return Extract::kNo;
  char name[256];
  std::size_t n = 0, pos = kHeader;
  for (;;) {
    if (pos >= len) return Extract::kNo;
    const std::uint8_t label = msg[pos++];
    if (label == 0) break;
    if (label > 63) return Extract::kNo;  // a compression pointer or a reserved label type
    if (pos + label > len || n + label + 1 > 253) return Extract::kNo;  // 3.1: names <= 255 octets
    if (n != 0) name[n++] = '.';
    for (std::uint8_t i = 0; i < label; ++i) {
      char c = static_cast<char>(msg[pos + i]);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      name[n++] = c;
    }
    pos += label;
  }
  if (pos + 4 > len) return Extract::kNo;  // QTYPE and QCLASS must follow
  qname.assign(std::string_view(name, n));
  return Extract::kOk;
}

}  // namespace tcpr::classify
