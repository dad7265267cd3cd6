// tls_wire.cpp — see tls_wire.hpp.
#include "tls_wire.hpp"

#include <algorithm>
#include <stdexcept>

#include "byte_writer.hpp"

namespace tcpr::gen {
namespace {

constexpr std::uint16_t kTls12 = 0x0303;
constexpr std::uint16_t kTls13 = 0x0304;
constexpr std::uint8_t kServerHello = 2;
constexpr std::uint16_t kX25519 = 0x001d;
constexpr std::uint16_t kTlsAes128GcmSha256 = 0x1301;

// Extension types (IANA TLS ExtensionType registry).
constexpr std::uint16_t kExtSupportedVersions = 43;
constexpr std::uint16_t kExtKeyShare = 51;

void random_bytes(ByteWriter& w, std::size_t n, Rng& rng) { rng.fill(w.grow(n)); }

// extension_type, then its body inside a 16-bit length.
template <class Body>
void extension(ByteWriter& w, std::uint16_t type, Body&& body) {
  w.u16(type);
  w.nested(2, body);
}

}  // namespace

void tls_server_hello(std::vector<std::uint8_t>& out, const TlsSessionId& session_id, Rng& rng) {
  ByteWriter w(out);
  w.u8(kTlsHandshake);
  w.u16(kTls12);
  const std::size_t record_len = w.open_length(2);
  w.u8(kServerHello);
  const std::size_t hello_len = w.open_length(3);
  w.u16(kTls12);  // legacy_version
  random_bytes(w, 32, rng);
  w.u8(static_cast<std::uint8_t>(session_id.size()));
  w.bytes(session_id);  // legacy_session_id_echo
  w.u16(kTlsAes128GcmSha256);
  w.u8(0);  // legacy_compression_method
  const std::size_t extensions_len = w.open_length(2);
  extension(w, kExtKeyShare, [&] {
    w.u16(kX25519);
    w.u16(32);
    random_bytes(w, 32, rng);
  });
  extension(w, kExtSupportedVersions, [&] { w.u16(kTls13); });
  w.close_length(extensions_len, 2);
  w.close_length(hello_len, 3);
  w.close_length(record_len, 2);
}

void tls_change_cipher_spec(std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(kTlsChangeCipherSpec);
  w.u16(kTls12);
  w.u16(1);
  w.u8(1);
}

void tls_app_records(std::vector<std::uint8_t>& out, std::size_t total, Rng& rng,
                     std::uint8_t type) {
  // A TLS 1.3 record carries at least its inner content type and a 16-byte AEAD tag.
  constexpr std::size_t kMinRecord = kTlsRecordHeader + 17;
  if (total < kMinRecord) throw std::logic_error("TLS record too small");
  ByteWriter w(out);
  while (total > 0) {
    std::size_t body = std::min(total - kTlsRecordHeader, kTlsMaxRecord);
    // Never leave a remainder too small to be a record of its own.
    if (total - kTlsRecordHeader - body != 0 && total - kTlsRecordHeader - body < kMinRecord) {
      body -= kMinRecord;
    }
    w.u8(type);
    w.u16(kTls12);
    w.u16(static_cast<std::uint16_t>(body));
    random_bytes(w, body, rng);
    total -= kTlsRecordHeader + body;
  }
}

}  // namespace tcpr::gen
