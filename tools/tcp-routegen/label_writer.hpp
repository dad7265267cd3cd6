// label_writer.hpp — the sidecar OUT.pcap.labels.jsonl: one JSON object per conversation.
//
// Keys, in this order (absent values are null, so every line has the same keys):
//   proto "tcp"|"udp", client and server "ip:port", scenario (registry name), class (content
//   class), tags (risk tags, [] when benign), sni, host, method, path, first_ts and last_ts
//   (capture seconds, microsecond precision), packets, bytes (frame bytes on the wire, no FCS).
// These match DESIGN.md's replay flows.jsonl, so a test can compare the two flow by flow.
// Lines are in the order conversations start (first_ts).
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "conversation.hpp"
#include "result.hpp"

namespace tcpr::gen {

class LabelWriter {
 public:
  static Result<std::unique_ptr<LabelWriter>> open(const std::string& path);

  // `start_us`: where the conversation's time 0 lies on the capture clock (Unix microseconds).
  void write(const Conversation& conv, std::uint64_t start_us);
  Status close();

 private:
  explicit LabelWriter(std::string path) : path_(std::move(path)), out_(path_) {}

  std::string path_;
  std::ofstream out_;
};

}  // namespace tcpr::gen
