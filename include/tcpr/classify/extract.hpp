// extract.hpp — pulling the few fields a classifier needs out of the first bytes of a stream.
//
// Each extractor reads the head of one direction of a flow (from its first payload byte,
// contiguous, as far as it has been received) and never reads outside [data, data+len). It
// answers kOk (fields filled), kNeedMore (looks like this protocol, the head is incomplete:
// call again with more bytes), or kNo (not this protocol, or malformed: never retry).
// Strings are copied into fixed-size fields (truncated, `*_len` is the stored length), so
// results outlive the buffer and nothing allocates. No exceptions, no logging.
//
//   parse_client_hello  TLS record(s) holding a ClientHello (TLS 1.0–1.3; the handshake message
//                       may span several records and several segments): SNI host name, first
//                       ALPN protocol (and all of them comma-joined), GREASE values ignored.
//   parse_http_request  HTTP/1.x request head: method, target, Host, Content-Type, Upgrade:
//                       websocket, presence of Mcp-Session-Id, Content-Length / chunked, and
//                       where the body starts.
//   parse_http_response HTTP/1.x response head: status, Content-Type (text/event-stream: SSE).
//   find_jsonrpc_method JSON-RPC 2.0 request or batch in a body (nlohmann-json's SAX parser,
//                       stopping at the first "method" string of a top-level object or of the
//                       first object of a batch); tolerates a truncated body after the method.
//   parse_dns_query     a DNS query message (RFC 1035 4.1; over TCP after the 2-byte length):
//                       the first question's name, lower-cased, dot-separated; no compression
//                       pointers are allowed in a query's first name.
//   parse_h2_request    HTTP/2 client stream: connection preface, frames until the first HEADERS
//                       (+CONTINUATION) block, decoded with nghttp2's HPACK inflater (Huffman-coded
//                       literals included): :method, :path, :authority, content-type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpr::classify {

enum class Extract : std::uint8_t { kOk = 0, kNeedMore, kNo };

template <std::size_t N>
struct FixedString {
  char data[N] = {};
  std::uint16_t len = 0;
  void assign(std::string_view s) noexcept {
    len = static_cast<std::uint16_t>(s.size() < N ? s.size() : N);
    for (std::uint16_t i = 0; i < len; ++i) data[i] = s[i];
  }
  std::string_view view() const noexcept { return {data, len}; }
  bool empty() const noexcept { return len == 0; }
};

struct TlsClientHello {
  FixedString<256> sni;          // server_name (host_name type), lower-cased
  FixedString<32> alpn_first;    // first ALPN protocol id, e.g. "h2"
  FixedString<96> alpn_all;      // all ALPN ids, comma-separated
  std::uint16_t record_version = 0;
  std::uint16_t hello_version = 0;     // legacy_version of the ClientHello
  bool tls13 = false;                  // supported_versions lists 0x0304
};

struct HttpRequest {
  FixedString<16> method;
  FixedString<256> target;       // request-target as sent (path and query)
  FixedString<256> host;         // Host header, lower-cased
  FixedString<96> content_type;  // lower-cased, parameters kept
  bool upgrade_websocket = false;
  bool mcp_session = false;      // an Mcp-Session-Id header is present
  bool chunked = false;
  std::int64_t content_length = -1;
  std::uint32_t body_offset = 0;  // first byte after the blank line
};

struct HttpResponse {
  std::uint16_t status = 0;
  FixedString<96> content_type;
  bool mcp_session = false;
  std::uint32_t body_offset = 0;
};

struct JsonRpcCall {
  FixedString<64> method;
  bool batch = false;
  bool jsonrpc2 = false;         // a "jsonrpc": "2.0" member was seen before the method
};

struct H2Request {
  FixedString<16> method;
  FixedString<256> path;
  FixedString<256> authority;
  FixedString<96> content_type;
};

Extract parse_client_hello(const std::uint8_t* data, std::size_t len, TlsClientHello& out) noexcept;
Extract parse_http_request(const std::uint8_t* data, std::size_t len, HttpRequest& out) noexcept;
Extract parse_http_response(const std::uint8_t* data, std::size_t len, HttpResponse& out) noexcept;
// `body` starts at the first body byte; with `chunked`, chunk-size lines are skipped.
Extract find_jsonrpc_method(const std::uint8_t* body, std::size_t len, bool chunked, JsonRpcCall& out) noexcept;
Extract parse_h2_request(const std::uint8_t* data, std::size_t len, H2Request& out) noexcept;
Extract parse_dns_query(const std::uint8_t* msg, std::size_t len, FixedString<256>& qname) noexcept;

}  // namespace tcpr::classify
