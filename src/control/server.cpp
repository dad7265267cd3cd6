#include "tcpr/control/server.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

namespace tcpr::control {

namespace {

using Clock = std::chrono::steady_clock;

std::string errstr() { return std::strerror(errno); }

Result<sockaddr_un> address_of(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    return Error{fmt::format("control socket path '{}' must be 1 to {} bytes", path, sizeof a.sun_path - 1)};
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

void log_line(const std::string& msg) { fmt::print(stderr, "tcp-routed: control: {}\n", msg); }

}  // namespace

struct Server::Client {
  std::uint64_t id = 0;
  int fd = -1;
  std::string in, out;
  Clock::time_point last_heard;
  std::set<std::string> topics;
  unsigned pending = 0;   // requests whose handler replies later
  std::uint32_t events = EPOLLIN | EPOLLRDHUP;   // what epoll watches for it now
  bool eof = false;       // the peer has shut its side: answer what it asked, then close
  bool backlog = false;   // complete requests wait in `in` (served a batch per poll)
  bool closing = false;   // flush what is queued, then close
};

Server::Server(const ControlConfig& cfg) : cfg_(cfg) {}

Result<std::unique_ptr<Server>> Server::open(const ControlConfig& cfg) {
  auto addr = address_of(cfg.socket);
  if (!addr) return Error{addr.error()};
  std::unique_ptr<Server> s(new Server(cfg));
  if (!cfg.group.empty()) {
    const group* g = getgrnam(cfg.group.c_str());
    if (g == nullptr) return Error{fmt::format("control group '{}' does not exist", cfg.group)};
    s->group_gid_ = g->gr_gid;
  }
  const std::filesystem::path dir = std::filesystem::path(cfg.socket).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{fmt::format("cannot create {}: {}", dir.string(), ec.message())};
    ::chmod(dir.c_str(), 0750);
    if (s->group_gid_ != ~0u && ::chown(dir.c_str(), 0, s->group_gid_) != 0)
      return Error{fmt::format("cannot give {} to group {}: {}", dir.string(), cfg.group, errstr())};
  }
  // A socket file nobody listens on is left by a run that died: replace it. One that answers
  // belongs to a running daemon.
  struct stat st{};
  if (::lstat(cfg.socket.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{fmt::format("{} exists and is not a socket", cfg.socket)};
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof addr.value()) == 0;
    if (probe >= 0) ::close(probe);
    if (live) return Error{fmt::format("{} is served by a running tcp-routed", cfg.socket)};
    ::unlink(cfg.socket.c_str());
  }
  s->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->listen_fd_ < 0) return Error{fmt::format("cannot create the control socket: {}", errstr())};
  // 0660 from the start: no moment in which others could connect.
  const mode_t old = ::umask(0117);
  const int b = ::bind(s->listen_fd_, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof addr.value());
  ::umask(old);
  if (b != 0) return Error{fmt::format("cannot bind the control socket {}: {}", cfg.socket, errstr())};
  if (s->group_gid_ != ~0u && ::chown(cfg.socket.c_str(), 0, s->group_gid_) != 0)
    return Error{fmt::format("cannot give {} to group {}: {}", cfg.socket, cfg.group, errstr())};
  if (::listen(s->listen_fd_, 64) != 0) return Error{fmt::format("cannot listen on {}: {}", cfg.socket, errstr())};
  s->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (s->epoll_fd_ < 0) return Error{fmt::format("epoll_create1: {}", errstr())};
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;   // 0: the listening socket; clients are numbered from 1
  if (::epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->listen_fd_, &ev) != 0) return Error{fmt::format("epoll_ctl: {}", errstr())};
  s->add("help", "help", "the commands and what they do", [srv = s.get()](const Request&) -> Reply {
    Json list = Json::array();
    for (const auto& [name, c] : srv->commands_) list.push_back({{"cmd", name}, {"usage", c.usage}, {"help", c.help}});
    return Result<Json>(list);
  });
  return s;
}

Server::~Server() {
  for (auto& [id, c] : clients_) ::close(c->fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(cfg_.socket.c_str());
  }
}

void Server::add(const std::string& name, const std::string& usage, const std::string& help, Handler h) {
  commands_[name] = Command{usage, help, std::move(h)};
}

bool Server::peer_allowed(int fd, std::string& why) const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    why = fmt::format("SO_PEERCRED: {}", errstr());
    return false;
  }
  if (cred.uid == 0) return true;
  if (group_gid_ != ~0u) {
    if (cred.gid == group_gid_) return true;
    // Supplementary groups: the user's membership as the system knows it.
    if (const passwd* pw = getpwuid(cred.uid); pw != nullptr) {
      int n = 64;
      std::vector<gid_t> groups(static_cast<std::size_t>(n));
      if (getgrouplist(pw->pw_name, cred.gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        getgrouplist(pw->pw_name, cred.gid, groups.data(), &n);
      }
      groups.resize(static_cast<std::size_t>(std::max(n, 0)));
      if (std::find(groups.begin(), groups.end(), group_gid_) != groups.end()) return true;
    }
  }
  why = fmt::format("uid {} (pid {}) is not root{}", cred.uid, cred.pid,
                    cfg_.group.empty() ? "" : fmt::format(" and not in group {}", cfg_.group));
  return false;
}

void Server::accept_all() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;   // EAGAIN: no more; anything else: try again at the next poll
    // Refusals get one line (best effort: the socket buffer of a new connection is empty).
    auto refuse = [fd](const std::string& error) {
      const std::string line = Json{{"ok", false}, {"error", error}}.dump() + "\n";
      [[maybe_unused]] const auto n = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
    };
    std::string why;
    if (!peer_allowed(fd, why)) {
      ++counters_.refused_peer;
      log_line("refused a client: " + why);
      refuse("permission denied: " + why);
      continue;
    }
    if (clients_.size() >= cfg_.max_clients) {
      ++counters_.refused_full;
      refuse(fmt::format("too many clients ({}); try again later", cfg_.max_clients));
      continue;
    }
    auto c = std::make_unique<Client>();
    c->id = next_id_++;
    c->fd = fd;
    c->last_heard = Clock::now();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = c->id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    ++counters_.accepted;
    clients_[c->id] = std::move(c);
  }
}

void Server::poll(int timeout_ms) {
  bool waiting = false;
  for (const auto& [id, c] : clients_) waiting = waiting || c->backlog;
  epoll_event evs[32];
  const int n = ::epoll_wait(epoll_fd_, evs, 32, waiting ? 0 : timeout_ms);
  for (int i = 0; i < n; ++i) {
    // epoll_event is packed on x86-64: copy its fields out rather than bind references to them.
    const std::uint64_t id = evs[i].data.u64;
    const std::uint32_t events = evs[i].events;
    if (id == 0) {
      accept_all();
      continue;
    }
    const auto it = clients_.find(id);
    if (it == clients_.end()) continue;
    Client& c = *it->second;
    if (events & EPOLLOUT) flush(c);
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_from(c);
  }
  // Requests already read but not served yet (a batch per client per poll).
  for (auto& [id, c] : clients_)
    if (c->backlog && !c->closing) serve_lines(*c);
  // Idle clients, and clients whose last words have been sent.
  const auto now = Clock::now();
  const auto idle = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cfg_.idle_timeout));
  std::vector<std::uint64_t> gone;
  for (auto& [id, c] : clients_) {
    if (c->closing && c->out.empty() && c->pending == 0) gone.push_back(id);
    else if (c->topics.empty() && now - c->last_heard > idle) {
      ++counters_.idle;
      gone.push_back(id);
    }
  }
  for (const auto id : gone) close_client(id);
}

void Server::read_from(Client& c) {
  char buf[16384];
  // At most 64 KiB from one client per poll, and nothing more while its earlier requests wait:
  // a client that writes without pause must not keep the control thread (and its ticks) here,
  // nor grow its buffer without bound. epoll is level-triggered: the rest comes later.
  for (int reads = 0; reads < 4 && !c.backlog; ++reads) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0) {
      // Half-closed (`socat`, `nc -N`): the requests already read still get their replies.
      c.eof = true;
      c.closing = true;
      break;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      c.closing = true;   // reset: nothing more can be sent either
      c.eof = true;
      c.in.clear();
      c.out.clear();
      c.pending = 0;
      break;
    }
    if (n < 0) break;
    if (c.closing) continue;   // after an oversized line: read and discard until closed
    c.last_heard = Clock::now();
    c.in.append(buf, static_cast<std::size_t>(n));
    c.backlog = c.in.find('\n') != std::string::npos;
    // No newline within max_line bytes: a request cannot be found again in this stream.
    const std::size_t nl = c.in.find('\n');
    if ((nl == std::string::npos ? c.in.size() : nl) > cfg_.max_line) break;
  }
  serve_lines(c);
}

// Up to kLinesPerPoll complete requests of one client, then its replies in one send.
void Server::serve_lines(Client& c) {
  constexpr int kLinesPerPoll = 64;
  std::size_t start = 0;
  int served = 0;
  for (std::size_t nl; served < kLinesPerPoll && !c.closing && (nl = c.in.find('\n', start)) != std::string::npos;
       start = nl + 1, ++served) {
    if (nl - start > cfg_.max_line) break;
    run_line(c, c.in.substr(start, nl - start));
  }
  c.in.erase(0, start);
  const std::size_t nl = c.in.find('\n');
  if (!c.closing && (nl == std::string::npos ? c.in.size() : nl) > cfg_.max_line) {
    ++counters_.oversized;
    ++counters_.errors;
    send(c, Json{{"ok", false}, {"error", fmt::format("request line longer than {} bytes; closing", cfg_.max_line)}});
    c.closing = true;
  }
  if (c.closing) c.in.clear();
  c.backlog = !c.closing && c.in.find('\n') != std::string::npos;
  flush(c);
}

void Server::run_line(Client& c, const std::string& raw) {
  std::string line = raw;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.find_first_not_of(" \t") == std::string::npos) return;   // blank lines are ignored
  ++counters_.requests;
  auto fail = [&](const std::string& e) {
    ++counters_.errors;
    send(c, Json{{"ok", false}, {"error", e}});
  };
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception& e) {
    // parse_error, and out_of_range for a number beyond a double (found by fuzz_control).
    return fail(fmt::format("malformed JSON: {}", e.what()));
  }
  if (!j.is_object() || !j.contains("cmd") || !j["cmd"].is_string())
    return fail(R"(a request is {"cmd": "NAME", "args": {...}})");
  Request req;
  req.client = c.id;
  req.cmd = j["cmd"].get<std::string>();
  if (j.contains("args")) {
    if (!j["args"].is_object()) return fail("'args' must be an object");
    req.args = j["args"];
  }
  for (const auto& [k, v] : j.items())
    if (k != "cmd" && k != "args") return fail(fmt::format("unknown request field '{}'", k));
  const auto it = commands_.find(req.cmd);
  if (it == commands_.end()) return fail(fmt::format("unknown command '{}' (\"help\" lists them)", req.cmd));
  Reply r;
  try {
    r = it->second.handler(req);
  } catch (const std::exception& e) {
    // nlohmann type errors on arguments of the wrong type, mostly.
    return fail(fmt::format("{}: bad arguments: {} (usage: {})", req.cmd, e.what(), it->second.usage));
  }
  if (!r.has_value()) {   // the handler replies later
    ++c.pending;
    return;
  }
  reply(c.id, *r);
}

void Server::reply(std::uint64_t client, const Result<Json>& r) {
  const auto it = clients_.find(client);
  if (it == clients_.end()) return;
  if (it->second->pending > 0) --it->second->pending;
  if (r.ok()) {
    send(*it->second, Json{{"ok", true}, {"data", r.value()}});
  } else {
    ++counters_.errors;
    send(*it->second, Json{{"ok", false}, {"error", r.error()}});
  }
  flush(*it->second);
}

// Queues a line; flush() sends (once per batch of replies, not per reply).
void Server::send(Client& c, const Json& j) {
  if (c.fd < 0) return;
  // Invalid UTF-8 (a name taken from a packet) is replaced rather than thrown.
  c.out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
  c.out += '\n';
}

void Server::flush(Client& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    c.out.clear();   // the peer is gone
    c.closing = true;
    break;
  }
  if (c.out.size() > cfg_.max_output) {
    // It does not read what it asked for: cut it off rather than hold the memory.
    ++counters_.slow;
    log_line(fmt::format("client {} stopped reading ({} bytes waiting); disconnected", c.id, c.out.size()));
    c.out.clear();
    c.closing = true;
  }
  // Tell epoll only when what to watch changes (a syscall per reply showed under a flood).
  const std::uint32_t want = (c.eof || c.backlog ? 0u : static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP)) |
                             (c.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT));
  if (want == c.events) return;
  c.events = want;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Server::close_client(std::uint64_t id) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second->fd, nullptr);
  ::close(it->second->fd);
  clients_.erase(it);
}

void Server::follow(std::uint64_t client, const std::string& topic) {
  if (const auto it = clients_.find(client); it != clients_.end()) it->second->topics.insert(topic);
}

void Server::publish(const std::string& topic, const Json& line) {
  for (auto& [id, c] : clients_)
    if (!c->closing && c->topics.count(topic)) {
      send(*c, line);
      flush(*c);
    }
}

std::size_t Server::followers(const std::string& topic) const {
  std::size_t n = 0;
  for (const auto& [id, c] : clients_) n += c->topics.count(topic);
  return n;
}

Result<bool> check_metrics_address(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size())
    return Error{fmt::format("metrics address '{}' must be HOST:PORT", listen)};
  const std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  for (const char c : port)
    if (c < '0' || c > '9') return Error{fmt::format("metrics address '{}': port '{}' is not a number", listen, port)};
  if (std::stoul(port) > 65535) return Error{fmt::format("metrics address '{}': port out of range", listen)};
  const bool loopback = host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
  if (!loopback)
    return Error{fmt::format("metrics address '{}' must be on loopback (127.0.0.1, [::1] or localhost): the endpoint "
                             "has no authentication",
                             listen)};
  return true;
}

ClientResult request(const std::string& socket, const Json& req, int timeout_ms) {
  ClientResult out;
  auto addr = address_of(socket);
  if (!addr) return {ClientError::kProtocol, addr.error(), {}};
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {ClientError::kProtocol, errstr(), {}};
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.value()), sizeof addr.value()) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EACCES || e == EPERM)
      return {ClientError::kPermission, fmt::format("permission denied on {} (root or the control group)", socket), {}};
    return {ClientError::kNotRunning,
            fmt::format("tcp-routed is not running (cannot connect to {}: {})", socket, std::strerror(e)), {}};
  }
  const std::string line = req.dump() + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[65536];
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (in.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      ::close(fd);
      return {ClientError::kProtocol, fmt::format("no reply from tcp-routed within {} ms", timeout_ms), {}};
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto nl = in.find('\n');
  if (nl == std::string::npos) return {ClientError::kProtocol, "tcp-routed closed the connection without a reply", {}};
  try {
    out.reply = Json::parse(in.substr(0, nl));
  } catch (const std::exception& e) {
    return {ClientError::kProtocol, fmt::format("malformed reply: {}", e.what()), {}};
  }
  if (!out.reply.is_object() || !out.reply.contains("ok") || !out.reply["ok"].is_boolean())
    return {ClientError::kProtocol, "malformed reply: no boolean 'ok'", {}};
  if (!out.reply["ok"].get<bool>() && out.reply.value("error", "").rfind("permission denied", 0) == 0)
    return {ClientError::kPermission, out.reply.value("error", ""), out.reply};
  return out;
}

}  // namespace tcpr::control
