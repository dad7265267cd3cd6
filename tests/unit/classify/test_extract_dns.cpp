// parse_dns_query on a query dig sent (tests/data/dns.pcap, frame 1: `dig @10.99.0.2
// api.openai.com A`, bytes from `tshark -T fields -e udp.payload`), and malformed variants.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tcpr/classify/extract.hpp"

using namespace tcpr::classify;

namespace {
std::vector<std::uint8_t> hex(const std::string& h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}
const std::string kDigQuery =
    "40a50120000100000000000103617069066f70656e616903636f6d000001000100002904d000000000000c000a0008eaa07dfb62cfeef6";
}  // namespace

TEST_CASE("extract: the question name of a real dig query", "[extract]") {
  const auto q = hex(kDigQuery);
  FixedString<256> name;
  REQUIRE(parse_dns_query(q.data(), q.size(), name) == Extract::kOk);
  CHECK(name.view() == "api.openai.com");
}

TEST_CASE("extract: DNS names are lower-cased; malformed queries are refused", "[extract]") {
  auto q = hex(kDigQuery);
  q[13] = 'A';  // "Api"
  FixedString<256> name;
  REQUIRE(parse_dns_query(q.data(), q.size(), name) == Extract::kOk);
  CHECK(name.view() == "api.openai.com");

  auto response = q;
  response[2] |= 0x80;  // QR = 1
  CHECK(parse_dns_query(response.data(), response.size(), name) == Extract::kNo);
  auto pointer = q;
  pointer[12] = 0xc0;  // a compression pointer where a query's first label must be
  CHECK(parse_dns_query(pointer.data(), pointer.size(), name) == Extract::kNo);
  auto no_question = q;
  no_question[5] = 0;  // QDCOUNT 0
  CHECK(parse_dns_query(no_question.data(), no_question.size(), name) == Extract::kNo);
  // Every truncation before QTYPE/QCLASS: refused, never read past the end.
  for (std::size_t n = 0; n < 12 + 16 + 4; ++n) CHECK(parse_dns_query(q.data(), n, name) == Extract::kNo);
  CHECK(parse_dns_query(q.data(), 12 + 16 + 4, name) == Extract::kOk);
  // A label running past the message.
  auto long_label = hex("000001000001000000000000") ;
  long_label.push_back(63);
  long_label.insert(long_label.end(), 10, 'a');
  CHECK(parse_dns_query(long_label.data(), long_label.size(), name) == Extract::kNo);
}
