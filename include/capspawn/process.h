// SPDX-License-Identifier: Apache-2.0
// Process: a pidfd, the one handle to a process.
#ifndef CAPSPAWN_PROCESS_H_
#define CAPSPAWN_PROCESS_H_

#include <sys/types.h>

#include <cstdint>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn {

class Process {
 public:
  Process() = default;
  // Takes ownership of a pidfd.
  explicit Process(UniqueFd pidfd) : pidfd_(std::move(pidfd)) {}

  const UniqueFd& pidfd() const { return pidfd_; }
  [[nodiscard]] int release() { return pidfd_.release(); }
  bool valid() const { return pidfd_.valid(); }

  // The pid (from /proc/self/fdinfo), or -1 once the process is reaped.
  pid_t pid() const;

  // Waits until the process terminates; timeout_ns < 0 waits forever.
  // Returns the exit status or -signo; TIMED_OUT when the timeout runs out.
  Result<int64_t> Wait(int64_t timeout_ns = -1) const;
  // SIGKILL through the pidfd; OK when it has already exited.
  Status Kill() const;
  // Any signal through the pidfd.
  Status Signal(int signo) const;

 private:
  UniqueFd pidfd_;
};

// Wait/kill on a borrowed pidfd (the C API's capspawn_process_wait/kill).
Result<int64_t> WaitPidfd(int pidfd, int64_t timeout_ns);
Status KillPidfd(int pidfd, int signo);

}  // namespace capspawn

#endif  // CAPSPAWN_PROCESS_H_
