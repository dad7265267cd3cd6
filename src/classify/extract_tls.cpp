// TLS ClientHello extractor (see extract.hpp). References: RFC 8446 (TLS 1.3) §4.1.2, §4.2,
// §5.1; RFC 6066 §3 (server_name); RFC 7301 §3.1 (ALPN); RFC 8701 (GREASE).
#include "tcpr/classify/extract.hpp"

#include <algorithm>
#include <cstring>

namespace tcpr::classify {
namespace {

constexpr std::uint8_t kContentHandshake = 22;  // RFC 8446 §5.1 ContentType.handshake
constexpr std::uint8_t kClientHello = 1;        // RFC 8446 §4 HandshakeType.client_hello
constexpr std::size_t kRecordHeaderLen = 5;     // type, legacy_record_version, length
constexpr std::size_t kHandshakeHeaderLen = 4;  // msg_type, uint24 length
constexpr std::size_t kMaxRecordLen = 1u << 14;  // RFC 8446 §5.1: length MUST NOT exceed 2^14
// Our reassembly bound for a ClientHello spread over records, header included. Real hellos are
// 0.2–2 KB (post-quantum key shares included); anything bigger is not worth a 16+ KiB copy.
constexpr std::size_t kMaxHandshakeLen = 16 * 1024;
constexpr std::size_t kRandomLen = 32;
constexpr std::size_t kMaxSessionIdLen = 32;  // legacy_session_id<0..32>

constexpr std::uint16_t kExtServerName = 0;
constexpr std::uint16_t kExtAlpn = 16;
constexpr std::uint16_t kExtSupportedVersions = 43;
constexpr std::uint8_t kNameTypeHostName = 0;  // RFC 6066 §3 NameType.host_name
constexpr std::uint16_t kTls13 = 0x0304;

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

// RFC 8701 §2: GREASE values are 0x0A0A, 0x1A1A, ... 0xFAFA (both bytes equal, low nibble A);
// the same pattern, as a 2-byte string, is a GREASE ALPN identifier.
inline bool is_grease(std::uint16_t v) noexcept {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

// Bounds-checked cursor over [p, p + n): every read fails instead of passing the end.
struct Reader {
  const std::uint8_t* p;
  std::size_t n;

  bool empty() const noexcept { return n == 0; }
  bool u8(std::uint8_t& v) noexcept {
    if (n < 1) return false;
    v = *p++;
    --n;
    return true;
  }
  bool u16(std::uint16_t& v) noexcept {
    if (n < 2) return false;
    v = load_be16(p);
    p += 2;
    n -= 2;
    return true;
  }
  bool take(std::size_t k, Reader& sub) noexcept {
    if (n < k) return false;
    sub = Reader{p, k};
    p += k;
    n -= k;
    return true;
  }
  bool skip(std::size_t k) noexcept {
    Reader ignored{};
    return take(k, ignored);
  }
  // A vector with a 1- or 2-byte length prefix (RFC 8446 §3.4).
  bool vec8(Reader& sub) noexcept {
    std::uint8_t k = 0;
    return u8(k) && take(k, sub);
  }
  bool vec16(Reader& sub) noexcept {
    std::uint16_t k = 0;
    return u16(k) && take(k, sub);
  }
};

template <std::size_t N>
void assign_lower(FixedString<N>& dst, const std::uint8_t* s, std::size_t n) noexcept {
  dst.assign({reinterpret_cast<const char*>(s), n});
  for (std::uint16_t i = 0; i < dst.len; ++i) {
    const char c = dst.data[i];
    if (c >= 'A' && c <= 'Z') dst.data[i] = static_cast<char>(c - 'A' + 'a');
  }
}

// RFC 6066 §3: ServerNameList server_name_list<1..2^16-1> of {NameType, HostName<1..2^16-1>}.
// The first host_name wins; other name types are skipped with the same framing.
bool parse_server_name(Reader ext, TlsClientHello& out) noexcept {
  Reader list{};
  if (!ext.vec16(list) || !ext.empty() || list.empty()) return false;
  while (!list.empty()) {
    std::uint8_t type = 0;
    Reader name{};
    if (!list.u8(type) || !list.vec16(name) || name.empty()) return false;
    if (type == kNameTypeHostName && out.sni.empty()) assign_lower(out.sni, name.p, name.n);
  }
  return true;
}

// RFC 7301 §3.1: ProtocolNameList protocol_name_list<2..2^16-1>, ProtocolName<1..2^8-1>.
// alpn_all is truncated at an id boundary: it lists the leading ids that fit, whole.
bool parse_alpn(Reader ext, TlsClientHello& out) noexcept {
  Reader list{};
  if (!ext.vec16(list) || !ext.empty() || list.n < 2) return false;
  char all[sizeof(out.alpn_all.data)];
  std::size_t all_len = 0;
  bool full = false;
  while (!list.empty()) {
    Reader id{};
    if (!list.vec8(id) || id.empty()) return false;
    if (id.n == 2 && is_grease(load_be16(id.p))) continue;
    if (out.alpn_first.empty()) out.alpn_first.assign({reinterpret_cast<const char*>(id.p), id.n});
    const std::size_t sep = all_len == 0 ? 0 : 1;
    full = full || all_len + sep + id.n > sizeof(all);
    if (!full) {
      if (sep != 0) all[all_len++] = ',';
      std::memcpy(all + all_len, id.p, id.n);
      all_len += id.n;
    }
  }
  out.alpn_all.assign({all, all_len});
  return true;
}

// RFC 8446 §4.2.1 (ClientHello form): ProtocolVersion versions<2..254>.
bool parse_supported_versions(Reader ext, TlsClientHello& out) noexcept {
  Reader list{};
  if (!ext.vec8(list) || !ext.empty() || list.n < 2 || list.n % 2 != 0) return false;
  std::uint16_t v = 0;
  while (list.u16(v)) {
    if (v == kTls13) out.tls13 = true;
  }
  return true;
}

// The ClientHello body (after the 4-byte handshake header), RFC 8446 §4.1.2.
Extract parse_hello_body(Reader r, TlsClientHello& out) noexcept {
  Reader sid{}, suites{}, compression{};
  if (!r.u16(out.hello_version) || (out.hello_version >> 8) != 3) return Extract::kNo;
  if (!r.skip(kRandomLen) || !r.vec8(sid) || sid.n > kMaxSessionIdLen) return Extract::kNo;
  if (!r.vec16(suites) || suites.n < 2 || suites.n % 2 != 0) return Extract::kNo;
  if (!r.vec8(compression) || compression.empty()) return Extract::kNo;
  // Before TLS 1.3 the extensions block may be absent (RFC 5246 §7.4.1.2).
  if (r.empty()) return Extract::kOk;
  Reader exts{};
  if (!r.vec16(exts) || !r.empty()) return Extract::kNo;
  bool seen_sni = false, seen_alpn = false, seen_versions = false;
  while (!exts.empty()) {
    std::uint16_t type = 0;
    Reader ext{};
    if (!exts.u16(type) || !exts.vec16(ext)) return Extract::kNo;
    // RFC 8446 §4.2: no extension type may appear twice.
    bool ok = true;
    switch (type) {
      case kExtServerName:
        ok = !seen_sni && parse_server_name(ext, out);
        seen_sni = true;
        break;
      case kExtAlpn:
        ok = !seen_alpn && parse_alpn(ext, out);
        seen_alpn = true;
        break;
      case kExtSupportedVersions:
        ok = !seen_versions && parse_supported_versions(ext, out);
        seen_versions = true;
        break;
      default:
        break;  // GREASE and every other type: skipped by length
    }
    if (!ok) return Extract::kNo;
  }
  return Extract::kOk;
}

// As much of a record header as is there must read: handshake, version 3.1 .. 3.4.
bool record_header_ok(const std::uint8_t* p, std::size_t avail) noexcept {
  if (avail >= 1 && p[0] != kContentHandshake) return false;
  if (avail >= 2 && p[1] != 3) return false;
  if (avail >= 3 && (p[2] < 1 || p[2] > 4)) return false;
  return true;
}

inline std::size_t handshake_total(const std::uint8_t* h) noexcept {
  return kHandshakeHeaderLen + (std::size_t{h[1]} << 16 | std::size_t{h[2]} << 8 | h[3]);
}

}  // namespace

Extract parse_client_hello(const std::uint8_t* data, std::size_t len,
                           TlsClientHello& out) noexcept {
  out = TlsClientHello{};
  if (len == 0) return Extract::kNeedMore;
  if (!record_header_ok(data, std::min(len, kRecordHeaderLen))) return Extract::kNo;

  // Fast path: the whole message inside the first record, parsed in place.
  if (len >= kRecordHeaderLen + kHandshakeHeaderLen) {
    const std::size_t rlen = load_be16(data + 3);
    const std::uint8_t* h = data + kRecordHeaderLen;
    const std::size_t total = handshake_total(h);
    if (rlen != 0 && rlen <= kMaxRecordLen && h[0] == kClientHello && total <= rlen &&
        kRecordHeaderLen + total <= len) {
      out.record_version = load_be16(data + 1);
      return parse_hello_body(Reader{h + kHandshakeHeaderLen, total - kHandshakeHeaderLen}, out);
    }
  }

  // General case: gather the handshake bytes from consecutive records (RFC 8446 §5.1 allows a
  // message to be fragmented; other record types MUST NOT be interleaved).
  std::uint8_t msg[kMaxHandshakeLen];
  std::size_t have = 0;
  std::size_t need = kHandshakeHeaderLen;  // becomes the full message size once known
  bool size_known = false;
  std::size_t off = 0;
  for (;;) {
    const std::size_t avail = len - off;
    if (!record_header_ok(data + off, std::min(avail, kRecordHeaderLen))) return Extract::kNo;
    if (avail < kRecordHeaderLen) return Extract::kNeedMore;
    const std::size_t rlen = load_be16(data + off + 3);
    // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
    if (rlen == 0 || rlen > kMaxRecordLen) return Extract::kNo;
    if (off == 0) out.record_version = load_be16(data + 1);
    const std::uint8_t* frag = data + off + kRecordHeaderLen;
    const std::size_t frag_len = std::min(rlen, avail - kRecordHeaderLen);
    std::size_t used = 0;
    while (used < frag_len && have < need) {
      const std::size_t take = std::min(frag_len - used, need - have);
      std::memcpy(msg + have, frag + used, take);
      have += take;
      used += take;
      if (msg[0] != kClientHello) return Extract::kNo;
      if (!size_known && have == kHandshakeHeaderLen) {
        need = handshake_total(msg);
        if (need > kMaxHandshakeLen) return Extract::kNo;
        size_known = true;
      }
    }
    if (size_known && have == need) {
      return parse_hello_body(Reader{msg + kHandshakeHeaderLen, need - kHandshakeHeaderLen}, out);
    }
    if (frag_len < rlen) return Extract::kNeedMore;
    off += kRecordHeaderLen + rlen;
  }
}

}  // namespace tcpr::classify
