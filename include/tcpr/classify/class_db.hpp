// class_db.hpp — content classes and risk tags as data, compiled into Hyperscan databases.
//
// config/classes.toml declares every class and tag; nothing about them is in code. A class or a
// tag is a list of rules; a rule is one Hyperscan pattern (a regex, a list of literals, or a list
// of globs) applied to one place:
//   on = "c2s" | "s2c"            the first inspect_depth bytes of that direction (streaming)
//   on = "sni" | "host" | "path" | "method" | "jsonrpc_method" | "content_type"
//        | "response_content_type" | "h2_content_type" | "h2_path" | "dns_name"
//                                 a field the extractors pulled out (block mode)
// with optional `ports` (the rule counts only when the server port is listed), `flags` ("i"
// caseless, "s" dot-all, "m" multi-line) and, for tags, `kind` (the kind of secret reported).
// A class has a `priority`; when rules of several classes match, the highest priority wins, ties
// going to the class declared first. `unknown` is implicit.
//
// Compiled once on the control side into one streaming database per direction and one block
// database per field place. A ClassDb is immutable and shared by all workers through
// a shared_ptr snapshot (reload publishes a new one); each worker clones its own scratch.
//
// Errors (Result): FILE:LINE:COLUMN and the class or tag name, for TOML mistakes and for
// patterns Hyperscan refuses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tcpr/util/result.hpp"

struct hs_database;
struct hs_scratch;

namespace tcpr::classify {

enum class Place : std::uint8_t {
  kC2s = 0, kS2c, kSni, kHost, kPath, kMethod, kJsonRpcMethod, kContentType, kResponseContentType,
  kH2ContentType, kH2Path, kDnsName, kCount
};
std::string_view place_name(Place p) noexcept;

inline constexpr std::uint8_t kUnknownClass = 0;
inline constexpr std::size_t kMaxTags = 16;

struct RuleInfo {
  bool is_tag = false;
  std::uint8_t id = 0;                 // class id or tag id
  std::uint8_t kind = 0;               // index into ClassDb::kinds() (tags)
  Place place = Place::kC2s;
  std::vector<std::uint16_t> ports;    // empty: any port
  bool credential = false;             // a secret that is normal in a credential header of
                                       // a request to an llm.api-class destination
};

struct ClassInfo {
  std::string name;
  int priority = 0;
  bool report_rpc_method = false;   // method = "jsonrpc": the report shows the JSON-RPC method
};

class ClassDb {
 public:
  ~ClassDb();
  ClassDb(const ClassDb&) = delete;
  ClassDb& operator=(const ClassDb&) = delete;

  const std::vector<ClassInfo>& classes() const noexcept { return classes_; }  // [0] = unknown
  const std::vector<std::string>& tags() const noexcept { return tags_; }
  const std::vector<std::string>& kinds() const noexcept { return kinds_; }
  const RuleInfo& rule(unsigned id) const noexcept { return rules_[id]; }
  std::size_t rule_count() const noexcept { return rules_.size(); }
  int class_id(std::string_view name) const noexcept;
  int tag_id(std::string_view name) const noexcept;

  // Streaming database of a direction, or the block database of a field place; nullptr when no
  // rule looks there.
  const hs_database* db(Place p) const noexcept { return dbs_[static_cast<std::size_t>(p)]; }
  // Bytes of stream state per open stream of a direction (hs_stream_size).
  std::size_t stream_size(Place dir) const noexcept { return stream_size_[dir == Place::kC2s ? 0 : 1]; }
  // A scratch large enough for all three databases; workers clone it.
  const hs_scratch* prototype_scratch() const noexcept { return scratch_; }

  std::string revision;   // hash of the source text, for reports and zone decisions

  static Result<std::shared_ptr<const ClassDb>> load(const std::string& path);
  static Result<std::shared_ptr<const ClassDb>> parse(std::string_view text, const std::string& source);

 private:
  ClassDb() = default;
  std::vector<ClassInfo> classes_;
  std::vector<std::string> tags_;
  std::vector<std::string> kinds_;
  std::vector<RuleInfo> rules_;
  hs_database* dbs_[static_cast<std::size_t>(Place::kCount)] = {};
  std::size_t stream_size_[2] = {};
  hs_scratch* scratch_ = nullptr;
};

// Glob ("*" = any run of characters, "?" = one) to an anchored regex, other characters escaped.
std::string glob_to_regex(std::string_view glob);
// A literal to a regex matching exactly it.
std::string escape_regex(std::string_view literal);

}  // namespace tcpr::classify
