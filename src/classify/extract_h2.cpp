// HTTP/2 request extractor (see extract.hpp). References: RFC 9113 (HTTP/2) §3.4 (preface), §4.1
// (frame format), §6 (frame types); RFC 7541 (HPACK), decoded by nghttp2's inflater.
//
// The frames are walked first, so the header block is decoded only once it is complete. nghttp2
// allocates (the inflater, its dynamic table, one buffer per literal); all of that comes from a
// thread_local arena that is reset on every call, so this path never reaches malloc.
#include "tcpr/classify/extract.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>

#if defined(__SANITIZE_ADDRESS__)
#define TCPR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCPR_ASAN 1
#endif
#endif
#ifdef TCPR_ASAN
#include <sanitizer/asan_interface.h>
#define TCPR_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TCPR_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TCPR_POISON(p, n) ((void)(p), (void)(n))
#define TCPR_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace tcpr::classify {
namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";  // RFC 9113 §3.4
constexpr std::size_t kFrameHeaderLen = 9;
// RFC 9113 §4.2: SETTINGS_MAX_FRAME_SIZE starts at 2^14, and a client's first frames are sent
// before it can have seen the server's SETTINGS.
constexpr std::size_t kMaxFrameLen = 1u << 14;
constexpr std::size_t kMaxHeaderBlock = 16 * 1024;  // HEADERS + CONTINUATION fragments together
constexpr std::size_t kMaxFramesBefore = 32;  // SETTINGS, WINDOW_UPDATE, ... before HEADERS
// A bound on CONTINUATION frames: floods of tiny ones are an attack (CVE-2024-27316).
constexpr std::size_t kMaxFragments = 16;

enum FrameType : std::uint8_t {
  kData = 0, kHeaders = 1, kPriority = 2, kRstStream = 3, kSettings = 4,
  kPushPromise = 5, kPing = 6, kGoaway = 7, kWindowUpdate = 8, kContinuation = 9,
};
constexpr std::uint8_t kFlagAck = 0x1;         // SETTINGS, PING
constexpr std::uint8_t kFlagEndHeaders = 0x4;  // HEADERS, CONTINUATION
constexpr std::uint8_t kFlagPadded = 0x8;      // HEADERS (RFC 9113 §6.2)
constexpr std::uint8_t kFlagPriority = 0x20;   // HEADERS: 5 bytes of priority before the block
constexpr std::size_t kPriorityFieldsLen = 5;

// Size-class allocator over a fixed buffer. Blocks are powers of two from 32 B to 64 KiB behind
// a 16-byte header; freed blocks go to a per-class list, so memory is bounded by what nghttp2
// holds at once (dynamic table + current literal), not by what it allocated over the call.
class Arena {
 public:
  void reset() noexcept {
    used_ = 0;
    free_.fill(nullptr);
    TCPR_POISON(buf_, sizeof(buf_));
  }

  void* allocate(std::size_t n) noexcept {
    if (n > kMaxBlock) return nullptr;
    const unsigned cls = std::max<unsigned>(kMinClass, std::bit_width(n + kHeaderLen - 1));
    if (cls > kMaxClass) return nullptr;
    Header* h = free_[cls];
    if (h != nullptr) {
      TCPR_UNPOISON(h, kHeaderLen);
      free_[cls] = h->next;
    } else {
      if (used_ + (std::size_t{1} << cls) > sizeof(buf_)) return nullptr;
      h = reinterpret_cast<Header*>(buf_ + used_);
      used_ += std::size_t{1} << cls;
      TCPR_UNPOISON(h, kHeaderLen);
    }
    h->cls = cls;
    h->size = static_cast<std::uint32_t>(n);
    TCPR_UNPOISON(h + 1, n);
    return h + 1;
  }

  void release(void* p) noexcept {
    if (p == nullptr) return;
    Header* h = static_cast<Header*>(p) - 1;
    TCPR_POISON(p, h->size);
    h->next = free_[h->cls];
    free_[h->cls] = h;
  }

  void* reallocate(void* p, std::size_t n) noexcept {
    if (p == nullptr) return allocate(n);
    Header* h = static_cast<Header*>(p) - 1;
    void* q = allocate(n);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, std::min<std::size_t>(h->size, n));
    release(p);
    return q;
  }

 private:
  struct Header {
    std::uint32_t cls;
    std::uint32_t size;
    Header* next;  // while on a free list
  };
  static constexpr std::size_t kHeaderLen = sizeof(Header);
  static_assert(kHeaderLen == 16 && kHeaderLen % alignof(std::max_align_t) == 0);
  static constexpr unsigned kMinClass = 5;
  static constexpr unsigned kMaxClass = 16;
  static constexpr std::size_t kMaxBlock = std::size_t{1} << kMaxClass;

  // A 16 KiB block of Huffman literals decodes to at most 26 KiB (shortest code: 5 bits), which
  // with a 4 KiB dynamic table leaves ample room.
  alignas(std::max_align_t) std::byte buf_[128 * 1024];
  std::size_t used_ = 0;
  std::array<Header*, kMaxClass + 1> free_{};
};

// On the heap, once per thread that decodes: as a thread_local object its 128 KiB would be static
// TLS in every thread of the process, and a library that starts threads with small stacks
// (civetweb, for the Prometheus endpoint) then cannot start them at all.
thread_local std::unique_ptr<Arena> t_arena;

void* arena_malloc(std::size_t n, void* arena) { return static_cast<Arena*>(arena)->allocate(n); }
void arena_free(void* p, void* arena) { static_cast<Arena*>(arena)->release(p); }
void* arena_realloc(void* p, std::size_t n, void* arena) {
  return static_cast<Arena*>(arena)->reallocate(p, n);
}
void* arena_calloc(std::size_t count, std::size_t size, void* arena) {
  if (size != 0 && count > SIZE_MAX / size) return nullptr;
  void* p = static_cast<Arena*>(arena)->allocate(count * size);
  if (p != nullptr) std::memset(p, 0, count * size);
  return p;
}

inline std::uint32_t load_be24(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 16 | std::uint32_t{p[1]} << 8 | p[2];
}

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | load_be24(p + 1);
}

template <std::size_t N>
void assign(FixedString<N>& dst, const std::uint8_t* s, std::size_t n, bool to_lower) noexcept {
  dst.assign({reinterpret_cast<const char*>(s), n});
  for (std::uint16_t i = 0; to_lower && i < dst.len; ++i) {
    if (dst.data[i] >= 'A' && dst.data[i] <= 'Z') dst.data[i] = static_cast<char>(dst.data[i] + 32);
  }
}

struct Fragment {
  const std::uint8_t* p;
  std::size_t n;
};

// Field names arrive lower-case (RFC 9113 §8.2.1); the first occurrence of each wins. `host`
// stands in for a missing :authority (RFC 9113 §8.3.1 allows either).
void take_field(const nghttp2_nv& nv, H2Request& out, bool& authority) noexcept {
  const std::string_view name(reinterpret_cast<const char*>(nv.name), nv.namelen);
  if (name == ":method" && out.method.empty()) {
    assign(out.method, nv.value, nv.valuelen, false);
  } else if (name == ":path" && out.path.empty()) {
    assign(out.path, nv.value, nv.valuelen, false);
  } else if (name == ":authority" && !authority) {
    assign(out.authority, nv.value, nv.valuelen, true);
    authority = true;
  } else if (name == "host" && !authority && out.authority.empty()) {
    assign(out.authority, nv.value, nv.valuelen, true);
  } else if (name == "content-type" && out.content_type.empty()) {
    assign(out.content_type, nv.value, nv.valuelen, true);
  }
}

Extract inflate(nghttp2_hd_inflater* inflater, const Fragment* frags, std::size_t count,
                H2Request& out) noexcept {
  bool authority = false;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* in = frags[i].p;
    std::size_t left = frags[i].n;
    const int final = i + 1 == count ? 1 : 0;
    for (;;) {
      nghttp2_nv nv{};
      int flags = 0;
      const ssize_t rv = nghttp2_hd_inflate_hd2(inflater, &nv, &flags, in, left, final);
      if (rv < 0) return Extract::kNo;
      in += rv;
      left -= static_cast<std::size_t>(rv);
      if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0) take_field(nv, out, authority);
      if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
        nghttp2_hd_inflate_end_headers(inflater);
        // RFC 9113 §8.3.1: every request carries :method.
        return out.method.empty() ? Extract::kNo : Extract::kOk;
      }
      if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) break;
    }
  }
  return Extract::kNo;  // the final fragment ends in FINAL or an error; kept for safety
}

Extract decode(const Fragment* frags, std::size_t count, H2Request& out) noexcept {
  if (t_arena == nullptr) t_arena = std::make_unique<Arena>();
  Arena& arena = *t_arena;
  arena.reset();
  nghttp2_mem mem{&arena, arena_malloc, arena_free, arena_calloc, arena_realloc};
  nghttp2_hd_inflater* inflater = nullptr;
  // The client's first block starts from an empty dynamic table of the default 4096 bytes
  // (RFC 7541 §4.2, RFC 9113 §6.5.2 SETTINGS_HEADER_TABLE_SIZE initial value).
  if (nghttp2_hd_inflate_new2(&inflater, &mem) != 0) return Extract::kNo;
  const Extract r = inflate(inflater, frags, count, out);
  nghttp2_hd_inflate_del(inflater);
  return r;
}

// Checks a frame before HEADERS from its 9-byte header alone (RFC 9113 §6).
bool control_frame_ok(std::uint8_t type, std::uint8_t flags, std::uint32_t len, std::uint32_t sid,
                      bool first) noexcept {
  // RFC 9113 §3.4: the preface continues with a SETTINGS frame (not an acknowledgement).
  if (first && (type != kSettings || (flags & kFlagAck) != 0)) return false;
  switch (type) {
    case kSettings: return sid == 0 && ((flags & kFlagAck) != 0 ? len == 0 : len % 6 == 0);
    case kWindowUpdate: return len == 4;
    case kPriority: return len == kPriorityFieldsLen && sid != 0;
    case kPing: return len == 8 && sid == 0;
    case kHeaders: return sid % 2 == 1;  // RFC 9113 §5.1.1: client streams are odd
    // Data before any request, a reset or push of nothing, a GOAWAY, a stray CONTINUATION.
    case kData: case kRstStream: case kPushPromise: case kGoaway: case kContinuation: return false;
    default: return true;  // RFC 9113 §5.5: unknown frame types are ignored
  }
}

}  // namespace

Extract parse_h2_request(const std::uint8_t* data, std::size_t len, H2Request& out) noexcept {
  out = H2Request{};
  if (len == 0) return Extract::kNeedMore;
  if (std::memcmp(data, kPreface.data(), std::min(len, kPreface.size())) != 0) return Extract::kNo;
  if (len < kPreface.size()) return Extract::kNeedMore;

  std::array<Fragment, kMaxFragments> frags;
  std::size_t count = 0, block = 0, frames = 0;
  std::uint32_t stream = 0;  // the HEADERS stream, once seen
  for (std::size_t off = kPreface.size();;) {
    if (len - off < kFrameHeaderLen) return Extract::kNeedMore;
    const std::uint8_t* h = data + off;
    const std::uint32_t flen = load_be24(h);
    const std::uint8_t type = h[3], flags = h[4];
    const std::uint32_t sid = load_be32(h + 5) & 0x7fffffffu;  // the reserved bit is ignored
    if (flen > kMaxFrameLen) return Extract::kNo;
    if (stream == 0) {
      if (!control_frame_ok(type, flags, flen, sid, frames == 0)) return Extract::kNo;
      if (type != kHeaders && ++frames > kMaxFramesBefore) return Extract::kNo;
    } else if (type != kContinuation || sid != stream) {
      return Extract::kNo;  // RFC 9113 §6.10: nothing may come between HEADERS and its end
    }
    if (len - off - kFrameHeaderLen < flen) return Extract::kNeedMore;
    off += kFrameHeaderLen + flen;
    if (stream == 0 && type != kHeaders) continue;

    Fragment f{h + kFrameHeaderLen, flen};
    if (type == kHeaders) {
      // RFC 9113 §6.2: [Pad Length] [Exclusive, Stream Dependency, Weight] fragment [padding].
      std::size_t pad = 0;
      if ((flags & kFlagPadded) != 0) {
        if (f.n < 1) return Extract::kNo;
        pad = f.p[0];
        ++f.p;
        --f.n;
      }
      if ((flags & kFlagPriority) != 0) {
        if (f.n < kPriorityFieldsLen) return Extract::kNo;
        f.p += kPriorityFieldsLen;
        f.n -= kPriorityFieldsLen;
      }
      if (pad > f.n) return Extract::kNo;  // more padding than fragment room: PROTOCOL_ERROR
      f.n -= pad;
      stream = sid;
    }
    block += f.n;
    if (count == kMaxFragments || block > kMaxHeaderBlock) return Extract::kNo;
    frags[count++] = f;
    if ((flags & kFlagEndHeaders) != 0) return decode(frags.data(), count, out);
  }
}

}  // namespace tcpr::classify
