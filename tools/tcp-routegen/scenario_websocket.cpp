// scenario_websocket.cpp — websocket: an agent subscribing to a live feed over WebSocket.
//
// The client's HTTP/1.1 GET with Upgrade: websocket, Connection: Upgrade, a random 16-byte
// Sec-WebSocket-Key and Sec-WebSocket-Version 13; the server's 101 Switching Protocols with the
// Sec-WebSocket-Accept computed from that key. Then masked text frames from the client (a
// subscription, acknowledgements), unmasked text frames from the server (events, over time), a
// server ping answered by a masked pong, and the closing handshake: the client's Close (1000),
// the server's Close, and the server closes the TCP connection first (RFC 6455 §7.1.1).
// Label: class websocket, method GET, the upgrade request's path and Host.
#include <fmt/format.h>

#include "codec.hpp"
#include "http_flow.hpp"
#include "http_wire.hpp"
#include "scenario_kinds.hpp"
#include "text_gen.hpp"
#include "ws_wire.hpp"

namespace tcpr::gen {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::string event_json(Rng& rng, std::uint64_t seq) {
  return fmt::format(R"({{"type":"event","seq":{},"channel":"shipments","id":"{}","state":"{}",)"
                     R"("note":"{}"}})",
                     seq, hex_id(rng, 6), rng.chance(50) ? "open" : "delivered",
                     words(rng, rng.log_uniform(20, 600)));
}

class WebSocket final : public Scenario {
 public:
  std::string_view name() const noexcept override { return "websocket"; }
  Peer choose_peer(const Topology& topology, Rng& rng) const override {
    static constexpr std::uint16_t kPorts[] = {80, 8080, 8765};
    return any_server(topology, rng, rng.pick(std::span<const std::uint16_t>(kPorts)));
  }

  void emit(Conversation& conv, Rng& rng, const Topology&) const override {
    static constexpr std::string_view kPaths[] = {"/ws", "/v1/stream", "/socket", "/events/live"};
    const std::string host = host_field(conv.endpoint(Side::kServer));
    const std::string_view path = rng.pick(std::span<const std::string_view>(kPaths));
    std::array<std::uint8_t, 16> nonce{};
    rng.fill(nonce);
    const std::string key = base64(nonce);
    label_http(conv, "websocket", host, "GET", path);

    HttpFlow http(conv, rng);
    http.request(http_request("GET", path, host,
                              {{"User-Agent", "Python/3.11 websockets/12.0"},
                               {"Upgrade", "websocket"},
                               {"Connection", "Upgrade"},
                               {"Sec-WebSocket-Key", key},
                               {"Sec-WebSocket-Version", "13"}}));
    http.respond(http_response(101, {{"Upgrade", "websocket"},
                                     {"Connection", "Upgrade"},
                                     {"Sec-WebSocket-Accept", websocket_accept(key)}}),
                 rng.between(200, 3'000));
    TcpSession& tcp = http.tcp();
    const auto client_frame = [&](std::uint8_t opcode, std::string_view payload) {
      WsMask mask{};
      rng.fill(mask);
      Bytes frame;
      ws_frame(frame, opcode, payload, mask);
      conv.advance_us(rng.between(40, 2'000));
      tcp.send(Side::kClient, frame);
    };
    const auto server_frame = [&](std::uint8_t opcode, std::string_view payload,
                                  std::uint64_t wait_us) {
      Bytes frame;
      ws_frame(frame, opcode, payload, std::nullopt);
      conv.advance_us(wait_us);
      tcp.send(Side::kServer, frame);
    };

    client_frame(kWsText, fmt::format(R"({{"type":"subscribe","channel":"shipments","since":{}}})",
                                      rng.below(100'000)));
    server_frame(kWsText, R"({"type":"subscribed","channel":"shipments"})",
                 rng.between(300, 5'000));
    const std::uint64_t events = rng.between(2, 12);
    for (std::uint64_t i = 0; i < events; ++i) {
      server_frame(kWsText, event_json(rng, i + 1), rng.log_uniform(2'000, 100'000));
      if (rng.chance(30)) client_frame(kWsText, fmt::format(R"({{"type":"ack","seq":{}}})", i + 1));
      if (i == 0 && rng.chance(50)) {
        const std::string ping = hex_id(rng, 4);
        server_frame(kWsPing, ping, rng.between(1'000, 20'000));
        client_frame(kWsPong, ping);
      }
    }
    client_frame(kWsClose, ws_close_payload(1000, "done"));
    server_frame(kWsClose, ws_close_payload(1000, ""), rng.between(100, 2'000));
    http.close(Side::kServer);
  }
};

}  // namespace

std::unique_ptr<Scenario> make_websocket() { return std::make_unique<WebSocket>(); }

}  // namespace tcpr::gen
