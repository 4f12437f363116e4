// SPDX-License-Identifier: Apache-2.0
// Pidfd: the extension's owner of a process's pidfd.
#ifndef CAPSPAWN_PYTHON_NATIVE_PIDFD_H_
#define CAPSPAWN_PYTHON_NATIVE_PIDFD_H_

#include <cstdint>
#include <optional>

#include "common.h"

namespace capspawn::python {

// Owns a pidfd. A call that blocks with the GIL released (wait) keeps the fd
// in use: close() during it defers the close(2) to the call's end, so the fd
// number is never reused under a waiting thread. Every field is touched with
// the GIL held only, which is what serialises them.
class Pidfd {
 public:
  explicit Pidfd(int fd) : fd_(fd) {}
  ~Pidfd();
  Pidfd(const Pidfd&) = delete;
  Pidfd& operator=(const Pidfd&) = delete;

  int fileno() const;
  bool closed() const { return closed_; }
  void close();
  int detach();

  // The return code (exit status or -signo), or nullopt when `timeout_ns`
  // (negative: forever) ran out. Python signal handlers run while it waits;
  // one that raises (KeyboardInterrupt) ends the wait with its exception.
  std::optional<int64_t> wait(int64_t timeout_ns);
  void send_signal(int signo);
  // Starts a process created stopped (capspawn_start).
  void start();
  // The pid, or -1 once the process is reaped and gone.
  int pid();

 private:
  // Keeps the fd open until the matching Release.
  int Acquire();
  void Release();
  void CloseNowIfUnused();

  int fd_;
  int users_ = 0;
  bool closed_ = false;
};

}  // namespace capspawn::python

#endif  // CAPSPAWN_PYTHON_NATIVE_PIDFD_H_
