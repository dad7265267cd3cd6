// ws_wire.cpp — see ws_wire.hpp.
#include "ws_wire.hpp"

#include "byte_writer.hpp"
#include "codec.hpp"

namespace tcpr::gen {

std::string websocket_accept(std::string_view key) {
  const Sha1Digest digest = sha1(std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  return base64(digest);
}

void ws_frame(std::vector<std::uint8_t>& out, std::uint8_t opcode, std::string_view payload,
              const std::optional<WsMask>& mask) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(0x80 | opcode));  // FIN, no RSV bits (no extension negotiated)
  const std::uint8_t masked = mask ? 0x80 : 0x00;
  if (payload.size() < 126) {
    w.u8(static_cast<std::uint8_t>(masked | payload.size()));
  } else if (payload.size() <= 0xffff) {
    w.u8(masked | 126);
    w.u16(static_cast<std::uint16_t>(payload.size()));
  } else {
    w.u8(masked | 127);
    w.u32(0);
    w.u32(static_cast<std::uint32_t>(payload.size()));
  }
  if (!mask) {
    w.text(payload);
    return;
  }
  w.bytes(*mask);
  const std::size_t at = out.size();
  w.text(payload);
  for (std::size_t i = 0; i < payload.size(); ++i) out[at + i] ^= (*mask)[i % 4];
}

std::string ws_close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xff);
  out += reason;
  return out;
}

}  // namespace tcpr::gen
