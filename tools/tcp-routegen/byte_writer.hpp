// byte_writer.hpp — appends network-order (big-endian) fields to a byte vector.
//
// Used by every wire format tcp-routegen writes (Ethernet/IP/TCP/UDP headers, TLS records, DNS
// messages). Length fields are reserved with open_length() and patched by close_length() once
// their content is written, which is how TLS and DNS nest their vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tcpr::gen {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { put_be(v, 2); }
  void u24(std::uint32_t v) { put_be(v, 3); }
  void u32(std::uint32_t v) { put_be(v, 4); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void text(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
  void zeros(std::size_t n) { out_.resize(out_.size() + n, 0); }
  // Appends n zero bytes and returns them for filling; valid until the next append.
  std::span<std::uint8_t> grow(std::size_t n) {
    zeros(n);
    return {out_.data() + out_.size() - n, n};
  }

  // Reserves a length field of `width` bytes; returns its position for close_length().
  std::size_t open_length(int width) {
    const std::size_t at = out_.size();
    zeros(static_cast<std::size_t>(width));
    return at;
  }
  // A length field of `width` bytes around what `body()` appends (TLS vectors, SSH strings).
  template <class Body>
  void nested(int width, Body&& body) {
    const std::size_t at = open_length(width);
    body();
    close_length(at, width);
  }
  // Writes into the field at `at` the number of bytes appended after it.
  void close_length(std::size_t at, int width) {
    const std::size_t len = out_.size() - at - static_cast<std::size_t>(width);
    if (width < 4 && len >= (std::size_t{1} << (8 * width))) {
      throw std::logic_error("ByteWriter: length does not fit its field");
    }
    for (int i = 0; i < width; ++i) {
      out_[at + static_cast<std::size_t>(i)] =
          static_cast<std::uint8_t>(len >> (8 * (width - 1 - i)));
    }
  }
  // Overwrites a 16-bit field (a checksum) at `at`.
  void patch_u16(std::size_t at, std::uint16_t v) {
    out_[at] = static_cast<std::uint8_t>(v >> 8);
    out_[at + 1] = static_cast<std::uint8_t>(v);
  }

  std::size_t size() const noexcept { return out_.size(); }

 private:
  void put_be(std::uint32_t v, int width) {
    for (int i = width - 1; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }

  std::vector<std::uint8_t>& out_;
};

}  // namespace tcpr::gen
