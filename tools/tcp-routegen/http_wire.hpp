// http_wire.hpp — HTTP/1.1 messages (RFC 9112) and the framings carried in them.
//
// http_request()/http_response()  a start line, header fields in the given order, then the body:
//        framed by Content-Length, unless a Transfer-Encoding field is given (the caller then
//        passes an already chunked body, or streams chunks later) or the status has no body
//        (1xx, 204, 304).
// chunks()        a body in chunked transfer coding (RFC 9112 §7.1): its chunks, cut at random
//                 sizes as a library that writes as it serialises does, without the terminating
//                 zero-length chunk kLastChunk — h11-based stacks (httpx, uvicorn) write that one
//                 on its own, and so do our senders. http_chunk() is one chunk.
// sse_event()     one Server-Sent Event (WHATWG HTML §9.2): optional "event:" and "id:" lines, one
//                 "data:" line per line of data, a blank line.
// form_body(), multipart_body()  HTML form uploads: urlencoded pairs, multipart/form-data
//                 (RFC 7578) parts with an optional filename.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conversation.hpp"
#include "rng.hpp"

namespace tcpr::gen {

using HttpFields = std::vector<std::pair<std::string_view, std::string>>;

inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The Host field value for a server endpoint: its name, with ":port" unless the port is 80.
std::string host_field(const Endpoint& server);

std::string http_request(std::string_view method, std::string_view target, std::string_view host,
                         const HttpFields& fields, std::string_view body = {});
std::string http_response(int status, const HttpFields& fields, std::string_view body = {});

std::string http_chunk(std::string_view data);
std::vector<std::string> chunks(std::string_view body, Rng& rng);

std::string sse_event(std::string_view data, std::string_view event = {}, std::string_view id = {});

std::string form_body(std::span<const std::pair<std::string_view, std::string>> pairs);

struct FormPart {
  std::string_view name;
  std::string_view filename;  // empty: a plain field
  std::string_view content_type;
  std::string content;
};
std::string multipart_body(std::string_view boundary, std::span<const FormPart> parts);

}  // namespace tcpr::gen
