#include "tcpr/classify/classifier.hpp"

#include <hs/hs.h>
#include <xxhash.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace tcpr::classify {

namespace {

enum : std::uint8_t {
  kSeqKnown0 = 1u << 0,
  kSeqKnown1 = 1u << 1,
  kDone0 = 1u << 2,         // direction no longer inspected
  kDone1 = 1u << 3,
  kExtracted0 = 1u << 4,    // extractor finished (ok or not this protocol)
  kExtracted1 = 1u << 5,
  kEncrypted = 1u << 6,     // TLS or SSH: nothing readable follows the handshake
  kUdp = 1u << 7,
};
constexpr std::uint8_t bit(std::uint8_t base, int dir) { return static_cast<std::uint8_t>(base << dir); }

// Stream state comes from a per-thread free list of fixed-size blocks: every stream a worker
// opens and closes stays on that worker, so the pool needs no lock, and after warm-up opening a
// stream costs no malloc. Blocks of another size (a reload with a bigger database) use malloc.
struct StreamPool {
  std::size_t size = 0;
  std::vector<void*> free;
  ~StreamPool() {
    for (void* p : free) std::free(static_cast<std::uint8_t*>(p) - 16);  // blocks are handed out at +16
  }
};
thread_local StreamPool t_pool;
constexpr std::size_t kPoolMax = 1 << 16;

void* pool_alloc(std::size_t n) {
  if (n == t_pool.size && !t_pool.free.empty()) {
    void* p = t_pool.free.back();
    t_pool.free.pop_back();
    return p;
  }
  if (t_pool.size == 0) {
    t_pool.size = n;
    t_pool.free.reserve(kPoolMax);
  }
  // Hyperscan asks for 8-byte alignment; a 16-byte header keeps the block size with the block.
  auto* p = static_cast<std::uint8_t*>(std::aligned_alloc(16, ((n + 16 + 15) / 16) * 16));
  if (p == nullptr) return nullptr;
  std::memcpy(p, &n, sizeof n);
  return p + 16;
}

void pool_free(void* ptr) {
  if (ptr == nullptr) return;
  auto* p = static_cast<std::uint8_t*>(ptr) - 16;
  std::size_t n;
  std::memcpy(&n, p, sizeof n);
  if (n == t_pool.size && t_pool.free.size() < kPoolMax) {
    t_pool.free.push_back(ptr);
    return;
  }
  std::free(p);
}

std::once_flag g_allocator_once;

bool starts_with_ci(const std::uint8_t* p, std::size_t n, std::string_view word) {
  if (n < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = static_cast<char>(p[i]);
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

bool token_char(std::uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
         c == '+' || c == '/' || c == '=' || c == '.';
}

}  // namespace

struct Classifier::MatchContext {
  Classifier* self;
  std::uint32_t flow;
  int dir;
  std::uint16_t server_port;
  const std::uint8_t* data;       // bytes of this scan call (a field value for block scans)
  std::uint32_t len;
  unsigned long long base;        // stream offset of data[0]
  bool field;                     // a block scan of an extracted field
};

Classifier::Classifier(const ClassifyConfig& cfg, std::uint32_t flow_capacity, std::shared_ptr<const ClassDb> db)
    : cfg_(cfg), state_(flow_capacity) {
  std::call_once(g_allocator_once, [] {
    hs_set_stream_allocator(
        [](std::size_t n) { return pool_alloc(n); }, [](void* p) { pool_free(p); });
  });
  if (cfg_.head_bytes > cfg_.inspect_depth) cfg_.head_bytes = cfg_.inspect_depth;
  // calloc of large blocks maps zero pages lazily: untouched slots cost no memory.
  meta_ = static_cast<FlowMeta*>(std::calloc(flow_capacity, sizeof(FlowMeta)));
  heads_ = static_cast<std::uint8_t*>(std::calloc(cfg_.head_slots, 2ull * cfg_.head_bytes));
  free_heads_.reserve(cfg_.head_slots);
  for (std::uint32_t i = cfg_.head_slots; i > 0; --i) free_heads_.push_back(i);
  set_db(db);
}

Classifier::~Classifier() {
  for (std::uint32_t i = 0; i < state_.size(); ++i) {
    for (int d = 0; d < 2; ++d) {
      if (state_[i].stream[d] != nullptr) hs_close_stream(state_[i].stream[d], scratch_, nullptr, nullptr);
    }
  }
  hs_free_scratch(scratch_);
  std::free(meta_);
  std::free(heads_);
}

bool Classifier::set_db(std::shared_ptr<const ClassDb>& db) {
  std::uint8_t slot = cur_;
  if (gens_[cur_] != nullptr) {
    slot = kGenerations;
    for (std::uint8_t i = 1; i < kGenerations && slot == kGenerations; ++i) {
      const auto g = static_cast<std::uint8_t>((cur_ + i) % kGenerations);
      if (live_[g] == 0) slot = g;
    }
    if (slot == kGenerations) {
      ++counters_.reload_deferred;
      return false;
    }
  }
  gens_[slot] = std::move(db);
  llm_class_[slot] = gens_[slot]->class_id("llm.api");
  if (hs_scratch* proto = const_cast<hs_scratch*>(gens_[slot]->prototype_scratch())) {
    if (scratch_ == nullptr) {
      hs_clone_scratch(proto, &scratch_);
    }
    for (const auto& g : gens_) {
      if (g == nullptr) continue;
      for (std::size_t p = 0; p < static_cast<std::size_t>(Place::kCount); ++p) {
        if (g->db(static_cast<Place>(p)) != nullptr) hs_alloc_scratch(g->db(static_cast<Place>(p)), &scratch_);
      }
    }
  }
  cur_ = slot;
  return true;
}

void Classifier::start_flow(std::uint32_t flow) noexcept {
  FlowClass& s = state_[flow];
  s = FlowClass{};
  s.gen = cur_;
  ++live_[cur_];
  meta_[flow] = FlowMeta{};
}

void Classifier::close_stream(std::uint32_t flow, int dir) noexcept {
  FlowClass& s = state_[flow];
  if (s.stream[dir] != nullptr) {
    MatchContext ctx{this, flow, dir, 0, nullptr, 0, s.scanned[dir], false};
    // Closing reports matches anchored at the end of data ($).
    hs_close_stream(s.stream[dir], scratch_, &Classifier::on_match, &ctx);
    s.stream[dir] = nullptr;
  }
  s.flags |= bit(kDone0, dir);
}

void Classifier::release_head(FlowClass& s) noexcept {
  if (s.head_slot != 0) {
    free_heads_.push_back(s.head_slot);
    s.head_slot = 0;
  }
}

void Classifier::end_flow(std::uint32_t flow) noexcept {
  FlowClass& s = state_[flow];
  // An extractor still waiting for bytes (a body that never completed) decides on what it has.
  if (s.head_slot != 0) {
    finishing_ = true;
    for (int dir = 0; dir < 2; ++dir) {
      if (s.head_len[dir] != 0) extract(flow, dir, s.server_port);
    }
    finishing_ = false;
  }
  close_stream(flow, 0);
  close_stream(flow, 1);
  release_head(s);
  // A key in a credential header is the agent's own only when it goes to an LLM API.
  if (s.credential_tags != 0 && s.class_id != llm_class_[s.gen]) s.tags |= s.credential_tags;
}

void Classifier::retire(std::uint32_t flow) noexcept {
  FlowClass& s = state_[flow];
  if (live_[s.gen] > 0) --live_[s.gen];
  if (s.gen != cur_ && live_[s.gen] == 0) gens_[s.gen].reset();
}

void Classifier::apply_rule(const MatchContext& c, unsigned rule, unsigned long long to) noexcept {
  const std::uint32_t flow = c.flow;
  const int dir = c.dir;
  const std::uint16_t server_port = c.server_port;
  FlowClass& s = state_[flow];
  const ClassDb& db = *gens_[s.gen];
  if (rule >= db.rule_count()) return;
  const RuleInfo& r = db.rule(rule);
  if (!r.ports.empty()) {
    bool ok = false;
    for (auto p : r.ports) ok = ok || p == server_port;
    if (!ok) return;
  }
  if (!r.is_tag) {
    const auto& classes = db.classes();
    if (s.class_id == kUnknownClass || classes[r.id].priority > classes[s.class_id].priority) {
      s.class_id = r.id;
      s.verdict_packet = s.payload_packets;
    }
    return;
  }
  const auto tag_bit = static_cast<std::uint16_t>(1u << r.id);
  if (s.tags & tag_bit) return;  // already tagged: later occurrences add nothing
  // Locate the token that ends at stream offset `to`: in the head buffer when it lies there
  // (contiguous from the stream start), else in this call's bytes.
  const std::uint8_t* buf = nullptr;
  std::size_t end = 0;
  if (c.field) {
    if (to <= c.len) buf = c.data, end = static_cast<std::size_t>(to);
  } else if (s.head_slot != 0 && to <= s.head_len[dir]) {
    buf = heads_ + (static_cast<std::size_t>(s.head_slot - 1) * 2 + dir) * cfg_.head_bytes;
    end = static_cast<std::size_t>(to);
  } else if (c.data != nullptr && to >= c.base && to - c.base <= c.len) {
    buf = c.data;
    end = static_cast<std::size_t>(to - c.base);
  }
  bool in_credential_header = false;
  std::uint32_t hash = 0;
  if (buf != nullptr) {
    std::size_t start = end;
    while (start > 0 && end - start < 512 && token_char(buf[start - 1])) --start;
    hash = static_cast<std::uint32_t>(XXH3_64bits(buf + start, end - start));
    if (r.credential) {
      std::size_t line = start;
      while (line > 0 && start - line < 512 && buf[line - 1] != '\n') --line;
      const bool at_line_start = line == 0 || buf[line - 1] == '\n';
      const std::size_t n = end - line;
      in_credential_header = at_line_start && (starts_with_ci(buf + line, n, "authorization:") ||
                                               starts_with_ci(buf + line, n, "x-api-key:") ||
                                               starts_with_ci(buf + line, n, "x-goog-api-key:"));
    }
  }
  if (in_credential_header) {
    s.credential_tags |= tag_bit;
  } else {
    s.tags |= tag_bit;
  }
  FlowMeta& m = meta_[flow];
  for (auto& sec : m.secrets) {
    if (sec.kind == r.kind) break;  // one entry per kind: its first occurrence
    if (sec.kind == 0xff) {
      sec.kind = r.kind;
      sec.hash = hash;
      break;
    }
  }
}

int Classifier::on_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void* ctx) noexcept {
  auto* c = static_cast<MatchContext*>(ctx);
  c->self->apply_rule(*c, id, to);
  return 0;  // keep scanning: several rules may match
}

void Classifier::scan(std::uint32_t flow, int dir, std::uint16_t server_port, const std::uint8_t* data,
                      std::uint32_t len) noexcept {
  FlowClass& s = state_[flow];
  const ClassDb& db = *gens_[s.gen];
  const hs_database_t* hdb = db.db(dir == 0 ? Place::kC2s : Place::kS2c);
  if (hdb == nullptr || len == 0) return;
  if (s.stream[dir] == nullptr) {
    if (hs_open_stream(hdb, 0, &s.stream[dir]) != HS_SUCCESS) {
      ++counters_.scan_errors;
      s.flags |= bit(kDone0, dir);
      return;
    }
    ++counters_.streams_opened;
  }
  MatchContext ctx{this, flow, dir, server_port, data, len, s.scanned[dir], false};
  if (hs_scan_stream(s.stream[dir], reinterpret_cast<const char*>(data), len, 0, scratch_, &Classifier::on_match,
                     &ctx) != HS_SUCCESS)
    ++counters_.scan_errors;
  counters_.bytes_scanned += len;
}

void Classifier::scan_field(std::uint32_t flow, Place place, std::uint16_t server_port, std::string_view value) noexcept {
  const hs_database_t* hdb = gens_[state_[flow].gen]->db(place);
  if (hdb == nullptr || value.empty()) return;
  MatchContext ctx{this, flow, 0, server_port, reinterpret_cast<const std::uint8_t*>(value.data()),
                   static_cast<std::uint32_t>(value.size()), 0, true};
  hs_scan(hdb, value.data(), static_cast<unsigned>(value.size()), 0, scratch_, &Classifier::on_match, &ctx);
}

// Masks, in a field kept for the report, every token that a rule of the "secret" tag matches:
// the report may show where a credential went, never the credential.
void Classifier::redact_secrets(std::uint32_t flow, char* text, std::uint16_t len) noexcept {
  const ClassDb& db = *gens_[state_[flow].gen];
  const hs_database_t* hdb = db.db(Place::kC2s);
  const int secret = db.tag_id("secret");
  if (hdb == nullptr || secret < 0 || len == 0) return;
  // Every credential kind is a run of at least 16 token characters; most paths have none.
  std::uint16_t run = 0, longest = 0;
  for (std::uint16_t i = 0; i < len; ++i) {
    run = token_char(static_cast<std::uint8_t>(text[i])) && text[i] != '/' ? static_cast<std::uint16_t>(run + 1) : 0;
    longest = std::max(longest, run);
  }
  if (longest < 16) return;
  struct Ctx {
    const ClassDb* db;
    int secret;
    char* text;
    std::uint16_t len;
  } ctx{&db, secret, text, len};
  hs_stream_t* st = nullptr;
  if (hs_open_stream(hdb, 0, &st) != HS_SUCCESS) return;
  const auto mask = [](unsigned id, unsigned long long, unsigned long long to, unsigned, void* c) -> int {
    auto* x = static_cast<Ctx*>(c);
    if (id >= x->db->rule_count()) return 0;
    const RuleInfo& r = x->db->rule(id);
    if (!r.is_tag || r.id != x->secret || to > x->len) return 0;
    for (auto i = static_cast<std::size_t>(to); i > 0 && token_char(static_cast<std::uint8_t>(x->text[i - 1])); --i)
      x->text[i - 1] = '*';
    return 0;
  };
  hs_scan_stream(st, text, len, 0, scratch_, mask, &ctx);
  hs_close_stream(st, scratch_, mask, &ctx);
}

// The fields an HTTP/1.x or HTTP/2 request shares: kept for the report (its path with any
// secret masked) and matched by the path and host rules.
void Classifier::record_request(std::uint32_t flow, std::uint16_t server_port, std::string_view method,
                                std::string_view path, std::string_view host) noexcept {
  FlowMeta& m = meta_[flow];
  m.http_method.assign(method);
  m.path.assign(path);
  m.host.assign(host);
  scan_field(flow, Place::kPath, server_port, path);
  scan_field(flow, Place::kHost, server_port, host);
  redact_secrets(flow, m.path.data, m.path.len);
}

// Runs the extractor that fits the head of a direction, once it has enough bytes; fields it finds
// are matched against the field databases and kept for the report.
void Classifier::extract(std::uint32_t flow, int dir, std::uint16_t server_port) noexcept {
  FlowClass& s = state_[flow];
  if (s.flags & bit(kExtracted0, dir)) return;
  const std::uint8_t* h = heads_ + (static_cast<std::size_t>(s.head_slot - 1) * 2 + dir) * cfg_.head_bytes;
  const std::size_t n = s.head_len[dir];
  const bool head_full = n >= cfg_.head_bytes || finishing_;
  FlowMeta& m = meta_[flow];
  Extract r = Extract::kNo;
  if (dir == 0 && (server_port == 53 || server_port == 5353 || server_port == 5355)) {
    // DNS: over TCP the message follows a 2-byte length (RFC 7766).
    const bool udp = s.flags & kUdp;
    const std::size_t msg_len = udp ? n : (n >= 2 ? (static_cast<std::size_t>(h[0]) << 8 | h[1]) : 0);
    FixedString<256> qname;
    if (!udp && (n < 2 || n - 2 < msg_len)) {
      r = Extract::kNeedMore;  // the TCP message is still arriving
    } else {
      r = parse_dns_query(h + (udp ? 0 : 2), msg_len, qname);
    }
    if (r == Extract::kOk) {
      m.host.assign(qname.view());
      scan_field(flow, Place::kDnsName, server_port, qname.view());
    }
  } else if (dir == 0 && h[0] == 0x16) {
    TlsClientHello hello;
    r = parse_client_hello(h, n, hello);
    if (r == Extract::kOk) {
      m.sni.assign(hello.sni.view());
      scan_field(flow, Place::kSni, server_port, m.sni.view());
    }
    if (r != Extract::kNeedMore || head_full) s.flags |= kEncrypted;  // TLS: ciphertext follows
  } else if (dir == 0 && n >= 4 && std::memcmp(h, "PRI ", 4) == 0) {
    H2Request req;
    r = parse_h2_request(h, n, req);
    if (r == Extract::kOk) {
      scan_field(flow, Place::kH2Path, server_port, req.path.view());
      scan_field(flow, Place::kH2ContentType, server_port, req.content_type.view());
      record_request(flow, server_port, req.method.view(), req.path.view(), req.authority.view());
    }
  } else if (n >= 4 && std::memcmp(h, "SSH-", 4) == 0) {
    s.flags |= kEncrypted;  // the banners are all an inspector may read of SSH
    r = Extract::kOk;
  } else if (dir == 0) {
    if (s.body_offset == 0) {
      HttpRequest req;
      r = parse_http_request(h, n, req);
      if (r == Extract::kOk) {
        scan_field(flow, Place::kMethod, server_port, req.method.view());
        scan_field(flow, Place::kContentType, server_port, req.content_type.view());
        record_request(flow, server_port, req.method.view(), req.target.view(), req.host.view());
        // JSON-RPC rides in JSON bodies (MCP and A2A require application/json): keep where this
        // body starts and wait for it, without parsing the head again; another body is done.
        if (req.content_type.view().find("json") != std::string_view::npos &&
            (req.chunked || req.content_length > 0) && req.body_offset < cfg_.head_bytes) {
          s.body_offset = static_cast<std::uint16_t>(req.body_offset);
          s.body_length = req.chunked ? -2 : static_cast<std::int32_t>(std::min<std::int64_t>(req.content_length, 1 << 30));
        }
      }
    }
    if (s.body_offset != 0) {
      const std::size_t off = s.body_offset;
      const std::string_view body(reinterpret_cast<const char*>(h) + off, n > off ? n - off : 0);
      // Without chunking the extractor cannot see where the body ends: once all of it is here,
      // "need more" means there is no method. Until then, wait rather than search again.
      const bool body_complete = s.body_length == -2
                                     ? body.size() >= 5 && body.substr(body.size() - 5) == "0\r\n\r\n"
                                     : body.size() >= static_cast<std::size_t>(s.body_length);
      if (!body_complete && !head_full) return;
      JsonRpcCall call;
      // A literal search for the member name spares most bodies the JSON parser.
      if (body.find("\"method\"") != std::string_view::npos &&
          find_jsonrpc_method(h + off, body.size(), s.body_length == -2, call) == Extract::kOk) {
        m.rpc_method.assign(call.method.view());
        scan_field(flow, Place::kJsonRpcMethod, server_port, call.method.view());
      }
      s.body_offset = 0;
      r = Extract::kOk;
    }
  } else if (gens_[s.gen]->db(Place::kResponseContentType) != nullptr) {
    // The response head is read only when some rule looks at it.
    HttpResponse resp;
    r = parse_http_response(h, n, resp);
    if (r == Extract::kOk) scan_field(flow, Place::kResponseContentType, server_port, resp.content_type.view());
  }
  if (r == Extract::kNeedMore && !head_full) return;
  s.flags |= bit(kExtracted0, dir);
}

void Classifier::on_packet(std::uint32_t flow, bool from_client, std::uint16_t server_port,
                           const packet::ParsedPacket& p, const std::uint8_t* frame, std::uint32_t frame_len) noexcept {
  FlowClass& s = state_[flow];
  const int dir = from_client ? 0 : 1;
  if (s.flags & bit(kDone0, dir)) return;
  if (p.payload_len == 0 || p.payload_offset >= frame_len) return;
  const std::uint8_t* data = frame + p.payload_offset;
  std::uint32_t len = std::min(p.payload_len, frame_len - p.payload_offset);

  if (p.l4_proto == packet::kProtoTcp) {
    if (!(s.flags & bit(kSeqKnown0, dir))) {
      s.next_seq[dir] = p.tcp_seq;
      s.flags |= bit(kSeqKnown0, dir);
    }
    const auto ahead = static_cast<std::int32_t>(p.tcp_seq - s.next_seq[dir]);
    if (ahead > 0) {
      ++counters_.gaps;  // a lost or reordered segment: this direction's inspection ends here
      close_stream(flow, dir);
      s.flags |= bit(kExtracted0, dir);
      return;
    }
    if (ahead < 0) {
      const auto seen = static_cast<std::uint32_t>(-static_cast<std::int64_t>(ahead));
      if (seen >= len) return;  // a retransmission of bytes already scanned
      data += seen;
      len -= seen;
    }
    s.next_seq[dir] += len;
  }
  if (p.l4_proto == packet::kProtoUdp) s.flags |= kUdp;
  s.server_port = server_port;
  if (s.payload_packets < 255) ++s.payload_packets;

  const std::uint32_t n = std::min<std::uint32_t>(len, cfg_.inspect_depth - s.scanned[dir]);
  // Keep the head of each direction for the extractors until both have finished.
  if (!(s.flags & bit(kExtracted0, dir))) {
    if (s.head_slot == 0 && (s.flags & (kExtracted0 | kExtracted1)) == 0) {
      if (free_heads_.empty()) {
        ++counters_.head_pool_exhausted;
        s.flags |= kExtracted0 | kExtracted1;
      } else {
        s.head_slot = free_heads_.back();
        free_heads_.pop_back();
      }
    }
    if (s.head_slot != 0 && s.head_len[dir] < cfg_.head_bytes) {
      std::uint8_t* h = heads_ + (static_cast<std::size_t>(s.head_slot - 1) * 2 + dir) * cfg_.head_bytes;
      const std::uint32_t c = std::min<std::uint32_t>(len, cfg_.head_bytes - s.head_len[dir]);
      std::memcpy(h + s.head_len[dir], data, c);
      s.head_len[dir] = static_cast<std::uint16_t>(s.head_len[dir] + c);
    }
  }
  // Stream rules first: they see the bytes before the head is released below.
  scan(flow, dir, server_port, data, n);
  s.scanned[dir] = static_cast<std::uint16_t>(s.scanned[dir] + n);
  if (s.head_slot != 0) extract(flow, dir, server_port);

  if ((s.flags & (kExtracted0 | kExtracted1)) == (kExtracted0 | kExtracted1) || (s.flags & kEncrypted))
    release_head(s);
  if (s.flags & kEncrypted) {
    // Nothing after a TLS ClientHello or the SSH banners can match; stop each direction once it
    // has shown its first bytes (the server's name the protocol too).
    if (s.scanned[0] != 0) close_stream(flow, 0);
    if (s.scanned[1] != 0) close_stream(flow, 1);
  }
  if (s.scanned[dir] >= cfg_.inspect_depth) close_stream(flow, dir);
}

}  // namespace tcpr::classify
