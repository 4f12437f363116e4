// SPDX-License-Identifier: Apache-2.0
#include "wait_child.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn_bench {

std::string DescribeExit(bool exited, int code) {
  if (exited && code == 0) return "";
  std::string what =
      exited ? "exit status " + std::to_string(code) : "killed by signal " + std::to_string(code);
  // 127 is what every spawner's child exits with when exec fails.
  if (exited && code == 127) what += " (exec failed in the child?)";
  return "the spawned program ended with " + what;
}

std::string WaitPid(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return std::string("waitpid: ") + std::strerror(errno);
  if (WIFEXITED(status)) return DescribeExit(true, WEXITSTATUS(status));
  return DescribeExit(false, WTERMSIG(status));
}

std::string WaitPidfdAndClose(int pidfd) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  int r;
  do {
    r = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED);
  } while (r < 0 && errno == EINTR);
  int saved = errno;
  close(pidfd);
  if (r < 0) return std::string("waitid(P_PIDFD): ") + std::strerror(saved);
  return DescribeExit(info.si_code == CLD_EXITED, info.si_status);
}

}  // namespace capspawn_bench
