// h2_wire.cpp — see h2_wire.hpp.
#include "h2_wire.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <stdexcept>

#include "byte_writer.hpp"

namespace tcpr::gen {
namespace {

// RFC 9113 §6 frame types and flags.
constexpr std::uint8_t kData = 0x0;
constexpr std::uint8_t kHeaders = 0x1;
constexpr std::uint8_t kSettings = 0x4;
constexpr std::uint8_t kPing = 0x6;
constexpr std::uint8_t kGoaway = 0x7;
constexpr std::uint8_t kWindowUpdate = 0x8;
constexpr std::uint8_t kEndStream = 0x1;
constexpr std::uint8_t kAck = 0x1;
constexpr std::uint8_t kEndHeaders = 0x4;
constexpr std::size_t kMaxFrame = 16384;  // SETTINGS_MAX_FRAME_SIZE's initial value
constexpr std::size_t kHeaderTableSize = 4096;

void frame_header(ByteWriter& w, std::size_t length, std::uint8_t type, std::uint8_t flags,
                  std::uint32_t stream) {
  if (length > kMaxFrame) throw std::logic_error("HTTP/2 frame larger than 16 KiB");
  w.u24(static_cast<std::uint32_t>(length));
  w.u8(type);
  w.u8(flags);
  w.u32(stream & 0x7fffffffu);
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

}  // namespace

HpackEncoder::HpackEncoder() {
  if (nghttp2_hd_deflate_new(&deflater_, kHeaderTableSize) != 0) {
    throw std::runtime_error("nghttp2_hd_deflate_new failed");
  }
}

HpackEncoder::~HpackEncoder() { nghttp2_hd_deflate_del(deflater_); }

void HpackEncoder::encode(std::vector<std::uint8_t>& out, std::span<const HeaderField> fields) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const HeaderField& f : fields) {
    // nghttp2 takes non-const pointers but does not write through them.
    nva.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(f.name.data())),
                   reinterpret_cast<std::uint8_t*>(const_cast<char*>(f.value.data())),
                   f.name.size(), f.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  const std::size_t bound = nghttp2_hd_deflate_bound(deflater_, nva.data(), nva.size());
  const std::size_t at = out.size();
  out.resize(at + bound);
  const auto n = nghttp2_hd_deflate_hd(deflater_, out.data() + at, bound, nva.data(), nva.size());
  if (n < 0) throw std::runtime_error(nghttp2_strerror(static_cast<int>(n)));
  out.resize(at + static_cast<std::size_t>(n));
}

void h2_preface(std::vector<std::uint8_t>& out) { ByteWriter(out).text(kH2Preface); }

void h2_settings(std::vector<std::uint8_t>& out, std::span<const H2Setting> settings) {
  ByteWriter w(out);
  frame_header(w, settings.size() * 6, kSettings, 0, 0);
  for (const auto& [id, value] : settings) w.u16(id), w.u32(value);
}

void h2_settings_ack(std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  frame_header(w, 0, kSettings, kAck, 0);
}

void h2_window_update(std::vector<std::uint8_t>& out, std::uint32_t stream,
                      std::uint32_t increment) {
  ByteWriter w(out);
  frame_header(w, 4, kWindowUpdate, 0, stream);
  w.u32(increment & 0x7fffffffu);
}

void h2_ping(std::vector<std::uint8_t>& out, bool ack, std::uint64_t opaque) {
  ByteWriter w(out);
  frame_header(w, 8, kPing, ack ? kAck : 0, 0);
  w.u32(static_cast<std::uint32_t>(opaque >> 32));
  w.u32(static_cast<std::uint32_t>(opaque));
}

void h2_goaway(std::vector<std::uint8_t>& out, std::uint32_t last_stream, std::uint32_t error) {
  ByteWriter w(out);
  frame_header(w, 8, kGoaway, 0, 0);
  w.u32(last_stream & 0x7fffffffu);
  w.u32(error);
}

void h2_headers(std::vector<std::uint8_t>& out, std::uint32_t stream, HpackEncoder& hpack,
                std::span<const HeaderField> fields, bool end_stream) {
  std::vector<std::uint8_t> block;
  hpack.encode(block, fields);
  ByteWriter w(out);
  frame_header(w, block.size(), kHeaders, kEndHeaders | (end_stream ? kEndStream : 0), stream);
  w.bytes(block);
}

void h2_data(std::vector<std::uint8_t>& out, std::uint32_t stream,
             std::span<const std::uint8_t> data, bool end_stream) {
  ByteWriter w(out);
  do {
    const std::size_t n = std::min(data.size(), kMaxFrame);
    const bool last = n == data.size();
    frame_header(w, n, kData, last && end_stream ? kEndStream : 0, stream);
    w.bytes(data.first(n));
    data = data.subspan(n);
  } while (!data.empty());
}

void grpc_message(std::vector<std::uint8_t>& out, std::string_view message) {
  ByteWriter w(out);
  w.u8(0);  // not compressed
  w.u32(static_cast<std::uint32_t>(message.size()));
  w.text(message);
}

void pb_varint(std::string& out, std::uint32_t field, std::uint64_t value) {
  put_varint(out, std::uint64_t{field} << 3 | 0);
  put_varint(out, value);
}

void pb_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_varint(out, std::uint64_t{field} << 3 | 2);
  put_varint(out, bytes.size());
  out += bytes;
}

}  // namespace tcpr::gen
