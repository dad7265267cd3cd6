// HTTP/1.x head extractors (see extract.hpp). References: RFC 9112 (HTTP/1.1 messages), RFC 9110
// (semantics), RFC 6455 §4.1 (WebSocket upgrade).
//
// Line ends: CRLF, and also a bare LF (RFC 9112 §2.2 allows a recipient to accept it). Servers
// such as nginx and Node accept bare LF, so refusing it here would let a client dodge
// classification; a CR anywhere but before LF is refused (RFC 9112 §2.2: bare CR is invalid).
// The head must end within kMaxHead bytes: with fewer bytes available the answer is kNeedMore.
#include "tcpr/classify/extract.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace tcpr::classify {
namespace {

constexpr std::size_t kMaxHead = 8192;
constexpr std::size_t kMaxMethodLen = 24;  // longest registered method (UPDATEREDIRECTREF) is 17
constexpr std::size_t kVersionLen = 8;     // "HTTP/1.x"
constexpr std::int64_t kMaxContentLength = std::int64_t{1} << 53;

// RFC 9110 §5.6.2 tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA.
constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

inline char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

template <std::size_t N>
void assign_lower(FixedString<N>& dst, std::string_view s) noexcept {
  dst.assign(s);
  for (std::uint16_t i = 0; i < dst.len; ++i) dst.data[i] = lower(dst.data[i]);
}

inline bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each element of a comma-separated list (RFC 9110 §5.6.1), trimmed, with
// empty elements skipped as the RFC asks.
template <typename Fn>
void for_each_element(std::string_view list, Fn&& fn) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view e = trim(list.substr(0, comma));
    if (!e.empty()) fn(e);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// What to answer when the head is not complete in [0, len): wait while under the head limit.
inline Extract incomplete(std::size_t len) noexcept {
  return len < kMaxHead ? Extract::kNeedMore : Extract::kNo;
}

// A line starting at `pos` within [0, limit): its content (without CR LF) and the next offset.
enum class LineEnd : std::uint8_t { kFound, kMissing, kBad };
LineEnd next_line(std::string_view head, std::size_t pos, std::string_view& line,
                  std::size_t& next) noexcept {
  const std::size_t lf = head.find('\n', pos);
  if (lf == std::string_view::npos) return LineEnd::kMissing;
  std::size_t end = lf;
  if (end > pos && head[end - 1] == '\r') --end;
  line = head.substr(pos, end - pos);
  if (line.find('\r') != std::string_view::npos) return LineEnd::kBad;
  next = lf + 1;
  return LineEnd::kFound;
}

// "HTTP/1." DIGIT, compared over the bytes there are: kNeedMore when they run out first.
Extract match_version(std::string_view head, std::size_t pos) noexcept {
  constexpr std::string_view kPrefix = "HTTP/1.";
  const std::size_t avail = std::min(head.size() - pos, kVersionLen);
  for (std::size_t i = 0; i < avail; ++i) {
    const char c = head[pos + i];
    if (i < kPrefix.size() ? c != kPrefix[i] : (c < '0' || c > '9')) return Extract::kNo;
  }
  return avail == kVersionLen ? Extract::kOk : Extract::kNeedMore;
}

// Field lines after the start line, up to the empty line (RFC 9112 §5). fn(name, value) returns
// false to refuse the message. On kOk, `body` is the offset after the empty line.
template <typename Fn>
Extract parse_fields(std::string_view head, std::size_t len, std::size_t pos, std::uint32_t& body,
                     Fn&& fn) noexcept {
  bool first = true;
  for (;;) {
    std::string_view line;
    std::size_t next = 0;
    const LineEnd e = next_line(head, pos, line, next);
    if (e == LineEnd::kMissing) return incomplete(len);
    if (e == LineEnd::kBad) return Extract::kNo;
    if (line.empty()) {
      body = static_cast<std::uint32_t>(next);
      return Extract::kOk;
    }
    if (is_ows(line[0])) {
      // obs-fold (RFC 9112 §5.2): a continuation of the previous value, which we leave out.
      // Whitespace before the first field line MUST be rejected (RFC 9112 §2.2).
      if (first) return Extract::kNo;
    } else {
      // field-name ":" OWS value OWS; no whitespace before the colon (RFC 9112 §5.1).
      std::size_t colon = 0;
      while (colon < line.size() && kTchar[static_cast<unsigned char>(line[colon])]) ++colon;
      if (colon == 0 || colon == line.size() || line[colon] != ':') return Extract::kNo;
      const std::string_view value = trim(line.substr(colon + 1));
      // RFC 9110 §5.5: NUL in a field value is invalid.
      if (value.find('\0') != std::string_view::npos) return Extract::kNo;
      if (!fn(line.substr(0, colon), value)) return Extract::kNo;
    }
    first = false;
    pos = next;
  }
}

// Content-Length (RFC 9110 §8.6): 1*DIGIT, or a list of identical values; anything else, or a
// second line that disagrees, makes the message invalid (RFC 9112 §6.3 item 5).
bool take_content_length(std::string_view value, std::int64_t& out) noexcept {
  bool ok = !value.empty();
  for_each_element(value, [&](std::string_view e) {
    std::int64_t v = 0;
    for (const char c : e) {
      if (c < '0' || c > '9' || v > kMaxContentLength / 10) {
        ok = false;
        return;
      }
      v = v * 10 + (c - '0');
    }
    if (out >= 0 && out != v) ok = false;
    out = v;
  });
  return ok && out >= 0;
}

// True when a token list contains `token`, ignoring a "/version" suffix (RFC 9110 §7.8).
bool list_has(std::string_view list, std::string_view token) noexcept {
  bool found = false;
  for_each_element(list, [&](std::string_view e) {
    if (iequals(trim(e.substr(0, e.find('/'))), token)) found = true;
  });
  return found;
}

// The last transfer coding of a Transfer-Encoding list, parameters dropped (RFC 9112 §6.1).
std::string_view last_coding(std::string_view list) noexcept {
  std::string_view last;
  for_each_element(list, [&](std::string_view e) { last = trim(e.substr(0, e.find(';'))); });
  return last;
}

}  // namespace

Extract parse_http_request(const std::uint8_t* data, std::size_t len, HttpRequest& out) noexcept {
  out = HttpRequest{};
  const std::string_view head(reinterpret_cast<const char*>(data), std::min(len, kMaxHead));

  // method SP: tchars only, so binary data and TLS records are refused at their first byte.
  std::size_t pos = 0;
  while (pos < head.size() && kTchar[static_cast<unsigned char>(head[pos])]) {
    if (++pos > kMaxMethodLen) return Extract::kNo;
  }
  if (pos == head.size()) return incomplete(len);
  if (pos == 0 || head[pos] != ' ') return Extract::kNo;
  out.method.assign(head.substr(0, pos));

  // request-target SP: no whitespace or control characters (RFC 9112 §3.2).
  const std::size_t target = ++pos;
  while (pos < head.size() && head[pos] != ' ') {
    const auto c = static_cast<unsigned char>(head[pos]);
    if (c < 0x21 || c == 0x7f) return Extract::kNo;
    ++pos;
  }
  if (pos == head.size()) return incomplete(len);
  if (pos == target) return Extract::kNo;
  out.target.assign(head.substr(target, pos - target));

  const Extract v = match_version(head, ++pos);
  if (v != Extract::kOk) return v == Extract::kNo ? Extract::kNo : incomplete(len);
  std::string_view rest;
  std::size_t next = 0;
  const LineEnd e = next_line(head, pos + kVersionLen, rest, next);
  if (e == LineEnd::kMissing) return incomplete(len);
  if (e == LineEnd::kBad || !rest.empty()) return Extract::kNo;

  bool seen_host = false, upgrade = false, connection_upgrade = false;
  const Extract r = parse_fields(head, len, next, out.body_offset,
                                 [&](std::string_view name, std::string_view value) {
    if (iequals(name, "host")) {
      if (seen_host) return false;  // RFC 9112 §3.2: more than one Host is a 400
      seen_host = true;
      assign_lower(out.host, value);
    } else if (iequals(name, "content-type")) {
      if (out.content_type.empty()) assign_lower(out.content_type, value);
    } else if (iequals(name, "upgrade")) {
      upgrade = upgrade || list_has(value, "websocket");
    } else if (iequals(name, "connection")) {
      connection_upgrade = connection_upgrade || list_has(value, "upgrade");
    } else if (iequals(name, "mcp-session-id")) {
      out.mcp_session = true;
    } else if (iequals(name, "transfer-encoding")) {
      // Several lines form one list; chunked counts only as the final coding (RFC 9112 §6.3).
      const std::string_view last = last_coding(value);
      if (!last.empty()) out.chunked = iequals(last, "chunked");
    } else if (iequals(name, "content-length")) {
      return take_content_length(value, out.content_length);
    }
    return true;
  });
  // RFC 6455 §4.1: the handshake carries both "Upgrade: websocket" and "Connection: Upgrade".
  out.upgrade_websocket = upgrade && connection_upgrade;
  return r;
}

Extract parse_http_response(const std::uint8_t* data, std::size_t len, HttpResponse& out) noexcept {
  out = HttpResponse{};
  const std::string_view head(reinterpret_cast<const char*>(data), std::min(len, kMaxHead));
  const Extract v = match_version(head, 0);
  if (v != Extract::kOk) return v == Extract::kNo ? Extract::kNo : incomplete(len);

  // status-line = HTTP-version SP 3DIGIT SP [reason-phrase] (RFC 9112 §4); the SP before an
  // empty reason is often left out, so it is optional here.
  std::string_view line;
  std::size_t next = 0;
  const LineEnd e = next_line(head, 0, line, next);
  const std::string_view seen = e == LineEnd::kFound ? line : head;
  for (std::size_t i = kVersionLen; i < std::min(seen.size(), kVersionLen + 4); ++i) {
    const char c = seen[i];
    if (i == kVersionLen ? c != ' ' : (c < '0' || c > '9')) return Extract::kNo;
  }
  if (e == LineEnd::kMissing) return incomplete(len);
  if (e == LineEnd::kBad || line.size() < kVersionLen + 4) return Extract::kNo;
  if (line.size() > kVersionLen + 4 && line[kVersionLen + 4] != ' ') return Extract::kNo;
  for (const char c : line.substr(kVersionLen + 4)) {
    // reason-phrase = *( HTAB / SP / VCHAR / obs-text )
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return Extract::kNo;
  }
  out.status = static_cast<std::uint16_t>((line[9] - '0') * 100 + (line[10] - '0') * 10 +
                                          (line[11] - '0'));

  return parse_fields(head, len, next, out.body_offset,
                      [&](std::string_view name, std::string_view value) {
    if (iequals(name, "content-type")) {
      if (out.content_type.empty()) assign_lower(out.content_type, value);
    } else if (iequals(name, "mcp-session-id")) {
      out.mcp_session = true;
    }
    return true;
  });
}

}  // namespace tcpr::classify
