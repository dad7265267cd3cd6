// tls_wire.cpp — see tls_wire.hpp.
#include "tls_wire.hpp"

#include <algorithm>
#include <stdexcept>

#include "byte_writer.hpp"

namespace tcpr::gen {
namespace {

constexpr std::uint16_t kLegacyRecordVersion = 0x0301;  // ClientHello records say TLS 1.0
constexpr std::uint16_t kTls12 = 0x0303;
constexpr std::uint16_t kTls13 = 0x0304;
constexpr std::uint8_t kClientHello = 1;
constexpr std::uint8_t kServerHello = 2;
constexpr std::uint16_t kX25519 = 0x001d;
constexpr std::uint16_t kTlsAes128GcmSha256 = 0x1301;

// Extension types (IANA TLS ExtensionType registry).
constexpr std::uint16_t kExtServerName = 0;
constexpr std::uint16_t kExtStatusRequest = 5;
constexpr std::uint16_t kExtSupportedGroups = 10;
constexpr std::uint16_t kExtEcPointFormats = 11;
constexpr std::uint16_t kExtSignatureAlgorithms = 13;
constexpr std::uint16_t kExtAlpn = 16;
constexpr std::uint16_t kExtSct = 18;
constexpr std::uint16_t kExtExtendedMasterSecret = 23;
constexpr std::uint16_t kExtSessionTicket = 35;
constexpr std::uint16_t kExtSupportedVersions = 43;
constexpr std::uint16_t kExtPskKeyExchangeModes = 45;
constexpr std::uint16_t kExtKeyShare = 51;
constexpr std::uint16_t kExtRenegotiationInfo = 0xff01;

// TLS 1.3 suites first, then the ECDHE suites a TLS 1.2 server would pick from.
constexpr std::uint16_t kCipherSuites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                           0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                                           0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
constexpr std::uint16_t kGroups[] = {kX25519, 0x0017, 0x0018};
constexpr std::uint16_t kSignatureSchemes[] = {0x0403, 0x0804, 0x0401, 0x0503,
                                               0x0805, 0x0501, 0x0806, 0x0601};

void random_bytes(ByteWriter& w, std::size_t n, Rng& rng) { rng.fill(w.grow(n)); }

// extension_type, then its body inside a 16-bit length.
template <class Body>
void extension(ByteWriter& w, std::uint16_t type, Body&& body) {
  w.u16(type);
  const std::size_t len = w.open_length(2);
  body();
  w.close_length(len, 2);
}

}  // namespace

void tls_client_hello(std::vector<std::uint8_t>& out, const ClientHelloSpec& spec, Rng& rng,
                      TlsSessionId& session_id) {
  if (spec.sni.empty() || spec.sni.size() > 255) throw std::logic_error("SNI length");
  rng.fill(session_id);
  ByteWriter w(out);
  w.u8(kTlsHandshake);
  w.u16(kLegacyRecordVersion);
  const std::size_t record_len = w.open_length(2);
  w.u8(kClientHello);
  const std::size_t hello_len = w.open_length(3);
  w.u16(kTls12);  // legacy_version; TLS 1.3 is offered in supported_versions
  random_bytes(w, 32, rng);
  w.u8(static_cast<std::uint8_t>(session_id.size()));
  w.bytes(session_id);
  w.u16(static_cast<std::uint16_t>(sizeof(kCipherSuites)));
  for (std::uint16_t suite : kCipherSuites) w.u16(suite);
  w.u8(1);  // compression methods: null only
  w.u8(0);

  const std::size_t extensions_len = w.open_length(2);
  extension(w, kExtServerName, [&] {
    const std::size_t list = w.open_length(2);
    w.u8(0);  // host_name
    w.u16(static_cast<std::uint16_t>(spec.sni.size()));
    w.text(spec.sni);
    w.close_length(list, 2);
  });
  extension(w, kExtExtendedMasterSecret, [] {});
  extension(w, kExtRenegotiationInfo, [&] { w.u8(0); });
  extension(w, kExtSupportedGroups, [&] {
    w.u16(static_cast<std::uint16_t>(sizeof(kGroups)));
    for (std::uint16_t group : kGroups) w.u16(group);
  });
  extension(w, kExtEcPointFormats, [&] { w.u8(1), w.u8(0); });
  extension(w, kExtSessionTicket, [] {});
  if (!spec.alpn.empty()) {
    extension(w, kExtAlpn, [&] {
      const std::size_t list = w.open_length(2);
      for (std::string_view protocol : spec.alpn) {
        w.u8(static_cast<std::uint8_t>(protocol.size()));
        w.text(protocol);
      }
      w.close_length(list, 2);
    });
  }
  extension(w, kExtStatusRequest, [&] { w.u8(1), w.u16(0), w.u16(0); });  // OCSP, no ids/exts
  extension(w, kExtSignatureAlgorithms, [&] {
    w.u16(static_cast<std::uint16_t>(sizeof(kSignatureSchemes)));
    for (std::uint16_t scheme : kSignatureSchemes) w.u16(scheme);
  });
  extension(w, kExtSct, [] {});
  extension(w, kExtKeyShare, [&] {
    const std::size_t shares = w.open_length(2);
    w.u16(kX25519);
    w.u16(32);
    random_bytes(w, 32, rng);
    w.close_length(shares, 2);
  });
  extension(w, kExtPskKeyExchangeModes, [&] { w.u8(1), w.u8(1); });  // psk_dhe_ke
  extension(w, kExtSupportedVersions, [&] { w.u8(4), w.u16(kTls13), w.u16(kTls12); });
  w.close_length(extensions_len, 2);

  w.close_length(hello_len, 3);
  w.close_length(record_len, 2);
}

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
