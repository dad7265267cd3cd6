// json_text.hpp — JSON text (RFC 8259) appended to a std::string, without a DOM.
//
// Every payload body of tcp-routegen is written through this: building and dumping an
// nlohmann::json DOM per body dominated the generator's run time. json_string() escapes per
// RFC 8259 §7, so any text is safe. JsonWriter places the commas: open an object or array, then
// alternate key() and a value (objects) or give values (arrays), then close it.
//
//   JsonWriter j(out);
//   j.object().key("jsonrpc").str("2.0").key("id").num(1).key("params").object().end().end();
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tcpr::gen {

inline bool json_needs_escape(char c) noexcept {
  return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

// Appends `text` as a JSON string literal.
inline void json_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t plain = 0;
  while (plain < text.size() && !json_needs_escape(text[plain])) ++plain;
  out += text.substr(0, plain);
  for (const char c : text.substr(plain)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& object() { return open('{'); }
  JsonWriter& array() { return open('['); }
  // Closes the innermost object or array.
  JsonWriter& end() {
    out_ += closers_[--depth_];
    first_ = false;
    return *this;
  }
  // A key of an object; our keys are literals and need no escaping.
  JsonWriter& key(std::string_view name) {
    separate();
    out_ += '"';
    out_ += name;
    out_ += "\":";
    after_key_ = true;
    return *this;
  }
  JsonWriter& str(std::string_view text) {
    separate();
    json_string(out_, text);
    return *this;
  }
  JsonWriter& num(std::int64_t value) { return raw(fmt::format("{}", value)); }
  JsonWriter& boolean(bool value) { return raw(value ? "true" : "false"); }
  JsonWriter& null() { return raw("null"); }
  // A value already in JSON form: a number written elsewhere, or a nested document.
  JsonWriter& raw(std::string_view json) {
    separate();
    out_ += json;
    return *this;
  }

 private:
  static constexpr int kMaxDepth = 32;

  void separate() {
    if (!first_ && !after_key_) out_ += ',';
    first_ = false;
    after_key_ = false;
  }
  JsonWriter& open(char c) {
    if (depth_ == kMaxDepth) throw std::logic_error("JsonWriter: nested too deep");
    separate();
    out_ += c;
    closers_[depth_++] = c == '{' ? '}' : ']';
    first_ = true;
    return *this;
  }

  std::string& out_;
  char closers_[kMaxDepth] = {};
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace tcpr::gen
