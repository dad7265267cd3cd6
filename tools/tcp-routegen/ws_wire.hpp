// ws_wire.hpp — WebSocket (RFC 6455): the handshake's accept value and data/control frames.
//
// websocket_accept()  Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2): the Base64 of the
//                     SHA-1 of the key followed by the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11.
// ws_frame()          one frame with FIN set: opcode, the 7/16/64-bit payload length (§5.2) and,
//                     from a client, a masking key with the payload XORed by it (§5.3); a server
//                     sends its frames unmasked.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpr::gen {

inline constexpr std::uint8_t kWsText = 0x1;
inline constexpr std::uint8_t kWsBinary = 0x2;
inline constexpr std::uint8_t kWsClose = 0x8;
inline constexpr std::uint8_t kWsPing = 0x9;
inline constexpr std::uint8_t kWsPong = 0xa;

using WsMask = std::array<std::uint8_t, 4>;

std::string websocket_accept(std::string_view key);
void ws_frame(std::vector<std::uint8_t>& out, std::uint8_t opcode, std::string_view payload,
              const std::optional<WsMask>& mask);
// A close frame's payload: a 2-byte status code (1000 = normal closure) and a reason.
std::string ws_close_payload(std::uint16_t code, std::string_view reason);

}  // namespace tcpr::gen
