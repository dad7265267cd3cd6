// server.hpp — the control socket: newline-delimited JSON over a Unix stream socket (DESIGN.md
// "Control protocol"). Request {"cmd": NAME, "args": {…}}, reply {"ok": true, "data": …} or
// {"ok": false, "error": "…"}, one line each, in request order per client.
//
// Served from the control thread by poll(): it waits at most the given time (the thread's tick
// loop calls it in place of a sleep), so commands run on the thread that owns the behaviour state
// and need no locks. Nothing a client does can block it: sockets are non-blocking, requests are
// bounded (max_line), so is what waits to be sent to one client (max_output: a client that stops
// reading is cut off), the number of clients, and the time a silent client may hold a slot
// (idle_timeout; a client following a stream is not silent). Peers are checked with SO_PEERCRED
// when they connect: root, or a member of the configured group.
//
// A handler returns its reply, or std::nullopt to reply later with reply() (a command whose work
// finishes elsewhere, e.g. a class reload compiled on another thread). follow() subscribes a
// client to a topic; publish() sends a line to every subscriber.
//
// Knows nothing of the engine: src/dataplane/engine_control.cpp registers the commands.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tcpr/control/control_config.hpp"
#include "tcpr/util/result.hpp"

namespace tcpr::control {

using Json = nlohmann::ordered_json;

struct Request {
  std::uint64_t client = 0;
  std::string cmd;
  Json args = Json::object();
};

using Reply = std::optional<Result<Json>>;   // nullopt: the handler replies later (reply())
using Handler = std::function<Reply(const Request&)>;

struct ServerCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused_peer = 0;      // SO_PEERCRED: not root, not in the group
  std::uint64_t refused_full = 0;      // max_clients reached
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;            // replies with ok = false (malformed, unknown, bad arguments, failed)
  std::uint64_t oversized = 0;         // a line over max_line: error, then disconnected
  std::uint64_t slow = 0;              // output over max_output: disconnected
  std::uint64_t idle = 0;              // silent past idle_timeout: disconnected
};

class Server {
 public:
  // Creates the directory and the socket; a stale socket file (no one listening) is replaced, a
  // live one is an error (another tcp-routed serves it).
  static Result<std::unique_ptr<Server>> open(const ControlConfig& cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `usage` is one line ("agents [zone=Z] [top=N]"), `help` says what it does; `help` lists them.
  void add(const std::string& name, const std::string& usage, const std::string& help, Handler h);
  // Accepts, reads, runs the requests that are complete, writes; returns after at most timeout_ms.
  void poll(int timeout_ms);
  // The reply to a request whose handler returned nullopt (dropped if the client has left).
  void reply(std::uint64_t client, const Result<Json>& r);
  void follow(std::uint64_t client, const std::string& topic);
  void publish(const std::string& topic, const Json& line);
  std::size_t followers(const std::string& topic) const;

  // A reload: the limits (clients, line, output, idle) from `cfg`; the socket and group stay.
  void set_limits(const ControlConfig& cfg) noexcept {
    cfg_.max_clients = cfg.max_clients;
    cfg_.max_line = cfg.max_line;
    cfg_.max_output = cfg.max_output;
    cfg_.idle_timeout = cfg.idle_timeout;
  }
  const ServerCounters& counters() const noexcept { return counters_; }
  std::size_t clients() const noexcept { return clients_.size(); }
  const std::string& path() const noexcept { return cfg_.socket; }

 private:
  struct Client;
  struct Command {
    std::string usage, help;
    Handler handler;
  };
  explicit Server(const ControlConfig& cfg);
  void accept_all();
  bool peer_allowed(int fd, std::string& why) const;
  void read_from(Client& c);
  void serve_lines(Client& c);
  void run_line(Client& c, const std::string& line);
  void send(Client& c, const Json& j);
  void flush(Client& c);
  void close_client(std::uint64_t id);

  ControlConfig cfg_;
  int listen_fd_ = -1, epoll_fd_ = -1;
  unsigned group_gid_ = ~0u;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Client>> clients_;
  std::map<std::string, Command> commands_;
  ServerCounters counters_;
};

// Client side (tcp-routectl, tests): one request, its reply. Errors name the cause: no daemon
// (the socket is missing or refuses), permission denied, a malformed reply.
enum class ClientError { kNone, kNotRunning, kPermission, kProtocol };
struct ClientResult {
  ClientError error = ClientError::kNone;
  std::string message;   // when error != kNone
  Json reply;            // when error == kNone: {"ok": …}
};
ClientResult request(const std::string& socket, const Json& req, int timeout_ms = 10000);

}  // namespace tcpr::control
