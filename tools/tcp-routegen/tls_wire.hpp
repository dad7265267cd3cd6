// tls_wire.hpp — TLS records as a TLS 1.3 client and server put them on the wire (RFC 8446).
//
// tls_client_hello()  a ClientHello record offering TLS 1.3 and 1.2 as a given client library
//                     writes it (tls_client_hello.cpp): its cipher suites, groups, signature
//                     schemes and extensions in its order — SNI (RFC 6066), ALPN (RFC 7301),
//                     supported_versions, key_share, psk_key_exchange_modes and the rest;
//                     Chrome adds GREASE values (RFC 8701) and permutes its extensions, Chrome and
//                     Firefox pad hellos of 256–511 bytes to 512 (RFC 7685).
// tls_server_hello()  the server's plaintext part of a TLS 1.3 handshake: a ServerHello record
//                     selecting TLS 1.3 and x25519, echoing the client's session id.
// tls_change_cipher_spec()  the middlebox-compatibility ChangeCipherSpec record (RFC 8446 D.4)
//                     both sides send in TLS 1.3.
// tls_app_records()   opaque application_data records (what everything after the ServerHello
//                     looks like without keys), cut at the 2^14 + 256 ciphertext limit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rng.hpp"

namespace tcpr::gen {

inline constexpr std::uint8_t kTlsChangeCipherSpec = 20;
inline constexpr std::uint8_t kTlsAlert = 21;
inline constexpr std::uint8_t kTlsHandshake = 22;
inline constexpr std::uint8_t kTlsApplicationData = 23;

using TlsSessionId = std::array<std::uint8_t, 32>;

// Whose ClientHello: Chrome (BoringSSL), Firefox (NSS), OpenSSL 3 (curl, Python, Node), Go.
enum class TlsClient : std::uint8_t { kChrome, kFirefox, kOpenSsl, kGo };
inline constexpr int kTlsClients = 4;

struct ClientHelloSpec {
  std::string_view sni;
  std::span<const std::string_view> alpn;  // e.g. {"h2", "http/1.1"}; empty: no ALPN extension
  TlsClient client = TlsClient::kOpenSsl;
};

// Appends the ClientHello record; its random, session id and key share come from `rng`, and the
// session id is returned in `session_id` for the ServerHello to echo.
void tls_client_hello(std::vector<std::uint8_t>& out, const ClientHelloSpec& spec, Rng& rng,
                      TlsSessionId& session_id);
void tls_server_hello(std::vector<std::uint8_t>& out, const TlsSessionId& session_id, Rng& rng);
void tls_change_cipher_spec(std::vector<std::uint8_t>& out);
// Appends `total` bytes of records of `type` (headers included), each at most kTlsMaxRecord.
void tls_app_records(std::vector<std::uint8_t>& out, std::size_t total, Rng& rng,
                     std::uint8_t type = kTlsApplicationData);

inline constexpr std::size_t kTlsRecordHeader = 5;
inline constexpr std::size_t kTlsMaxRecord = 16384 + 256;  // TLSCiphertext.length limit

}  // namespace tcpr::gen
