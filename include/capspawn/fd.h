// SPDX-License-Identifier: Apache-2.0
// UniqueFd: the one owner of a file descriptor.
#ifndef CAPSPAWN_FD_H_
#define CAPSPAWN_FD_H_

#if !defined(__cplusplus) || __cplusplus < 201703L
#error \
    "capspawn's C++ API needs C++17 or later (-std=c++17); C programs use the C headers (spawn.h, start.h, job.h, startup.h)"
#endif

#include <unistd.h>

#include <utility>

namespace capspawn {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership: the caller now closes the fd.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace capspawn

#endif  // CAPSPAWN_FD_H_
