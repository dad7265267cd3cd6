// text_gen.hpp — plausible, benign text for payloads: words, ids, JSON request/response bodies.
//
// The vocabulary is business-as-usual on purpose: later content classes and risk tags (LLM API
// calls, JSON-RPC/MCP, secrets, shell commands) are detected by patterns, so benign traffic must
// not contain "jsonrpc", "messages", "model", key-like strings or command lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "rng.hpp"

namespace tcpr::gen {

// Space-separated words, about `approx_len` characters (at least one word).
std::string words(Rng& rng, std::size_t approx_len);
// `bytes` random bytes as lowercase hex.
std::string hex_id(Rng& rng, std::size_t bytes);
// A random (version 4) UUID, RFC 9562 §5.4.
std::string uuid4(Rng& rng);

struct TaskRequest {
  std::string_view agent;
  std::string_view request_id;
  std::string_view action;
  std::size_t target_size = 0;  // the body grows to at least this many bytes
};
std::string json_task_request(Rng& rng, const TaskRequest& request);
std::string json_task_response(Rng& rng, std::string_view request_id, std::size_t target_size);

}  // namespace tcpr::gen
