// JSON-RPC method finder (see extract.hpp). References: JSON-RPC 2.0 §4 (request object) and §6
// (batch); RFC 8259 (JSON); RFC 9112 §7.1 (chunked transfer coding).
//
// Allocation: nlohmann's SAX parser allocates a little on every call: its nesting stack (a
// std::vector<bool>) and its token buffers (a std::string past 15 bytes, a std::vector<char>
// kept for error messages), which grow to the longest token; 6–8 small allocations for an MCP
// request. All are bounded by kMaxScan; the rest of this file allocates nothing.
#include "tcpr/classify/extract.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

namespace tcpr::classify {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxDechunked = 4096;
constexpr std::size_t kMaxScan = 64 * 1024;      // give up on bodies whose method comes later
constexpr std::size_t kMaxChunkLine = 1024;      // chunk-size + extensions
constexpr std::size_t kMaxChunkSizeDigits = 15;  // keeps the size below 2^60

// SAX handler: follows nesting and stops the parser (returns false) as soon as it knows the
// answer. `want` is the depth of the object whose members count: 1 for a single request, 2 for
// the first element of a batch.
class MethodFinder {
 public:
  MethodFinder(std::size_t len, JsonRpcCall& out) noexcept : len_(len), out_(out) {}

  Extract result() const noexcept { return result_; }

  bool null() { return scalar(); }
  bool boolean(bool) { return scalar(); }
  bool number_integer(Json::number_integer_t) { return scalar(); }
  bool number_unsigned(Json::number_unsigned_t) { return scalar(); }
  bool number_float(Json::number_float_t, const Json::string_t&) { return scalar(); }
  bool binary(Json::binary_t&) { return scalar(); }

  bool string(Json::string_t& s) {
    const Member m = pending_;
    pending_ = Member::kOther;
    if (!inside_object()) return finish(Extract::kNo);
    if (m == Member::kMethod) {
      out_.method.assign(s);
      return finish(Extract::kOk);
    }
    if (m == Member::kJsonrpc && s == "2.0") out_.jsonrpc2 = true;
    return true;
  }

  bool start_object(std::size_t) {
    if (pending_ == Member::kMethod) return finish(Extract::kNo);
    pending_ = Member::kOther;
    ++depth_;
    if (depth_ == 1) want_ = 1;
    if (depth_ == 2 && out_.batch && want_ == 0) want_ = 2;
    return true;
  }

  bool key(Json::string_t& k) {
    pending_ = Member::kOther;
    if (depth_ == want_) {
      if (k == "method") pending_ = Member::kMethod;
      if (k == "jsonrpc") pending_ = Member::kJsonrpc;
    }
    return true;
  }

  bool end_object() {
    // The object that had to hold the method closed without one: a response, or not JSON-RPC.
    if (depth_ == want_) return finish(Extract::kNo);
    --depth_;
    return true;
  }

  bool start_array(std::size_t) {
    if (pending_ == Member::kMethod) return finish(Extract::kNo);
    pending_ = Member::kOther;
    ++depth_;
    if (depth_ == 1) out_.batch = true;
    if (depth_ == 2 && out_.batch && want_ == 0) return finish(Extract::kNo);  // see inside_object
    return true;
  }

  bool end_array() {
    if (depth_ == 1) return finish(Extract::kNo);  // an empty batch
    --depth_;
    return true;
  }

  // Called with the number of characters read; one past the input means the lexer met its end
  // inside a value: more bytes could complete it.
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    return finish(position > len_ ? Extract::kNeedMore : Extract::kNo);
  }

 private:
  enum class Member : std::uint8_t { kOther, kMethod, kJsonrpc };

  bool scalar() {
    const bool method = pending_ == Member::kMethod;
    pending_ = Member::kOther;
    if (!inside_object() || method) return finish(Extract::kNo);  // "method" MUST be a string
    return true;
  }

  // False for a bare top-level value and for a batch whose first element is not an object
  // (JSON-RPC 2.0 §6: a batch holds request objects). Objects after the first are never reached.
  bool inside_object() const { return depth_ != 0 && !(out_.batch && depth_ == 1); }

  bool finish(Extract r) {
    result_ = r;
    return false;
  }

  std::size_t len_;
  JsonRpcCall& out_;
  Extract result_ = Extract::kNo;
  std::size_t depth_ = 0;
  std::size_t want_ = 0;
  Member pending_ = Member::kOther;
};

Extract find_in_json(const std::uint8_t* p, std::size_t len, JsonRpcCall& out) noexcept {
  const std::size_t scan = std::min(len, kMaxScan);
  std::size_t i = 0;
  while (i < scan && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) ++i;
  if (i == scan) return len > kMaxScan ? Extract::kNo : Extract::kNeedMore;
  if (p[i] != '{' && p[i] != '[') return Extract::kNo;
  MethodFinder finder(scan, out);
  try {
    // strict=false: bytes after the value (a pipelined request) are not an error.
    Json::sax_parse(p, p + scan, &finder, Json::input_format_t::json, false);
  } catch (...) {
    return Extract::kNo;  // only std::bad_alloc can get here
  }
  const Extract r = finder.result();
  return r == Extract::kNeedMore && len > kMaxScan ? Extract::kNo : r;
}

inline int hex_value(std::uint8_t c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// How de-chunking ended: the input ran out (more may come), the body ended (last-chunk), the
// buffer filled up, or the framing broke.
enum class Dechunk : std::uint8_t { kTruncated, kComplete, kFull, kBad };

// Reads one line end (CRLF or bare LF, as extract_http.cpp accepts) at p[i].
inline Dechunk line_end(const std::uint8_t* p, std::size_t len, std::size_t& i) noexcept {
  if (i < len && p[i] == '\r') ++i;
  if (i >= len) return Dechunk::kTruncated;
  if (p[i] != '\n') return Dechunk::kBad;
  ++i;
  return Dechunk::kComplete;
}

// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk = 1*"0" [ chunk-ext ] CRLF.
Dechunk dechunk(const std::uint8_t* p, std::size_t len, std::uint8_t* buf,
                std::size_t& n) noexcept {
  std::size_t i = 0;
  n = 0;
  for (;;) {
    const std::size_t line_start = i;
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (int h = 0; i < len && (h = hex_value(p[i])) >= 0; ++i) {
      if (++digits > kMaxChunkSizeDigits) return Dechunk::kBad;
      size = size << 4 | static_cast<unsigned>(h);
    }
    if (i == len) return Dechunk::kTruncated;
    if (digits == 0) return Dechunk::kBad;
    // chunk-ext: BWS ";" name [ BWS "=" BWS value ], skipped up to the line end; no controls.
    while (i < len && p[i] != '\r' && p[i] != '\n') {
      if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) return Dechunk::kBad;
      if (++i - line_start > kMaxChunkLine) return Dechunk::kBad;
    }
    if (const Dechunk e = line_end(p, len, i); e != Dechunk::kComplete) return e;
    if (size == 0) return Dechunk::kComplete;  // trailers do not matter here
    const std::size_t avail = std::min<std::uint64_t>(size, len - i);
    const std::size_t copy = std::min(avail, kMaxDechunked - n);
    std::memcpy(buf + n, p + i, copy);
    n += copy;
    if (n == kMaxDechunked) return Dechunk::kFull;
    if (avail < size) return Dechunk::kTruncated;
    i += size;
    if (const Dechunk e = line_end(p, len, i); e != Dechunk::kComplete) return e;
  }
}

}  // namespace

Extract find_jsonrpc_method(const std::uint8_t* body, std::size_t len, bool chunked,
                            JsonRpcCall& out) noexcept {
  out = JsonRpcCall{};
  if (!chunked) return find_in_json(body, len, out);
  std::uint8_t buf[kMaxDechunked];
  std::size_t n = 0;
  const Dechunk d = dechunk(body, len, buf, n);
  const Extract r = find_in_json(buf, n, out);
  // Only an input that simply ran out can still grow into a method: a finished, full or broken
  // chunked body without one never will.
  return r == Extract::kNeedMore && d != Dechunk::kTruncated ? Extract::kNo : r;
}

}  // namespace tcpr::classify
