// reader.hpp — a checked view of one TOML table: every key read through it is validated and
// any key nobody asked for is an error. Private to src/config.
#pragma once

#include <fmt/format.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <toml++/toml.h>

#include "tcpr/route/route_config.hpp"

namespace tcpr::config {
struct Config;
}

namespace tcpr::config::detail {

// Thrown only inside src/config and turned into an Error at its boundary: validation of a nested
// document reads much more plainly with an early exit than with a result at every key.
struct ConfigError {
  std::string message;
};

class Reader {
 public:
  Reader(const toml::table& t, std::string path, const std::string& file)
      : t_(t), path_(std::move(path)), file_(file) {}

  // Stops on any key of this table that no getter asked for.
  void finish() const {
    for (const auto& [k, v] : t_) {
      if (!seen_.count(std::string(k.str())))
        fail(v, fmt::format("unknown key '{}'", qualified(std::string(k.str()))));
    }
  }

  template <typename T>
  void get_uint(std::string_view key, T& out, std::uint64_t lo, std::uint64_t hi) {
    const toml::node* n = take(key);
    if (n == nullptr) return;
    const auto* i = n->as_integer();
    if (i == nullptr) fail(*n, fmt::format("'{}' must be an integer", qualified(key)));
    const std::int64_t v = i->get();
    if (v < 0 || static_cast<std::uint64_t>(v) < lo || static_cast<std::uint64_t>(v) > hi)
      fail(*n, fmt::format("'{}' = {} is out of range [{}, {}]", qualified(key), v, lo, hi));
    out = static_cast<T>(v);
  }

  void get_string(std::string_view key, std::string& out, bool required = false) {
    const toml::node* n = take(key);
    if (n == nullptr) {
      if (required) fail(t_, fmt::format("missing required key '{}'", qualified(key)));
      return;
    }
    const auto* s = n->as_string();
    if (s == nullptr) fail(*n, fmt::format("'{}' must be a string", qualified(key)));
    out = s->get();
  }

  void get_string_array(std::string_view key, std::vector<std::string>& out) {
    const toml::node* n = take(key);
    if (n == nullptr) return;
    const auto* a = n->as_array();
    if (a == nullptr) fail(*n, fmt::format("'{}' must be an array of strings", qualified(key)));
    out.clear();
    for (const auto& e : *a) {
      const auto* s = e.as_string();
      if (s == nullptr) fail(e, fmt::format("'{}' must contain only strings", qualified(key)));
      out.push_back(s->get());
    }
  }

  void get_bool(std::string_view key, bool& out) {
    const toml::node* n = take(key);
    if (n == nullptr) return;
    const auto* b = n->as_boolean();
    if (b == nullptr) fail(*n, fmt::format("'{}' must be true or false", qualified(key)));
    out = b->get();
  }

  // An integer or a float within [lo, hi].
  template <typename T>
  void get_number(std::string_view key, T& out, double lo, double hi) {
    const toml::node* n = take(key);
    if (n == nullptr) return;
    double v = 0;
    if (const auto* f = n->as_floating_point()) {
      v = f->get();
    } else if (const auto* i = n->as_integer()) {
      v = static_cast<double>(i->get());
    } else {
      fail(*n, fmt::format("'{}' must be a number", qualified(key)));
    }
    if (!(v >= lo && v <= hi)) fail(*n, fmt::format("'{}' = {} is out of range [{}, {}]", qualified(key), v, lo, hi));
    out = static_cast<T>(v);
  }

  const toml::node* node(std::string_view key) const { return t_.get(key); }
  const toml::table& table() const { return t_; }

  const toml::table* get_table(std::string_view key) {
    const toml::node* n = take(key);
    if (n == nullptr) return nullptr;
    const auto* t = n->as_table();
    if (t == nullptr) fail(*n, fmt::format("'{}' must be a table", qualified(key)));
    return t;
  }

  const toml::array* get_array_of_tables(std::string_view key) {
    const toml::node* n = take(key);
    if (n == nullptr) return nullptr;
    const auto* a = n->as_array();
    if (a == nullptr || !a->is_array_of_tables())
      fail(*n, fmt::format("'{}' must be an array of tables ([[{}]])", qualified(key), key));
    return a;
  }

  std::string qualified(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  [[noreturn]] void fail(const toml::node& n, const std::string& what) const {
    const auto& b = n.source().begin;
    throw ConfigError{fmt::format("{}:{}:{}: {}", file_, b.line, b.column, what)};
  }

  void mark_seen(std::string_view key) { seen_.insert(std::string(key)); }

 private:
  const toml::node* take(std::string_view key) {
    seen_.insert(std::string(key));
    return t_.get(key);
  }

  const toml::table& t_;
  std::string path_;
  const std::string& file_;
  std::set<std::string> seen_;
};

// [behavior] (config_behavior.cpp).
void read_behavior(Reader& root, tcpr::config::Config& cfg);
void read_routing(Reader& root, tcpr::config::Config& cfg);   // after the ports
void read_enforce(Reader& root, tcpr::config::Config& cfg);
void read_control(Reader& root, tcpr::config::Config& cfg);
bool parse_mac(const std::string& s, route::Mac& out);          // "aa:bb:cc:dd:ee:ff"

}  // namespace tcpr::config::detail
