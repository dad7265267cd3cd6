// dns_wire.hpp — DNS messages in RFC 1035 wire format (the UDP payload, no length prefix).
//
// dns_query()       a recursive (RD) query with one question.
// dns_response()    the resolver's answer: QR/RD/RA, NOERROR, the question echoed, and for an A
//                   question one A record per address, its owner name compressed to a pointer at
//                   the question (offset 12, RFC 1035 §4.1.4); other types get no answer (NODATA).
// Names are dotted host names: labels of 1–63 characters, at most 253 characters in all.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace tcpr::gen {

inline constexpr std::uint16_t kDnsTypeA = 1;
inline constexpr std::uint16_t kDnsTypeAaaa = 28;
inline constexpr std::uint16_t kDnsClassIn = 1;
inline constexpr std::uint16_t kDnsPort = 53;

void dns_query(std::vector<std::uint8_t>& out, std::uint16_t id, std::string_view name,
               std::uint16_t qtype);
void dns_response(std::vector<std::uint8_t>& out, std::uint16_t id, std::string_view name,
                  std::uint16_t qtype, std::span<const std::uint32_t> addresses, std::uint32_t ttl);

}  // namespace tcpr::gen
