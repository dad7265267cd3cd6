// result.hpp — the error idiom of tcp-routegen's control side: a value or a one-line message.
//
// User errors (bad options, an unwritable file) travel as Result<T> up to main(), which prints the
// message on one line and exits non-zero. Bugs in the generator itself throw std::logic_error.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace tcpr::gen {

struct Error {
  std::string message;
};

template <class... Args>
Error make_error(fmt::format_string<Args...> format, Args&&... args) {
  return Error{fmt::format(format, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return std::holds_alternative<T>(state_); }
  T& value() { return std::get<T>(state_); }
  const T& value() const { return std::get<T>(state_); }
  const std::string& error() const { return std::get<Error>(state_).message; }

 private:
  std::variant<T, Error> state_;
};

using Status = Result<std::monostate>;
inline Status ok_status() { return Status{std::monostate{}}; }

}  // namespace tcpr::gen
