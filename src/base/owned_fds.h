// SPDX-License-Identifier: Apache-2.0
// Fds owned together (what a spawn consumes), closed with one close_range per
// run of consecutive numbers: a caller handing 1,000 fds pays a few syscalls
// to have them closed, not 1,000.
#ifndef CAPSPAWN_SRC_BASE_OWNED_FDS_H_
#define CAPSPAWN_SRC_BASE_OWNED_FDS_H_

#include <algorithm>
#include <utility>
#include <vector>

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace capspawn {

class OwnedFds {
 public:
  OwnedFds() = default;
  OwnedFds(OwnedFds&& other) noexcept : fds_(std::exchange(other.fds_, {})) {}
  OwnedFds& operator=(OwnedFds&& other) noexcept {
    if (this != &other) {
      CloseAll();
      fds_ = std::exchange(other.fds_, {});
    }
    return *this;
  }
  OwnedFds(const OwnedFds&) = delete;
  OwnedFds& operator=(const OwnedFds&) = delete;
  ~OwnedFds() { CloseAll(); }

  // Takes `fd`; each fd must be added once.
  void Add(int fd) { fds_.push_back(fd); }
  size_t size() const { return fds_.size(); }

  void CloseAll() {
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer models fds and sees close() but not close_range(): an
    // fd number it thinks still open, reused by another thread, would be
    // reported as a race.
    for (int fd : fds_) ::close(fd);
#else
    std::sort(fds_.begin(), fds_.end());
    size_t i = 0;
    while (i < fds_.size()) {
      size_t j = i;
      while (j + 1 < fds_.size() && fds_[j + 1] == fds_[j] + 1) ++j;
      if (j == i) {
        ::close(fds_[i]);
      } else if (syscall(SYS_close_range, fds_[i], fds_[j], 0) != 0) {
        for (size_t k = i; k <= j; ++k) ::close(fds_[k]);  // no close_range: one by one
      }
      i = j + 1;
    }
#endif
    fds_.clear();
  }

 private:
  std::vector<int> fds_;
};

}  // namespace capspawn

#endif  // CAPSPAWN_SRC_BASE_OWNED_FDS_H_
