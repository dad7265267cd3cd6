// tls_profiles.hpp — what real TLS clients put in a ClientHello (data only; used by
// tls_client_hello.cpp).
//
// Per client — Chrome 120 (BoringSSL), Firefox 120 (NSS), curl/Python/Node on OpenSSL 3.0 and
// Go 1.21 net/http, after their published ClientHello fingerprints: cipher suites, supported
// groups, key shares, signature schemes and the extensions in the order they are sent.
// kGreaseMarker / kGreaseExt mark where Chrome puts GREASE values (RFC 8701), drawn per hello.
#pragma once

#include <cstdint>
#include <span>

#include "tls_wire.hpp"

namespace tcpr::gen::tls_profiles {

constexpr std::uint16_t kGreaseMarker = 0;  // replaced by a GREASE value when written

// IANA TLS ExtensionType values.
enum Ext : std::uint16_t {
  kServerName = 0,
  kStatusRequest = 5,
  kSupportedGroups = 10,
  kEcPointFormats = 11,
  kSignatureAlgorithms = 13,
  kAlpn = 16,
  kSct = 18,
  kPadding = 21,
  kEncryptThenMac = 22,
  kExtendedMasterSecret = 23,
  kCompressCertificate = 27,
  kRecordSizeLimit = 28,
  kDelegatedCredentials = 34,
  kSessionTicket = 35,
  kSupportedVersions = 43,
  kPskKeyExchangeModes = 45,
  kPostHandshakeAuth = 49,
  kKeyShare = 51,
  kApplicationSettings = 17513,
  kRenegotiationInfo = 0xff01,
  kGreaseExt = 0x0a0a,  // a placeholder: the written value is drawn per hello
};

using U16s = std::span<const std::uint16_t>;

struct Profile {
  U16s suites;  // kGreaseMarker marks where GREASE goes
  U16s groups;
  U16s key_shares;
  U16s signature_schemes;
  U16s extensions;  // in order; kGreaseExt marks GREASE extensions
  bool grease = false;
  bool permute = false;  // Chrome shuffles all but GREASE and padding
  bool pad = false;
};

constexpr std::uint16_t kChromeSuites[] = {kGreaseMarker, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                           0xc02c,        0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                                           0x009c,        0x009d, 0x002f, 0x0035};
constexpr std::uint16_t kFirefoxSuites[] = {0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9,
                                            0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013,
                                            0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
constexpr std::uint16_t kOpenSslSuites[] = {
    0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f,
    0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009,
    0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff};
constexpr std::uint16_t kGoSuites[] = {0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009,
                                       0xc013, 0xc00a, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
                                       0xc012, 0x000a, 0x1301, 0x1302, 0x1303};
constexpr std::uint16_t kChromeGroups[] = {kGreaseMarker, 0x001d, 0x0017, 0x0018};
constexpr std::uint16_t kFirefoxGroups[] = {0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101};
constexpr std::uint16_t kOpenSslGroups[] = {0x001d, 0x0017, 0x001e, 0x0019, 0x0018,
                                            0x0100, 0x0101, 0x0102, 0x0103, 0x0104};
constexpr std::uint16_t kGoGroups[] = {0x001d, 0x0017, 0x0018, 0x0019};
constexpr std::uint16_t kChromeShares[] = {kGreaseMarker, 0x001d};
constexpr std::uint16_t kFirefoxShares[] = {0x001d, 0x0017};
constexpr std::uint16_t kX25519Share[] = {0x001d};
constexpr std::uint16_t kChromeSigs[] = {0x0403, 0x0804, 0x0401, 0x0503,
                                         0x0805, 0x0501, 0x0806, 0x0601};
constexpr std::uint16_t kFirefoxSigs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                          0x0401, 0x0501, 0x0601, 0x0203, 0x0201};
constexpr std::uint16_t kOpenSslSigs[] = {
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x081a, 0x081b, 0x081c, 0x0809, 0x080a, 0x080b, 0x0804,
    0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602};
constexpr std::uint16_t kGoSigs[] = {0x0804, 0x0403, 0x0807, 0x0805, 0x0503, 0x0806,
                                     0x0603, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201};
constexpr std::uint16_t kChromeExts[] = {kGreaseExt,
                                         kServerName,
                                         kExtendedMasterSecret,
                                         kRenegotiationInfo,
                                         kSupportedGroups,
                                         kEcPointFormats,
                                         kSessionTicket,
                                         kAlpn,
                                         kStatusRequest,
                                         kSignatureAlgorithms,
                                         kSct,
                                         kKeyShare,
                                         kPskKeyExchangeModes,
                                         kSupportedVersions,
                                         kCompressCertificate,
                                         kApplicationSettings,
                                         kGreaseExt,
                                         kPadding};
constexpr std::uint16_t kFirefoxExts[] = {kServerName,
                                          kExtendedMasterSecret,
                                          kRenegotiationInfo,
                                          kSupportedGroups,
                                          kEcPointFormats,
                                          kSessionTicket,
                                          kAlpn,
                                          kStatusRequest,
                                          kDelegatedCredentials,
                                          kKeyShare,
                                          kSupportedVersions,
                                          kSignatureAlgorithms,
                                          kPskKeyExchangeModes,
                                          kRecordSizeLimit,
                                          kPadding};
constexpr std::uint16_t kOpenSslExts[] = {kServerName,
                                          kEcPointFormats,
                                          kSupportedGroups,
                                          kSessionTicket,
                                          kAlpn,
                                          kEncryptThenMac,
                                          kExtendedMasterSecret,
                                          kSignatureAlgorithms,
                                          kSupportedVersions,
                                          kPskKeyExchangeModes,
                                          kPostHandshakeAuth,
                                          kKeyShare};
constexpr std::uint16_t kGoExts[] = {kServerName,
                                     kStatusRequest,
                                     kSupportedGroups,
                                     kEcPointFormats,
                                     kSignatureAlgorithms,
                                     kRenegotiationInfo,
                                     kAlpn,
                                     kSct,
                                     kSessionTicket,
                                     kExtendedMasterSecret,
                                     kSupportedVersions,
                                     kKeyShare,
                                     kPskKeyExchangeModes};

constexpr Profile kProfiles[kTlsClients] = {
    {kChromeSuites, kChromeGroups, kChromeShares, kChromeSigs, kChromeExts, true, true, true},
    {kFirefoxSuites, kFirefoxGroups, kFirefoxShares, kFirefoxSigs, kFirefoxExts, false, false,
     true},
    {kOpenSslSuites, kOpenSslGroups, kX25519Share, kOpenSslSigs, kOpenSslExts, false, false, false},
    {kGoSuites, kGoGroups, kX25519Share, kGoSigs, kGoExts, false, false, false},
};

}  // namespace tcpr::gen::tls_profiles
