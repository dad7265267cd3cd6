// libFuzzer harness of find_jsonrpc_method, plain and chunked.
//
// The input is scanned whole and as a prefix (the cut chosen by the input), each from a heap
// buffer of exactly its length so ASan reports any read past it. The scan stops at the method,
// so a prefix's kOk must repeat, with the same fields, on the whole input. A success must have a
// method within its size. No exception may escape (the function is noexcept: one would abort).
// Any violation traps.
//
// Unlike the other extractors, a prefix's kNo need not repeat: nlohmann's lexer reports a
// misplaced token only once the token is complete, so `{"a"6` is kNo while `{"a"6.` (a number
// cut short) is kNeedMore — the longer input stays undecided until the token ends. The prefixes
// of valid JSON are never kNo (every error they meet is at their end).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tcpr/classify/extract.hpp"

namespace {

using namespace tcpr::classify;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

Extract scan_copy(const std::uint8_t* data, std::size_t len, bool chunked, JsonRpcCall& out) {
  const std::vector<std::uint8_t> buf(data, data + len);
  return find_jsonrpc_method(buf.data(), buf.size(), chunked, out);
}

bool same(const JsonRpcCall& x, const JsonRpcCall& y) {
  return x.method.view() == y.method.view() && x.batch == y.batch && x.jsonrpc2 == y.jsonrpc2;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::size_t cut = size ? (data[size - 1] * 257u + size / 2) % (size + 1) : 0;
  for (const bool chunked : {false, true}) {
    JsonRpcCall full, part;
    const Extract rf = scan_copy(data, size, chunked, full);
    check(rf == Extract::kOk || rf == Extract::kNeedMore || rf == Extract::kNo);
    if (rf == Extract::kOk) check(full.method.len <= sizeof(full.method.data));
    const Extract rp = scan_copy(data, cut, chunked, part);
    if (rp == Extract::kOk) check(rf == Extract::kOk && same(part, full));
  }
  return 0;
}
