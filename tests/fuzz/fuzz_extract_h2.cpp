// libFuzzer harness of parse_h2_request.
//
// The input is parsed whole and as a prefix (the cut chosen by the input), each from a heap
// buffer of exactly its length so ASan reports any read past it, and the whole input a second
// time: the HPACK arena is reset per call, so the answer must not change. A success must carry
// a :method and fields within their sizes (authority lower-cased). The request is decided by the
// frames up to its header block, so a prefix's kOk must repeat, field for field, on the whole
// input, and a prefix's kNo too. Any violation traps.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tcpr/classify/extract.hpp"

namespace {

using namespace tcpr::classify;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

Extract parse_copy(const std::uint8_t* data, std::size_t len, H2Request& out) {
  const std::vector<std::uint8_t> buf(data, data + len);
  return parse_h2_request(buf.data(), buf.size(), out);
}

void check_ok(const H2Request& r) {
  check(!r.method.empty() && r.method.len <= sizeof(r.method.data) &&
        r.path.len <= sizeof(r.path.data) && r.authority.len <= sizeof(r.authority.data) &&
        r.content_type.len <= sizeof(r.content_type.data));
  for (const char c : r.authority.view()) check(c < 'A' || c > 'Z');
}

bool same(const H2Request& x, const H2Request& y) {
  return x.method.view() == y.method.view() && x.path.view() == y.path.view() &&
         x.authority.view() == y.authority.view() && x.content_type.view() == y.content_type.view();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  H2Request full, again, part;
  const Extract rf = parse_copy(data, size, full);
  if (rf == Extract::kOk) check_ok(full);
  check(parse_copy(data, size, again) == rf && (rf != Extract::kOk || same(full, again)));

  const std::size_t cut = size ? (data[size - 1] * 257u + size / 2) % (size + 1) : 0;
  const Extract rp = parse_copy(data, cut, part);
  if (rp == Extract::kOk) {
    check_ok(part);
    check(rf == Extract::kOk && same(part, full));
  }
  if (rp == Extract::kNo) check(rf == Extract::kNo);
  return 0;
}
