// libFuzzer harness of parse_client_hello.
//
// The input is parsed whole and as a prefix (the cut chosen by the input), each from a heap
// buffer of exactly its length so ASan reports any read past it. A success must fill fields
// within their sizes (SNI lower-cased, alpn_all led by alpn_first); and since a ClientHello is
// decided by its own bytes only, more bytes never change a decision: a prefix's kOk must repeat,
// field for field, on the whole input, and a prefix's kNo too. Any violation traps.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tcpr/classify/extract.hpp"

namespace {

using namespace tcpr::classify;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

Extract parse_copy(const std::uint8_t* data, std::size_t len, TlsClientHello& out) {
  const std::vector<std::uint8_t> buf(data, data + len);
  return parse_client_hello(buf.data(), buf.size(), out);
}

void check_ok(const TlsClientHello& h) {
  check(h.sni.len <= sizeof(h.sni.data) && h.alpn_first.len <= sizeof(h.alpn_first.data) &&
        h.alpn_all.len <= sizeof(h.alpn_all.data));
  for (const char c : h.sni.view()) check(c < 'A' || c > 'Z');
  check(h.record_version >= 0x0301 && h.record_version <= 0x0304);
  check(h.hello_version >> 8 == 3);
  check(h.alpn_all.empty() || h.alpn_all.view().substr(0, h.alpn_first.len) == h.alpn_first.view());
}

bool same(const TlsClientHello& x, const TlsClientHello& y) {
  return x.sni.view() == y.sni.view() && x.alpn_first.view() == y.alpn_first.view() &&
         x.alpn_all.view() == y.alpn_all.view() && x.record_version == y.record_version &&
         x.hello_version == y.hello_version && x.tls13 == y.tls13;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  TlsClientHello full, part;
  const Extract rf = parse_copy(data, size, full);
  check(rf == Extract::kOk || rf == Extract::kNeedMore || rf == Extract::kNo);
  if (rf == Extract::kOk) check_ok(full);

  const std::size_t cut = size ? (data[size - 1] * 257u + size / 2) % (size + 1) : 0;
  const Extract rp = parse_copy(data, cut, part);
  if (rp == Extract::kOk) {
    check_ok(part);
    check(rf == Extract::kOk && same(part, full));
  }
  if (rp == Extract::kNo) check(rf == Extract::kNo);
  return 0;
}
