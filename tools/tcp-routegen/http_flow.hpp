// http_flow.hpp — an HTTP/1.1 connection as scenarios drive it: requests, answers, streams.
//
// HttpFlow connects on construction and then keeps the timing of an agent and a server:
//   request()  the agent's application writes a request 30–400 µs after its last step;
//   respond()  the server answers after working `work_us` (on top of the round trip the
//              request's ACK already cost);
//   stream()   a streamed answer (SSE, NDJSON, chunked): the first piece after `first_us`, then
//              each further piece after a gap drawn from [gap_lo_us, gap_hi_us], as a server
//              flushes tokens or events as they come;
//   think()    the agent reads the answer and thinks (0.1–40 ms) before its next step.
// Bytes are given whole (http_wire.hpp builds them); TcpSession segments them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "conversation.hpp"
#include "rng.hpp"
#include "tcp_session.hpp"

namespace tcpr::gen {

class HttpFlow {
 public:
  HttpFlow(Conversation& conv, Rng& rng) : conv_(conv), rng_(rng), tcp_(conv, rng) {
    tcp_.connect();
  }

  void request(std::string_view text) {
    conv_.advance_us(rng_.between(30, 400));
    tcp_.send(Side::kClient, text);
  }
  void respond(std::string_view text, std::uint64_t work_us) {
    conv_.advance_us(work_us);
    tcp_.send(Side::kServer, text);
  }
  void stream(std::span<const std::string> pieces, std::uint64_t first_us, std::uint64_t gap_lo_us,
              std::uint64_t gap_hi_us) {
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      conv_.advance_us(i == 0 ? first_us : rng_.between(gap_lo_us, gap_hi_us));
      tcp_.send(Side::kServer, pieces[i]);
    }
  }
  void think() { conv_.advance_us(rng_.log_uniform(100, 40'000)); }
  void close(Side initiator) { tcp_.close(initiator); }

  TcpSession& tcp() noexcept { return tcp_; }
  Conversation& conv() noexcept { return conv_; }

 private:
  Conversation& conv_;
  Rng& rng_;
  TcpSession tcp_;
};

// Sets the label of an HTTP-carried conversation (path: the first request's target as sent).
inline void label_http(Conversation& conv, std::string_view content_class, std::string_view host,
                       std::string_view method, std::string_view path) {
  Label& label = conv.label();
  label.content_class = std::string(content_class);
  label.host = std::string(host);
  label.method = std::string(method);
  label.path = std::string(path);
}

}  // namespace tcpr::gen
