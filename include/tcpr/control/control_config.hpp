// control_config.hpp — [control] of the configuration: where the control socket is and who may
// use it, and the limits that keep one client from holding the control thread (server.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "tcpr/util/result.hpp"

namespace tcpr::control {

struct ControlConfig {
  bool enabled = true;                                 // live mode serves the socket
  std::string socket = "/run/tcp-route/control.sock";  // its directory is created 0750, the socket 0660
  std::string group;                                   // besides root, members of this group ("": root only)
  std::uint32_t max_clients = 16;
  std::uint32_t max_line = 64 * 1024;                  // bytes of one request line
  std::uint32_t max_output = 8 * 1024 * 1024;          // bytes waiting to be sent to one client
  double idle_timeout = 300;                           // seconds a client may stay silent
  std::string metrics;                                 // Prometheus endpoint, e.g. "127.0.0.1:9464" ("": off)
};

// "127.0.0.1:9464", "[::1]:9464" or "localhost:9464"; anything else is refused (the endpoint
// has no authentication: loopback only). In server.cpp.
Result<bool> check_metrics_address(const std::string& listen);

}  // namespace tcpr::control
