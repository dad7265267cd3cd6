// label_writer.cpp — see label_writer.hpp.
#include "label_writer.hpp"

#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "topology.hpp"

namespace tcpr::gen {
namespace {

std::string address(const Endpoint& endpoint) {
  return fmt::format("{}:{}", format_ipv4(endpoint.ip), endpoint.port);
}

nlohmann::ordered_json optional_text(const std::optional<std::string>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

// Capture seconds; a double holds microseconds exactly enough that the shortest round-trip text
// nlohmann prints is the microsecond value.
double seconds(std::uint64_t us) { return static_cast<double>(us) / 1e6; }

}  // namespace

Result<std::unique_ptr<LabelWriter>> LabelWriter::open(const std::string& path) {
  std::unique_ptr<LabelWriter> writer(new LabelWriter(path));
  if (!writer->out_) return make_error("cannot create {}: {}", path, std::strerror(errno));
  return writer;
}

void LabelWriter::write(const Conversation& conv, std::uint64_t start_us) {
  const Label& label = conv.label();
  nlohmann::ordered_json line;
  line["proto"] = label.proto;
  line["client"] = address(conv.endpoint(Side::kClient));
  line["server"] = address(conv.endpoint(Side::kServer));
  line["scenario"] = label.scenario;
  line["class"] = label.content_class;
  line["tags"] = label.tags;
  line["sni"] = optional_text(label.sni);
  line["host"] = optional_text(label.host);
  line["method"] = optional_text(label.method);
  line["path"] = optional_text(label.path);
  line["first_ts"] = seconds(start_us + conv.packets().front().ts_us);
  line["last_ts"] = seconds(start_us + conv.last_ts_us());
  line["packets"] = conv.packets().size();
  line["bytes"] = conv.wire_bytes();
  out_ << line.dump() << '\n';
}

Status LabelWriter::close() {
  out_.close();
  if (!out_) return make_error("writing {} failed", path_);
  return ok_status();
}

}  // namespace tcpr::gen
