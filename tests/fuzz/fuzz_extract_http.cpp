// libFuzzer harness of parse_http_request and parse_http_response.
//
// Both parse the input whole and as a prefix (the cut chosen by the input), each from a heap
// buffer of exactly its length so ASan reports any read past it. A success must describe a head
// that ends inside the input with a line feed, within the 8 KiB head limit, with fields within
// their sizes (host lower-cased). A head is decided by its own bytes only, so a prefix's kOk must
// repeat, field for field, on the whole input, and a prefix's kNo too. Any violation traps.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tcpr/classify/extract.hpp"

namespace {

using namespace tcpr::classify;

constexpr std::size_t kMaxHead = 8192;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

template <typename Out, typename Fn>
Extract parse_copy(Fn fn, const std::uint8_t* data, std::size_t len, Out& out) {
  const std::vector<std::uint8_t> buf(data, data + len);
  return fn(buf.data(), buf.size(), out);
}

void check_head(const std::uint8_t* data, std::size_t len, std::uint32_t body_offset) {
  check(body_offset >= 2 && body_offset <= len && body_offset <= kMaxHead);
  check(data[body_offset - 1] == '\n');
}

void check_ok(const std::uint8_t* data, std::size_t len, const HttpRequest& r) {
  check_head(data, len, r.body_offset);
  check(!r.method.empty() && !r.target.empty() && r.method.len <= sizeof(r.method.data) &&
        r.target.len <= sizeof(r.target.data) && r.host.len <= sizeof(r.host.data) &&
        r.content_type.len <= sizeof(r.content_type.data));
  for (const char c : r.host.view()) check(c < 'A' || c > 'Z');
  check(r.content_length >= -1);
}

bool same(const HttpRequest& x, const HttpRequest& y) {
  return x.method.view() == y.method.view() && x.target.view() == y.target.view() &&
         x.host.view() == y.host.view() && x.content_type.view() == y.content_type.view() &&
         x.upgrade_websocket == y.upgrade_websocket && x.mcp_session == y.mcp_session &&
         x.chunked == y.chunked && x.content_length == y.content_length &&
         x.body_offset == y.body_offset;
}

bool same(const HttpResponse& x, const HttpResponse& y) {
  return x.status == y.status && x.content_type.view() == y.content_type.view() &&
         x.mcp_session == y.mcp_session && x.body_offset == y.body_offset;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::size_t cut = size ? (data[size - 1] * 257u + size / 2) % (size + 1) : 0;

  HttpRequest qf, qp;
  const Extract rf = parse_copy(parse_http_request, data, size, qf);
  if (rf == Extract::kOk) check_ok(data, size, qf);
  const Extract rp = parse_copy(parse_http_request, data, cut, qp);
  if (rp == Extract::kOk) {
    check_ok(data, cut, qp);
    check(rf == Extract::kOk && same(qp, qf));
  }
  if (rp == Extract::kNo) check(rf == Extract::kNo);

  HttpResponse sf, sp;
  const Extract sr = parse_copy(parse_http_response, data, size, sf);
  if (sr == Extract::kOk) {
    check_head(data, size, sf.body_offset);
    check(sf.status <= 999 && sf.content_type.len <= sizeof(sf.content_type.data));
  }
  const Extract spr = parse_copy(parse_http_response, data, cut, sp);
  if (spr == Extract::kOk) check(sr == Extract::kOk && same(sp, sf));
  if (spr == Extract::kNo) check(sr == Extract::kNo);
  return 0;
}
