// tls_client_hello.cpp — tls_client_hello() of tls_wire.hpp: ClientHellos as real clients write
// them, after the profiles of tls_profiles.hpp. Chrome's GREASE (RFC 8701) and extension
// permutation and the BoringSSL/NSS padding rule (RFC 7685) are reproduced; keys and randoms are
// random bytes.
#include <array>
#include <stdexcept>

#include "byte_writer.hpp"
#include "tls_profiles.hpp"
#include "tls_wire.hpp"

namespace tcpr::gen {
namespace tls_profiles {
namespace {

constexpr std::uint16_t kTls12 = 0x0303;
constexpr std::uint16_t kTls13 = 0x0304;

// RFC 8701 §2: 0x0A0A, 0x1A1A, …, 0xFAFA.
std::uint16_t grease_value(Rng& rng) {
  const auto nibble = static_cast<std::uint16_t>(rng.below(16));
  return static_cast<std::uint16_t>(nibble << 12 | 0x0a00 | nibble << 4 | 0x0a);
}

struct Grease {
  std::uint16_t suite, group, version, ext1, ext2;
};

void write_list(ByteWriter& w, U16s values, std::uint16_t grease) {
  for (std::uint16_t v : values) w.u16(v == kGreaseMarker ? grease : v);
}

// The body of extension `type` (not padding, which depends on the others' total length).
void extension_body(ByteWriter& w, std::uint16_t type, const Profile& p,
                    const ClientHelloSpec& spec, const Grease& g, Rng& rng) {
  switch (type) {
    case kServerName:
      w.nested(2, [&] {
        w.u8(0), w.u16(static_cast<std::uint16_t>(spec.sni.size())), w.text(spec.sni);
      });
      break;
    case kStatusRequest:
      w.u8(1), w.u16(0), w.u16(0);
      break;  // OCSP, no responder ids
    case kSupportedGroups:
      w.nested(2, [&] { write_list(w, p.groups, g.group); });
      break;
    case kEcPointFormats:
      w.u8(1), w.u8(0);
      break;
    case kSignatureAlgorithms:
      w.nested(2, [&] { write_list(w, p.signature_schemes, 0); });
      break;
    case kAlpn:
      w.nested(2, [&] {
        for (std::string_view proto : spec.alpn)
          w.u8(static_cast<std::uint8_t>(proto.size())), w.text(proto);
      });
      break;
    case kCompressCertificate:
      w.u8(2), w.u16(2);
      break;  // brotli
    case kRecordSizeLimit:
      w.u16(0x4001);
      break;
    case kDelegatedCredentials:
      w.nested(2, [&] { w.u16(0x0403), w.u16(0x0503), w.u16(0x0603), w.u16(0x0203); });
      break;
    case kSupportedVersions:
      w.nested(1, [&] {
        if (p.grease) w.u16(g.version);
        w.u16(kTls13), w.u16(kTls12);
      });
      break;
    case kPskKeyExchangeModes:
      w.u8(1), w.u8(1);
      break;  // psk_dhe_ke
    case kKeyShare:
      w.nested(2, [&] {
        for (std::uint16_t group : p.key_shares) {
          const bool grease = group == kGreaseMarker;
          w.u16(grease ? g.group : group);
          const std::size_t len = grease ? 1 : group == 0x0017 ? 65 : 32;
          w.u16(static_cast<std::uint16_t>(len));
          if (grease) {
            w.u8(0);
          } else {
            const std::span<std::uint8_t> key = w.grow(len);
            rng.fill(key);
            if (group == 0x0017) key[0] = 4;  // an uncompressed P-256 point
          }
        }
      });
      break;
    case kApplicationSettings:
      w.nested(2, [&] { w.u8(2), w.text("h2"); });
      break;
    case kRenegotiationInfo:
      w.u8(0);
      break;
    case kGreaseExt:
      break;  // the first GREASE extension is empty, the second carries one zero byte (BoringSSL)
    default:
      break;  // extended_master_secret, session_ticket, SCT, encrypt_then_mac, PHA: empty
  }
}

void write_hello(std::vector<std::uint8_t>& out, const ClientHelloSpec& spec, Rng& rng,
                 TlsSessionId& session_id) {
  if (spec.sni.empty() || spec.sni.size() > 255) throw std::logic_error("SNI length");
  const Profile& p = kProfiles[static_cast<int>(spec.client)];
  Grease g{grease_value(rng), grease_value(rng), grease_value(rng), grease_value(rng), 0};
  do g.ext2 = grease_value(rng);
  while (g.ext2 == g.ext1);  // BoringSSL keeps them distinct
  std::array<std::uint16_t, 32> order{};
  std::copy(p.extensions.begin(), p.extensions.end(), order.begin());
  if (p.permute) {  // Fisher–Yates over the non-GREASE, non-padding middle
    for (std::size_t i = p.extensions.size() - 3; i > 1; --i) {
      std::swap(order[i], order[1 + static_cast<std::size_t>(rng.below(i))]);
    }
  }
  rng.fill(session_id);

  ByteWriter w(out);
  const std::size_t record_start = w.size();
  w.u8(kTlsHandshake);
  w.u16(0x0301);  // ClientHello records say TLS 1.0 (RFC 8446 §5.1)
  const std::size_t record_len = w.open_length(2);
  w.u8(1);  // client_hello
  const std::size_t hello_len = w.open_length(3);
  w.u16(kTls12);  // legacy_version; TLS 1.3 is offered in supported_versions
  rng.fill(w.grow(32));
  w.u8(static_cast<std::uint8_t>(session_id.size()));
  w.bytes(session_id);
  w.nested(2, [&] { write_list(w, p.suites, g.suite); });
  w.u8(1), w.u8(0);  // compression methods: null only
  const std::size_t extensions_len = w.open_length(2);
  bool first_grease = true;
  for (std::size_t i = 0; i < p.extensions.size(); ++i) {
    const std::uint16_t type = order[i];
    if (type == kPadding) {
      // BoringSSL/NSS: a hello of 256..511 bytes (handshake header included) is padded to 512.
      const std::size_t hello = w.size() - (record_start + 5);
      if (hello < 256 || hello >= 512) continue;
      const std::size_t pad = 512 - hello >= 5 ? 512 - hello - 4 : 1;
      w.u16(kPadding), w.u16(static_cast<std::uint16_t>(pad)), w.zeros(pad);
      continue;
    }
    if (type == kGreaseExt) {
      w.u16(first_grease ? g.ext1 : g.ext2);
      w.nested(2, [&] {
        if (!first_grease) w.u8(0);
      });
      first_grease = false;
      continue;
    }
    if (type == kAlpn && spec.alpn.empty()) continue;
    w.u16(type);
    w.nested(2, [&] { extension_body(w, type, p, spec, g, rng); });
  }
  w.close_length(extensions_len, 2);
  w.close_length(hello_len, 3);
  w.close_length(record_len, 2);
}

}  // namespace
}  // namespace tls_profiles

void tls_client_hello(std::vector<std::uint8_t>& out, const ClientHelloSpec& spec, Rng& rng,
                      TlsSessionId& session_id) {
  tls_profiles::write_hello(out, spec, rng, session_id);
}

}  // namespace tcpr::gen
