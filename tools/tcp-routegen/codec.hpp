// codec.hpp — the encodings payloads need: SHA-1 (RFC 3174), Base64 and base64url (RFC 4648),
// percent-encoding for URL queries and HTML forms (RFC 3986, WHATWG URL "urlencoded").
//
// SHA-1 is only used for the WebSocket handshake (RFC 6455 §4.2.2: Sec-WebSocket-Accept is the
// Base64 of SHA-1 over the client's key and a fixed GUID); it is not used for security.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tcpr::gen {

using Sha1Digest = std::array<std::uint8_t, 20>;

Sha1Digest sha1(std::span<const std::uint8_t> data) noexcept;
Sha1Digest sha1(std::string_view text) noexcept;

// RFC 4648 §4, with '=' padding.
std::string base64(std::span<const std::uint8_t> data);
// RFC 4648 §5 without padding, as JWTs use it (RFC 7515 §2).
std::string base64url(std::span<const std::uint8_t> data);
std::string base64url(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986 §2.3); with `form`, a space
// becomes '+' (application/x-www-form-urlencoded).
std::string percent_encode(std::string_view text, bool form = false);

}  // namespace tcpr::gen
