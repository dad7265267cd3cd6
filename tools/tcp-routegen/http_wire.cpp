// http_wire.cpp — see http_wire.hpp.
#include "http_wire.hpp"

#include <fmt/format.h>

#include "codec.hpp"

namespace tcpr::gen {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    default:
      return "Unknown";
  }
}

bool has_field(const HttpFields& fields, std::string_view name) {
  for (const auto& [field, value] : fields) {
    if (field == name) return true;
  }
  return false;
}

void append_fields(std::string& out, const HttpFields& fields) {
  for (const auto& [name, value] : fields) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
}

}  // namespace

std::string host_field(const Endpoint& server) {
  return server.port == 80 ? std::string(server.name)
                           : fmt::format("{}:{}", server.name, server.port);
}

std::string http_request(std::string_view method, std::string_view target, std::string_view host,
                         const HttpFields& fields, std::string_view body) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", method, target, host);
  append_fields(out, fields);
  const bool sends_body = !body.empty() || method == "POST" || method == "PUT";
  if (sends_body && !has_field(fields, "Transfer-Encoding")) {
    out += fmt::format("Content-Length: {}\r\n", body.size());
  }
  out += "\r\n";
  out += body;
  return out;
}

std::string http_response(int status, const HttpFields& fields, std::string_view body) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, reason_phrase(status));
  append_fields(out, fields);
  const bool no_body = status < 200 || status == 204 || status == 304;
  if (!no_body && !has_field(fields, "Transfer-Encoding")) {
    out += fmt::format("Content-Length: {}\r\n", body.size());
  }
  out += "\r\n";
  out += body;
  return out;
}

std::string http_chunk(std::string_view data) {
  return fmt::format("{:x}\r\n{}\r\n", data.size(), data);
}

std::vector<std::string> chunks(std::string_view body, Rng& rng) {
  std::vector<std::string> out;
  while (!body.empty()) {
    const std::size_t size = std::min<std::size_t>(body.size(), rng.log_uniform(64, 8192));
    out.push_back(http_chunk(body.substr(0, size)));
    body.remove_prefix(size);
  }
  return out;
}

std::string sse_event(std::string_view data, std::string_view event, std::string_view id) {
  std::string out;
  out.reserve(data.size() + 32);
  if (!event.empty()) out += fmt::format("event: {}\n", event);
  if (!id.empty()) out += fmt::format("id: {}\n", id);
  while (true) {
    const std::size_t nl = data.find('\n');
    out += "data: ";
    out += data.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out += '\n';
  return out;
}

std::string form_body(std::span<const std::pair<std::string_view, std::string>> pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += '&';
    out += percent_encode(name, true);
    out += '=';
    out += percent_encode(value, true);
  }
  return out;
}

std::string multipart_body(std::string_view boundary, std::span<const FormPart> parts) {
  std::string out;
  for (const FormPart& part : parts) {
    out += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"", boundary, part.name);
    if (!part.filename.empty()) out += fmt::format("; filename=\"{}\"", part.filename);
    out += "\r\n";
    if (!part.content_type.empty()) out += fmt::format("Content-Type: {}\r\n", part.content_type);
    out += "\r\n";
    out += part.content;
    out += "\r\n";
  }
  out += fmt::format("--{}--\r\n", boundary);
  return out;
}

}  // namespace tcpr::gen
