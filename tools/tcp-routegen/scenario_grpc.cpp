// scenario_grpc.cpp — grpc: gRPC over cleartext HTTP/2 with prior knowledge (h2c), port 50051
// (or 9090), as grpc-go, grpc-python (C core), grpc-java and grpc-node clients do.
//
// client  preface, SETTINGS (push off, 4 MiB initial window), a connection WINDOW_UPDATE
// server  SETTINGS, SETTINGS ACK;   client  SETTINGS ACK with its first call
// each call (streams 1, 3, 5): HEADERS (:method POST, :scheme http, :path /pkg.Service/Method,
//         :authority, content-type application/grpc, te trailers, user-agent, …; HPACK with
//         Huffman-coded strings), DATA with one Length-Prefixed-Message and END_STREAM; the
//         server's HEADERS (:status 200, content-type), DATA (one message, or a server stream of
//         several over time), trailers HEADERS with grpc-status and END_STREAM — or, for a
//         failing call, one trailers-only HEADERS (grpc-status 5, grpc-message).
// end     sometimes a PING and its ACK; the client's GOAWAY (NO_ERROR), then it closes.
// Label: class grpc, method POST, path and host from the first call's :path and :authority.
#include <fmt/format.h>

#include "h2_wire.hpp"
#include "scenario_kinds.hpp"
#include "tcp_session.hpp"
#include "text_gen.hpp"

namespace tcpr::gen {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Method {
  std::string_view path;
  bool server_streaming;
};
constexpr Method kMethods[] = {
    {"/inventory.v1.InventoryService/GetItem", false},
    {"/inventory.v1.InventoryService/ListItems", true},
    {"/search.v1.SearchService/Query", false},
    {"/jobs.v1.Scheduler/CreateJob", false},
    {"/jobs.v1.Scheduler/WatchJobs", true},
    {"/grpc.health.v1.Health/Check", false},
    {"/vectorstore.v1.VectorStore/Upsert", false},
};
constexpr std::string_view kUserAgents[] = {"grpc-go/1.64.0",
                                            "grpc-python/1.62.1 grpc-c/39.0.0 (linux; chttp2)",
                                            "grpc-java-netty/1.63.0", "grpc-node-js/1.10.8"};

// A request or response message: an id, free text, a count, a few nested records.
std::string pb_message(Rng& rng, std::size_t approx) {
  std::string out;
  pb_bytes(out, 1, hex_id(rng, 8));
  pb_varint(out, 2, rng.below(100'000));
  pb_bytes(out, 3, words(rng, rng.between(8, 40)));
  while (out.size() < approx) {
    std::string record;
    pb_bytes(record, 1, "r-" + hex_id(rng, 6));
    pb_varint(record, 2, rng.below(1'000));
    pb_bytes(record, 3, words(rng, rng.between(20, 120)));
    pb_bytes(out, 4, record);
  }
  return out;
}

Bytes grpc_data(Rng& rng, std::size_t approx) {
  Bytes out;
  grpc_message(out, pb_message(rng, approx));
  return out;
}

class Grpc final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "grpc"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    return any_server(topology, rng, rng.chance(75) ? 50051 : 9090);
  }

  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    const Endpoint& server = conv.endpoint(Side::kServer);
    const std::string authority = fmt::format("{}:{}", server.name, server.port);
    const std::string_view user_agent = rng.pick(std::span<const std::string_view>(kUserAgents));
    const std::uint64_t calls = rng.between(1, 3);
    HpackEncoder client_hpack;
    HpackEncoder server_hpack;
    TcpSession tcp(conv, rng);
    tcp.connect();

    Bytes out;
    h2_preface(out);
    static constexpr H2Setting kClientSettings[] = {{0x2, 0}, {0x4, 4'194'304}, {0x6, 16'384}};
    h2_settings(out, kClientSettings);
    h2_window_update(out, 0, 4'128'769);
    conv.advance_us(rng.between(50, 400));
    tcp.send(Side::kClient, out);

    out.clear();
    static constexpr H2Setting kServerSettings[] = {{0x3, 100}, {0x4, 1'048'576}, {0x6, 16'384}};
    h2_settings(out, kServerSettings);
    h2_settings_ack(out);
    conv.advance_us(rng.between(20, 300));
    tcp.send(Side::kServer, out);

    for (std::uint64_t i = 0; i < calls; ++i) {
      const Method& method = rng.pick(std::span<const Method>(kMethods));
      const auto stream = static_cast<std::uint32_t>(2 * i + 1);
      if (i == 0) {
        Label& label = conv.label();
        label.content_class = "grpc", label.method = "POST";
        label.path = std::string(method.path), label.host = authority;
      }
      out.clear();
      if (i == 0) h2_settings_ack(out);
      const std::string timeout = fmt::format("{}m", rng.between(900, 30'000));
      std::vector<HeaderField> request{{":method", "POST"},
                                       {":scheme", "http"},
                                       {":path", method.path},
                                       {":authority", authority},
                                       {"content-type", "application/grpc"},
                                       {"user-agent", user_agent},
                                       {"te", "trailers"},
                                       {"grpc-accept-encoding", "identity, deflate, gzip"}};
      if (rng.chance(50)) request.push_back({"grpc-timeout", timeout});
      h2_headers(out, stream, client_hpack, request, false);
      h2_data(out, stream, grpc_data(rng, rng.log_uniform(20, 2'000)), true);
      conv.advance_us(rng.between(30, 400));
      tcp.send(Side::kClient, out);

      out.clear();
      const std::uint64_t work = rng.log_uniform(300, 60'000);
      if (rng.chance(8)) {  // trailers-only: the call fails before any message
        const HeaderField failed[] = {{":status", "200"},
                                      {"content-type", "application/grpc"},
                                      {"grpc-status", "5"},
                                      {"grpc-message", "item not found"}};
        h2_headers(out, stream, server_hpack, failed, true);
        conv.advance_us(work);
        tcp.send(Side::kServer, out);
        continue;
      }
      const HeaderField head[] = {{":status", "200"},
                                  {"content-type", "application/grpc"},
                                  {"grpc-accept-encoding", "identity, deflate, gzip"}};
      h2_headers(out, stream, server_hpack, head, false);
      const std::uint64_t messages = method.server_streaming ? rng.between(2, 8) : 1;
      for (std::uint64_t m = 0; m < messages; ++m) {
        h2_data(out, stream, grpc_data(rng, rng.log_uniform(30, 6'000)), false);
        if (m + 1 < messages) {
          conv.advance_us(m == 0 ? work : rng.log_uniform(1'000, 50'000));
          tcp.send(Side::kServer, out);
          out.clear();
        }
      }
      static constexpr HeaderField kOk[] = {{"grpc-status", "0"}};
      h2_headers(out, stream, server_hpack, kOk, true);
      conv.advance_us(messages == 1 ? work : rng.between(200, 5'000));
      tcp.send(Side::kServer, out);
      conv.advance_us(rng.log_uniform(200, 50'000));
    }
    if (rng.chance(40)) {  // a keepalive / BDP ping
      const std::uint64_t opaque = rng.next_u64();
      out.clear();
      h2_ping(out, false, opaque);
      tcp.send(Side::kClient, out);
      out.clear();
      h2_ping(out, true, opaque);  // the ACK echoes the payload
      tcp.send(Side::kServer, out);
    }
    out.clear();
    h2_goaway(out, 0, 0);
    conv.advance_us(rng.log_uniform(100, 20'000));
    tcp.send(Side::kClient, out);
    tcp.close(Side::kClient);
  }
};

}  // namespace

std::unique_ptr<Scenario> make_grpc() { return std::make_unique<Grpc>(); }

}  // namespace tcpr::gen
