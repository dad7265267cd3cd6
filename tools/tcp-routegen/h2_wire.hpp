// h2_wire.hpp — HTTP/2 frames (RFC 9113), HPACK header blocks (RFC 7541) and gRPC messages.
//
// HpackEncoder wraps nghttp2's deflater: static and dynamic table indexing, Huffman-coded strings
// (Appendix B) whenever shorter, as nghttp2/grpc peers send them. A connection has one encoder
// per direction, since each direction has its own dynamic table; header blocks must be encoded in
// the order they are sent. Frames are appended to a byte vector:
//   h2_settings/h2_settings_ack/h2_window_update/h2_ping/h2_goaway  connection control frames;
//   h2_headers   one HEADERS frame with END_HEADERS (blocks here stay under the 16 KiB default
//                SETTINGS_MAX_FRAME_SIZE, so no CONTINUATION);
//   h2_data      DATA frames of at most 16 KiB, END_STREAM on the last if asked.
// grpc_message() is gRPC's Length-Prefixed-Message (grpc/doc/PROTOCOL-HTTP2.md): a compressed
// flag byte (0), a 4-byte big-endian length, the message. pb_*() write protobuf wire format.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct nghttp2_hd_deflater;

namespace tcpr::gen {

inline constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

class HpackEncoder {
 public:
  HpackEncoder();
  ~HpackEncoder();
  HpackEncoder(const HpackEncoder&) = delete;
  HpackEncoder& operator=(const HpackEncoder&) = delete;

  void encode(std::vector<std::uint8_t>& out, std::span<const HeaderField> fields);

 private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

using H2Setting = std::pair<std::uint16_t, std::uint32_t>;

void h2_preface(std::vector<std::uint8_t>& out);
void h2_settings(std::vector<std::uint8_t>& out, std::span<const H2Setting> settings);
void h2_settings_ack(std::vector<std::uint8_t>& out);
void h2_window_update(std::vector<std::uint8_t>& out, std::uint32_t stream,
                      std::uint32_t increment);
void h2_ping(std::vector<std::uint8_t>& out, bool ack, std::uint64_t opaque);
void h2_goaway(std::vector<std::uint8_t>& out, std::uint32_t last_stream, std::uint32_t error);
void h2_headers(std::vector<std::uint8_t>& out, std::uint32_t stream, HpackEncoder& hpack,
                std::span<const HeaderField> fields, bool end_stream);
void h2_data(std::vector<std::uint8_t>& out, std::uint32_t stream,
             std::span<const std::uint8_t> data, bool end_stream);

void grpc_message(std::vector<std::uint8_t>& out, std::string_view message);

void pb_varint(std::string& out, std::uint32_t field, std::uint64_t value);
void pb_bytes(std::string& out, std::uint32_t field, std::string_view bytes);

}  // namespace tcpr::gen
