// bench_classify.cpp — payload scan throughput, per core, of the compiled class database
// (config/classes.toml) on real flow payloads, against bare Hyperscan over the same bytes.
//
// Corpus: the flows of a tcp-routegen capture (tests/data/routegen_small.pcap, or the file named
// by the environment variable TCPR_BENCH_CAPTURE), read with libpcap, parsed with
// tcpr::packet::parse and grouped by FlowKey; the client (the sender of a flow's first packet) →
// server and server → client TCP/UDP payload of each flow, at most `inspect_depth` (4096) bytes
// per direction, kept segment by segment as on the wire: the frames are copied into one arena in
// capture order, the last segment of a direction trimmed at the depth. A TCP segment that is not
// the next in sequence (a retransmission or a gap) ends its direction's corpus — that is what the
// classifier does with it too — and is counted (`out_of_seq` in the setup line); with it, both
// benchmarks see exactly the same bytes.
//
//  * BM_ClassifyPath — Classifier::start_flow, on_packet for every segment, end_flow, retire, for
//    each flow in turn, with the flow's index in a table sized to the corpus (as a worker does:
//    streaming scan, head buffer, extractors, field scans, match handling).
//  * BM_BareHyperscan — the same segments through the same c2s/s2c streaming databases
//    (ClassDb::db(Place::kC2s / kS2c)): hs_open_stream on a direction's first segment,
//    hs_scan_stream per segment with a callback that does nothing, hs_close_stream at the end of
//    the flow. The classifier's stream allocator (a per-thread pool) is installed before either
//    runs, so both allocate stream state alike.
//  * BM_ClassifyOverBare — one pass of each per iteration, alternating, each timed on its own:
//    `ratio` = bare time / classify time = classify bytes/s over bare bytes/s, measured
//    side by side so that noise from other load on a shared core hits both alike.
//
// Counters: bytes_per_second (corpus payload bytes: the same count for both), per_flow (time per
// flow), and for the classify path `scanned` — the fraction of the corpus bytes the classifier
// actually ran through Hyperscan streams (it stops a direction after a TLS ClientHello or the SSH
// banners, bytes that the bare baseline still scans). Target: ratio >= 0.7.
#include <benchmark/benchmark.h>
#include <hs/hs.h>
#include <pcap/pcap.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tcpr/classify/class_db.hpp"
#include "tcpr/classify/classifier.hpp"
#include "tcpr/packet/flow_key.hpp"
#include "tcpr/packet/parser.hpp"

namespace tcpr::bench {
namespace {

struct Segment {
  std::size_t frame = 0;            // offset of the frame in Corpus::arena
  std::uint32_t frame_len = 0;      // bytes stored (the frame up to the end of the kept payload)
  packet::ParsedPacket p;           // payload_len trimmed to the kept bytes
  bool from_client = false;
  std::uint16_t server_port = 0;
};

struct CorpusFlow {
  std::vector<Segment> segs;        // in capture order
};

struct Corpus {
  std::string source;
  std::string error;
  std::vector<std::uint8_t> arena;
  std::vector<CorpusFlow> flows;
  std::uint64_t bytes = 0;          // payload bytes in all segments
  std::uint64_t bytes_dir[2] = {};  // c2s, s2c
  std::uint64_t segments = 0;
  std::uint64_t packets_read = 0;
  std::uint64_t out_of_seq = 0;     // TCP segments that ended their direction's corpus
  std::uint64_t parse_drops = 0;

  const std::uint8_t* frame(const Segment& s) const { return arena.data() + s.frame; }
  const std::uint8_t* payload(const Segment& s) const { return frame(s) + s.p.payload_offset; }
};

struct KeyHash {
  std::size_t operator()(const packet::FlowKey& k) const noexcept { return packet::hash(k); }
};

struct Building {
  std::uint32_t index = 0;
  packet::Side client = packet::Side::kA;
  std::uint16_t server_port = 0;
  bool seq_known[2] = {};
  bool ended[2] = {};
  std::uint32_t next_seq[2] = {};
  std::uint32_t kept[2] = {};
};

Corpus build_corpus(const std::string& path, std::uint32_t depth) {
  Corpus c;
  c.source = path;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_open_offline(path.c_str(), errbuf);
  if (pc == nullptr) {
    c.error = path + ": " + errbuf;
    return c;
  }
  if (pcap_datalink(pc) != DLT_EN10MB) {
    c.error = path + ": not an Ethernet capture";
    pcap_close(pc);
    return c;
  }
  std::unordered_map<packet::FlowKey, Building, KeyHash> flows;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc;
  while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1) {
    ++c.packets_read;
    packet::PacketView v{data, hdr->caplen, hdr->len, 0, 0};
    packet::ParsedPacket p;
    if (packet::parse(v, p) != TCPR_DROP_NONE) {
      ++c.parse_drops;
      continue;
    }
    packet::FlowKey key;
    packet::Side sender;
    if (!packet::key_for(p, key, sender)) continue;
    auto [it, fresh] = flows.try_emplace(key);
    Building& b = it->second;
    if (fresh) {  // the first packet's sender is the client, as in the flow table
      b.index = static_cast<std::uint32_t>(c.flows.size());
      b.client = sender;
      b.server_port = sender == packet::Side::kA ? key.port_b : key.port_a;
      c.flows.emplace_back();
    }
    if (p.l4_proto != packet::kProtoTcp && p.l4_proto != packet::kProtoUdp) continue;
    if (p.payload_len == 0 || p.payload_offset >= hdr->caplen) continue;
    const int dir = sender == b.client ? 0 : 1;
    if (b.ended[dir] || b.kept[dir] >= depth) continue;
    std::uint32_t len = std::min(p.payload_len, hdr->caplen - p.payload_offset);
    if (p.l4_proto == packet::kProtoTcp) {
      if (!b.seq_known[dir]) {
        b.seq_known[dir] = true;
        b.next_seq[dir] = p.tcp_seq;
      }
      if (p.tcp_seq != b.next_seq[dir]) {
        ++c.out_of_seq;
        b.ended[dir] = true;
        continue;
      }
      b.next_seq[dir] += len;
    }
    len = std::min(len, depth - b.kept[dir]);
    b.kept[dir] += len;
    p.payload_len = len;
    Segment s;
    s.frame = c.arena.size();
    s.frame_len = p.payload_offset + len;
    s.p = p;
    s.from_client = dir == 0;
    s.server_port = b.server_port;
    c.arena.insert(c.arena.end(), data, data + s.frame_len);
    c.flows[b.index].segs.push_back(s);
    c.bytes += len;
    c.bytes_dir[dir] += len;
    ++c.segments;
  }
  if (rc == PCAP_ERROR) c.error = path + ": " + pcap_geterr(pc);
  pcap_close(pc);
  if (c.error.empty() && c.bytes == 0) c.error = path + ": no TCP/UDP payload in the capture";
  // Flows without payload (bare handshakes, ICMP) cost a start/end in the classify path and
  // nothing in the bare one; they are kept, as a worker sees them.
  return c;
}

struct Setup {
  std::string error;
  Corpus corpus;
  std::shared_ptr<const classify::ClassDb> db;
  std::unique_ptr<classify::Classifier> cls;
  hs_scratch_t* scratch = nullptr;   // bare baseline's
};

const Setup& setup() {
  static Setup* s = [] {
    auto* st = new Setup;
    auto db = classify::ClassDb::load(TCPR_SOURCE_DIR "/config/classes.toml");
    if (!db) {
      st->error = "config/classes.toml: " + db.error();
      return st;
    }
    st->db = db.value();
    if (st->db->db(classify::Place::kC2s) == nullptr || st->db->db(classify::Place::kS2c) == nullptr) {
      st->error = "config/classes.toml has no c2s or no s2c stream rules";
      return st;
    }
    const char* env = std::getenv("TCPR_BENCH_CAPTURE");
    const std::string path = env != nullptr && *env != '\0' ? env : TCPR_SOURCE_DIR "/tests/data/routegen_small.pcap";
    classify::ClassifyConfig cfg;  // inspect_depth 4096, the dataplane's defaults
    st->corpus = build_corpus(path, cfg.inspect_depth);
    if (!st->corpus.error.empty()) {
      st->error = st->corpus.error;
      return st;
    }
    // Constructing the classifier installs its stream allocator for the whole process: the bare
    // baseline allocates its streams from the same pool.
    st->cls = std::make_unique<classify::Classifier>(cfg, static_cast<std::uint32_t>(st->corpus.flows.size()), st->db);
    if (hs_clone_scratch(st->db->prototype_scratch(), &st->scratch) != HS_SUCCESS) {
      st->error = "hs_clone_scratch failed";
      return st;
    }
    const Corpus& c = st->corpus;
    std::fprintf(stderr,
                 "bench_classify corpus: %s: %llu packets, %zu flows, %llu segments, %llu payload bytes "
                 "(c2s %llu, s2c %llu), out_of_seq %llu, parse drops %llu\n",
                 c.source.c_str(), static_cast<unsigned long long>(c.packets_read), c.flows.size(),
                 static_cast<unsigned long long>(c.segments), static_cast<unsigned long long>(c.bytes),
                 static_cast<unsigned long long>(c.bytes_dir[0]), static_cast<unsigned long long>(c.bytes_dir[1]),
                 static_cast<unsigned long long>(c.out_of_seq), static_cast<unsigned long long>(c.parse_drops));
    return st;
  }();
  return *s;
}

// One classify pass over the corpus, flow by flow, as a worker's flow table would drive it.
void classify_pass(const Corpus& c, classify::Classifier& cls) {
  for (std::uint32_t i = 0; i < c.flows.size(); ++i) {
    cls.start_flow(i);
    for (const Segment& s : c.flows[i].segs)
      cls.on_packet(i, s.from_client, s.server_port, s.p, c.frame(s), s.frame_len);
    cls.end_flow(i);
    benchmark::DoNotOptimize(cls.state(i).class_id);
    cls.retire(i);
  }
}

int noop_match(unsigned, unsigned long long, unsigned long long, unsigned, void*) { return 0; }

// One bare pass; returns false when Hyperscan reports an error.
bool bare_pass(const Corpus& c, const hs_database_t* const dbs[2], hs_scratch_t* scratch) {
  bool ok = true;
  for (const CorpusFlow& f : c.flows) {
    hs_stream_t* st[2] = {nullptr, nullptr};
    for (const Segment& s : f.segs) {
      const int dir = s.from_client ? 0 : 1;
      if (st[dir] == nullptr && hs_open_stream(dbs[dir], 0, &st[dir]) != HS_SUCCESS) {
        ok = false;
        break;
      }
      ok &= hs_scan_stream(st[dir], reinterpret_cast<const char*>(c.payload(s)), s.p.payload_len, 0, scratch,
                           noop_match, nullptr) == HS_SUCCESS;
    }
    for (hs_stream_t* x : st)
      if (x != nullptr) ok &= hs_close_stream(x, scratch, noop_match, nullptr) == HS_SUCCESS;
  }
  return ok;
}

void set_counters(benchmark::State& state, const Corpus& c) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(c.bytes));
  // Seconds per flow (printed with an SI prefix: "5.9us" is 5900 ns), like bench_common's per_pkt.
  state.counters["per_flow"] = benchmark::Counter(static_cast<double>(c.flows.size()),
                                                  benchmark::Counter::kIsIterationInvariantRate |
                                                      benchmark::Counter::kInvert);
}

void BM_ClassifyPath(benchmark::State& state) {
  const Setup& s = setup();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  classify::Classifier& cls = *s.cls;
  const auto before = cls.counters();
  for (auto _ : state) classify_pass(s.corpus, cls);
  const auto& after = cls.counters();
  if (after.scan_errors != before.scan_errors || after.gaps != before.gaps ||
      after.head_pool_exhausted != before.head_pool_exhausted) {
    state.SkipWithError("classifier counted scan errors, gaps or head-pool exhaustion on an in-order corpus");
    return;
  }
  set_counters(state, s.corpus);
  state.counters["scanned"] = static_cast<double>(after.bytes_scanned - before.bytes_scanned) /
                              (static_cast<double>(state.iterations()) * static_cast<double>(s.corpus.bytes));
}

void BM_BareHyperscan(benchmark::State& state) {
  const Setup& s = setup();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  const hs_database_t* dbs[2] = {s.db->db(classify::Place::kC2s), s.db->db(classify::Place::kS2c)};
  bool ok = true;
  for (auto _ : state) ok &= bare_pass(s.corpus, dbs, s.scratch);
  if (!ok) {
    state.SkipWithError("Hyperscan returned an error");
    return;
  }
  set_counters(state, s.corpus);
}

void BM_ClassifyOverBare(benchmark::State& state) {
  const Setup& s = setup();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  const hs_database_t* dbs[2] = {s.db->db(classify::Place::kC2s), s.db->db(classify::Place::kS2c)};
  using clock = std::chrono::steady_clock;
  clock::duration t_cls{}, t_bare{};
  bool ok = true;
  for (auto _ : state) {
    const auto t0 = clock::now();
    classify_pass(s.corpus, *s.cls);
    const auto t1 = clock::now();
    ok &= bare_pass(s.corpus, dbs, s.scratch);
    t_bare += clock::now() - t1;
    t_cls += t1 - t0;
  }
  if (!ok || s.cls->counters().scan_errors != 0) {
    state.SkipWithError("Hyperscan returned an error");
    return;
  }
  const double n = static_cast<double>(state.iterations()) * static_cast<double>(s.corpus.bytes);
  const double cls_s = std::chrono::duration<double>(t_cls).count();
  const double bare_s = std::chrono::duration<double>(t_bare).count();
  // Bytes per second, printed with binary prefixes as bytes_per_second is.
  state.counters["classify_bytes_per_second"] =
      benchmark::Counter(n / cls_s, benchmark::Counter::kDefaults, benchmark::Counter::OneK::kIs1024);
  state.counters["bare_bytes_per_second"] =
      benchmark::Counter(n / bare_s, benchmark::Counter::kDefaults, benchmark::Counter::OneK::kIs1024);
  state.counters["ratio"] = bare_s / cls_s;
}

BENCHMARK(BM_ClassifyPath);
BENCHMARK(BM_BareHyperscan);
BENCHMARK(BM_ClassifyOverBare);

}  // namespace
}  // namespace tcpr::bench
