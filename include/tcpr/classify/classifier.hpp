// classifier.hpp — the classify stage of a worker: what each flow carries.
//
// Input: a flow (its index in the worker's flow table), a parsed packet with payload, and the
// direction. Output, per flow: a content class (ClassDb::classes()), risk tags (bit per tag), and
// fields for the report (sni, host, method, path) — in FlowClass/FlowMeta arrays parallel to the
// flow table, so the flow entry itself stays at 128 bytes.
//
// How: each direction's first `inspect_depth` payload bytes go through the ClassDb's streaming
// Hyperscan database in TCP sequence order (a pattern split across segments still matches); the
// first `head_bytes` of each direction are also kept in a pooled head buffer so that extractors
// (TLS ClientHello, HTTP head, JSON-RPC body, HTTP/2 HEADERS) can run on contiguous bytes, and
// their fields are matched by the field databases. Highest class priority wins.
//
// Out-of-order TCP: a segment beyond the next expected byte is a gap: inspection of that
// direction ends there, counted (`gaps`), with the verdict of what was seen; data before the
// next expected byte (a retransmission) is not scanned twice. Scanning on after the hole could
// join bytes that were never adjacent into a false match, and a reorder buffer would cost memory
// per flow for a case rare in the first few KiB of a connection on the agents' own segment.
//
// A direction's stream is closed — its memory back in the worker's pool — when it reaches the
// depth, when the flow turns out to be encrypted (a TLS ClientHello, an SSH banner), or when the
// flow ends. Later packets cost a flag test. Nothing allocates per packet: stream state comes
// from a per-thread pool set as Hyperscan's stream allocator, head buffers from a fixed pool.
//
// Secrets: reported as a tag, a kind and a short hash, never the bytes; a secret inside a field
// kept for the report (a URL query) is masked with '*' there. A secret rule marked
// `credential` that matches inside an Authorization / x-api-key / x-goog-api-key header line is
// the agent's own API key when the flow's class is llm.api, and is not tagged then.
//
// Counters: payload bytes scanned, gaps, head-pool exhaustion, flows per class at the end.
// Config: classify.inspect_depth (default 4096), classify.head_bytes, classify.head_slots.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tcpr/classify/class_db.hpp"
#include "tcpr/classify/extract.hpp"
#include "tcpr/packet/flow_key.hpp"

struct hs_stream;

namespace tcpr::classify {

struct ClassifyConfig {
  std::uint32_t inspect_depth = 4096;  // bytes per direction scanned at most (<= 65535)
  std::uint32_t head_bytes = 2048;     // bytes per direction kept for extractors (<= inspect_depth)
  std::uint32_t head_slots = 16384;    // flows under extraction at once per worker
};

struct SecretSeen {
  std::uint8_t kind = 0xff;            // ClassDb::kinds() index; 0xff: none
  std::uint32_t hash = 0;              // XXH3 of the token, truncated: correlates, reveals nothing
};

// The report fields of a flow.
struct FlowMeta {
  FixedString<128> sni;
  FixedString<128> host;
  FixedString<16> http_method;
  FixedString<64> rpc_method;
  FixedString<192> path;
  SecretSeen secrets[2];
};

struct FlowClass {
  hs_stream* stream[2] = {};           // by direction: 0 client->server, 1 server->client
  std::uint32_t next_seq[2] = {};
  std::uint16_t scanned[2] = {};
  std::uint32_t head_slot = 0;         // index + 1 into the head pool; 0: none
  std::uint16_t head_len[2] = {};
  std::uint16_t tags = 0;              // bit per tag id
  std::uint16_t credential_tags = 0;   // tags seen only in credential headers
  std::uint8_t class_id = kUnknownClass;
  std::uint8_t payload_packets = 0;    // saturating
  std::uint8_t verdict_packet = 0;     // payload packets seen when the class last changed
  std::uint8_t flags = 0;
  std::uint8_t gen = 0;                // database generation the flow is inspected with
  std::uint16_t server_port = 0;
  std::uint16_t body_offset = 0;       // a parsed request head awaiting its JSON body; 0: none
  std::int32_t body_length = 0;        // its Content-Length; -1 unknown, -2 chunked
};

struct ClassifyCounters {
  std::uint64_t bytes_scanned = 0;
  std::uint64_t gaps = 0;
  std::uint64_t head_pool_exhausted = 0;
  std::uint64_t streams_opened = 0;
  std::uint64_t scan_errors = 0;
  std::uint64_t reload_deferred = 0;   // bursts a new database waited for a free generation
};

class Classifier {
 public:
  Classifier(const ClassifyConfig& cfg, std::uint32_t flow_capacity, std::shared_ptr<const ClassDb> db);
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // A new database (reload): new flows use it; every flow is classified wholly by the database it
  // started with, so up to kGenerations are live at once. Returns false, taking nothing, when all
  // generations still hold flows: the caller keeps the database and offers it again later (new
  // flows meanwhile use the current one), so no flow is ever cut short by a reload.
  bool set_db(std::shared_ptr<const ClassDb>& db);
  const ClassDb& db() const noexcept { return *gens_[cur_]; }
  // The database a flow was classified with (its class ids and tag bits refer to it).
  const ClassDb& db_of(std::uint32_t flow) const noexcept { return *gens_[state_[flow].gen]; }
  static constexpr unsigned kGenerations = 4;

  void start_flow(std::uint32_t flow) noexcept;
  // `from_client`: the packet was sent by the flow's client.
  void on_packet(std::uint32_t flow, bool from_client, std::uint16_t server_port, const packet::ParsedPacket& p,
                 const std::uint8_t* frame, std::uint32_t frame_len) noexcept;
  // Ends inspection (flow removed): closes streams, settles credential-header secrets. The
  // verdict stays readable (state, meta, db_of) until retire().
  void end_flow(std::uint32_t flow) noexcept;
  void retire(std::uint32_t flow) noexcept;

  const FlowClass& state(std::uint32_t flow) const noexcept { return state_[flow]; }
  const FlowMeta& meta(std::uint32_t flow) const noexcept { return meta_[flow]; }
  const ClassifyCounters& counters() const noexcept { return counters_; }

  struct MatchContext;  // Hyperscan callback context (classifier.cpp)

 private:
  void scan(std::uint32_t flow, int dir, std::uint16_t server_port, const std::uint8_t* data, std::uint32_t len) noexcept;
  void scan_field(std::uint32_t flow, Place place, std::uint16_t server_port, std::string_view value) noexcept;
  void extract(std::uint32_t flow, int dir, std::uint16_t server_port) noexcept;
  void close_stream(std::uint32_t flow, int dir) noexcept;
  void redact_secrets(std::uint32_t flow, char* text, std::uint16_t len) noexcept;
  void record_request(std::uint32_t flow, std::uint16_t server_port, std::string_view method, std::string_view path,
                      std::string_view host) noexcept;
  void release_head(FlowClass& s) noexcept;
  static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void* ctx) noexcept;
  void apply_rule(const MatchContext& c, unsigned rule, unsigned long long to) noexcept;

  ClassifyConfig cfg_;
  bool finishing_ = false;             // end_flow: extractors take what they have as final
  std::shared_ptr<const ClassDb> gens_[kGenerations];
  std::uint32_t live_[kGenerations] = {};   // flows inspected with each generation
  std::uint8_t cur_ = 0;
  int llm_class_[kGenerations] = {-1, -1, -1, -1};
  hs_scratch* scratch_ = nullptr;
  std::vector<FlowClass> state_;
  FlowMeta* meta_ = nullptr;           // calloc'd: pages are touched only by flows that use them
  std::uint8_t* heads_ = nullptr;      // head_slots * 2 * head_bytes, calloc'd
  std::vector<std::uint32_t> free_heads_;
  ClassifyCounters counters_;
};

}  // namespace tcpr::classify
