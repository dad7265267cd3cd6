// dns_wire.cpp — see dns_wire.hpp.
#include "dns_wire.hpp"

#include <stdexcept>

#include "byte_writer.hpp"

namespace tcpr::gen {
namespace {

constexpr std::uint16_t kFlagsQuery = 0x0100;     // RD
constexpr std::uint16_t kFlagsResponse = 0x8180;  // QR, RD, RA, NOERROR
constexpr std::uint16_t kPointerToQuestion = 0xc000 | 12;

void header(ByteWriter& w, std::uint16_t id, std::uint16_t flags, std::uint16_t answers) {
  w.u16(id);
  w.u16(flags);
  w.u16(1);  // QDCOUNT
  w.u16(answers);
  w.u16(0);  // NSCOUNT
  w.u16(0);  // ARCOUNT
}

void question(ByteWriter& w, std::string_view name, std::uint16_t qtype) {
  if (name.empty() || name.size() > 253) throw std::logic_error("DNS name length");
  while (!name.empty()) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) throw std::logic_error("DNS label length");
    w.u8(static_cast<std::uint8_t>(label.size()));
    w.text(label);
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  w.u8(0);  // the root label
  w.u16(qtype);
  w.u16(kDnsClassIn);
}

}  // namespace

void dns_query(std::vector<std::uint8_t>& out, std::uint16_t id, std::string_view name,
               std::uint16_t qtype) {
  ByteWriter w(out);
  header(w, id, kFlagsQuery, 0);
  question(w, name, qtype);
}

void dns_response(std::vector<std::uint8_t>& out, std::uint16_t id, std::string_view name,
                  std::uint16_t qtype, std::span<const std::uint32_t> addresses,
                  std::uint32_t ttl) {
  if (qtype != kDnsTypeA) addresses = {};
  ByteWriter w(out);
  header(w, id, kFlagsResponse, static_cast<std::uint16_t>(addresses.size()));
  question(w, name, qtype);
  for (std::uint32_t address : addresses) {
    w.u16(kPointerToQuestion);
    w.u16(kDnsTypeA);
    w.u16(kDnsClassIn);
    w.u32(ttl);
    w.u16(4);  // RDLENGTH
    w.u32(address);
  }
}

}  // namespace tcpr::gen
