// SPDX-License-Identifier: Apache-2.0
// Errors are values: a status plus a message that names what failed.
#ifndef CAPSPAWN_RESULT_H_
#define CAPSPAWN_RESULT_H_

#if !defined(__cplusplus) || __cplusplus < 201703L
#error \
    "capspawn's C++ API needs C++17 or later (-std=c++17); C programs use the C headers (spawn.h, start.h, job.h, startup.h)"
#endif

#include <capspawn/status.h>

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace capspawn {

class Error {
 public:
  Error(capspawn_status_t status, std::string message)
      : status_(status), message_(std::move(message)) {}

  // "<what>: <strerror(err)>" with the status mapped from errno.
  static Error FromErrno(int err, const std::string& what);

  capspawn_status_t status() const { return status_; }
  const std::string& message() const { return message_; }
  // Adds context in front: "mount /data (action 2): " + message.
  Error Context(const std::string& what) const& { return Error(status_, what + ": " + message_); }

 private:
  capspawn_status_t status_;
  std::string message_;
};

// A value or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }
  capspawn_status_t status() const { return ok() ? CAPSPAWN_OK : error_->status(); }

 private:
  std::optional<T> value_;
  std::optional<Error> error_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }
  capspawn_status_t status() const { return ok() ? CAPSPAWN_OK : error_->status(); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace capspawn

#endif  // CAPSPAWN_RESULT_H_
