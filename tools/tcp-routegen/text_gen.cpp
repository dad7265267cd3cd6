// text_gen.cpp — see text_gen.hpp.
//
// JSON is written by hand (json_text.hpp), so any text is safe, not only the vocabulary below.
#include "text_gen.hpp"

#include <fmt/format.h>

#include <span>

#include "json_text.hpp"

namespace tcpr::gen {
namespace {

constexpr std::string_view kWords[] = {
    "shipment", "invoice",  "region",  "quarterly", "forecast",  "inventory", "customer", "report",
    "summary",  "latency",  "cluster", "schedule",  "meeting",   "draft",     "review",   "metric",
    "dataset",  "pipeline", "order",   "status",    "update",    "weekly",    "budget",   "vendor",
    "contract", "support",  "release", "document",  "archive",   "catalog",   "product",  "pricing",
    "market",   "analysis", "trend",   "supplier",  "warehouse", "delivery",  "capacity", "backlog",
    "priority", "owner",    "team",    "project",   "milestone", "estimate",  "revenue",  "growth",
    "north",    "south",    "east",    "west",      "europe",    "asia",      "americas", "monthly",
    "daily",    "annual",   "total",   "average",   "median",    "count",     "open",     "closed"};
constexpr std::string_view kRegions[] = {"eu-west", "eu-central", "us-east", "us-west", "ap-south"};
constexpr std::string_view kStates[] = {"open", "pending", "done", "scheduled", "archived"};

std::string_view pick_text(Rng& rng, std::span<const std::string_view> items) {
  return rng.pick(items);
}

// Appends `"key":` (the key is a literal of ours and needs no escaping).
void json_key(std::string& out, std::string_view key, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace

std::string words(Rng& rng, std::size_t approx_len) {
  // 64 words: one 64-bit draw picks ten of them, 6 bits each (the generator's hottest loop).
  static_assert(std::size(kWords) == 64);
  std::string out;
  out.reserve(approx_len + 12);
  std::uint64_t bits = 0;
  int left = 0;
  do {
    if (left == 0) bits = rng.next_u64(), left = 10;
    if (!out.empty()) out += ' ';
    out += kWords[bits & 63];
    bits >>= 6, --left;
  } while (out.size() < approx_len);
  return out;
}

std::string hex_id(Rng& rng, std::size_t bytes) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rng.below(256));
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string uuid4(Rng& rng) {
  std::string hex = hex_id(rng, 16);
  hex[12] = '4';
  hex[16] = "89ab"[rng.below(4)];
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

std::string json_task_request(Rng& rng, const TaskRequest& request) {
  std::string out;
  out.reserve(request.target_size + 64);
  out += '{';
  json_key(out, "agent", true);
  json_string(out, request.agent);
  json_key(out, "request_id");
  json_string(out, request.request_id);
  json_key(out, "action");
  json_string(out, request.action);
  json_key(out, "args");
  out += '{';
  json_key(out, "query", true);
  json_string(out, words(rng, rng.between(12, 60)));
  json_key(out, "region");
  json_string(out, pick_text(rng, kRegions));
  json_key(out, "limit");
  out += fmt::format("{}", rng.between(5, 100));
  json_key(out, "offset");
  out += fmt::format("{}", rng.below(4) * 50);
  out += '}';
  // Pad with free-text notes up to the target size, as agents attach context to requests.
  constexpr std::size_t kNotesOverhead = sizeof(R"(,"notes":""})") - 1;
  if (out.size() + kNotesOverhead < request.target_size) {
    json_key(out, "notes");
    json_string(out, words(rng, request.target_size - out.size() - kNotesOverhead + 9));
  }
  out += '}';
  return out;
}

std::string json_task_response(Rng& rng, std::string_view request_id, std::size_t target_size) {
  std::string out;
  out.reserve(target_size + 400);
  out += '{';
  json_key(out, "request_id", true);
  json_string(out, request_id);
  json_key(out, "status");
  json_string(out, "ok");
  json_key(out, "elapsed_ms");
  out += fmt::format("{}", rng.log_uniform(2, 900));
  json_key(out, "results");
  out += '[';
  bool first = true;
  do {
    if (!first) out += ',';
    first = false;
    out += '{';
    json_key(out, "id", true);
    json_string(out, "r-" + hex_id(rng, 6));
    json_key(out, "score");
    out += fmt::format("{}", rng.below(1000));
    json_key(out, "state");
    json_string(out, pick_text(rng, kStates));
    json_key(out, "title");
    json_string(out, words(rng, rng.between(16, 48)));
    json_key(out, "summary");
    json_string(out, words(rng, rng.between(40, 240)));
    out += '}';
  } while (out.size() + 2 < target_size);
  out += "]}";
  return out;
}

}  // namespace tcpr::gen
