// The control socket's request handling (src/control/server.cpp) on arbitrary client bytes: one
// connection per input, the bytes sent, the write side shut; the server is polled until it has
// closed the connection. Invariants: no crash or sanitizer report; every reply is one line of JSON
// with a boolean "ok"; the server closes every connection (nothing is left half-open); the server
// keeps no client after it (state is not corrupted for the next one).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "tcpr/control/server.hpp"

using namespace tcpr;
using namespace tcpr::control;

namespace {

Server& server() {
  static std::unique_ptr<Server> s = [] {
    ControlConfig cfg;
    cfg.socket = "/tmp/tcpr-fuzz-control-" + std::to_string(::getpid()) + ".sock";
    cfg.max_line = 512;
    cfg.max_output = 1 << 20;
    auto r = Server::open(cfg);
    if (!r) std::abort();
    auto srv = std::move(r.value());
    srv->add("echo", "echo", "its arguments", [](const Request& q) -> Reply { return Result<Json>(q.args); });
    srv->add("sum", "sum a=N b=N", "a + b", [](const Request& q) -> Reply {
      return Result<Json>(Json(q.args.at("a").get<long>() + q.args.at("b").get<long>()));
    });
    srv->add("follow", "follow", "subscribe", [p = srv.get()](const Request& q) -> Reply {
      p->follow(q.client, "t");
      return Result<Json>(Json(true));
    });
    std::atexit([] { ::unlink(("/tmp/tcpr-fuzz-control-" + std::to_string(::getpid()) + ".sock").c_str()); });
    return srv;
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Server& s = server();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, s.path().data(), s.path().size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
  std::size_t sent = 0;
  std::string in;
  bool closed = false;
  char buf[65536];
  for (int round = 0; round < 2000 && !closed; ++round) {
    if (sent < size) {
      const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if (sent == size) ::shutdown(fd, SHUT_WR);
    } else if (size == 0 && round == 0) {
      ::shutdown(fd, SHUT_WR);
    }
    s.poll(0);
    s.publish("t", Json{{"n", round}});
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) closed = true;
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  if (!closed) std::abort();   // the server must close a half-closed client once answered
  std::size_t start = 0;
  for (std::size_t nl; (nl = in.find('\n', start)) != std::string::npos; start = nl + 1) {
    const Json j = Json::parse(in.substr(start, nl - start), nullptr, false);
    if (j.is_discarded() || !j.is_object() || (j.contains("ok") && !j["ok"].is_boolean())) std::abort();
  }
  if (start != in.size()) std::abort();   // every reply ends with a newline
  s.poll(0);
  if (s.clients() != 0) std::abort();
  return 0;
}
