// SPDX-License-Identifier: Apache-2.0
// Waiting on and killing a process through its pidfd.
#include <capspawn/process.h>
#include <capspawn/spawn.h>

#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "base/pidfd_info.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn {
namespace {

int64_t DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -static_cast<int64_t>(WTERMSIG(status));
  return -1;
}

// The return code of a waitid() result: exit status, or -signo.
int64_t CodeFromSiginfo(const siginfo_t& info) {
  return info.si_code == CLD_EXITED ? int64_t{info.si_status}
                                    : -static_cast<int64_t>(info.si_status);
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

enum class Probe { kExited, kRunning, kUnknownExit };

// One non-blocking look. The parent reaps through waitid(P_PIDFD); any other
// holder (or the parent after reaping) reads the exit status the kernel keeps
// with the pidfd. *not_child: waitid said ECHILD before, which it then says
// for good (a process never becomes our child later): not asked again.
Result<Probe> ProbeExit(int pidfd, int64_t* code, bool* not_child) {
  if (!*not_child) {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
               WEXITED | WNOHANG) == 0) {
      if (info.si_pid == 0) return Probe::kRunning;
      *code = CodeFromSiginfo(info);
      return Probe::kExited;
    }
    int err = errno;
    if (err == EBADF || err == EINVAL) {
      return Error(CAPSPAWN_ERR_BAD_HANDLE,
                   "fd " + std::to_string(pidfd) + " is not a process (pidfd): " + strerror(err));
    }
    if (err != ECHILD) {
      return Error::FromErrno(err, "waitid(P_PIDFD " + std::to_string(pidfd) + ")");
    }
    *not_child = true;
  }
  int err;
  pidfd::Info pi;
  std::memset(&pi, 0, sizeof pi);
  pi.mask = pidfd::kInfoExit;
  // The kernel reads the exit record, then looks the task up: a parent
  // reaping in between (the launcher's reaper) makes that one call ESRCH
  // although the record now exists. A second call sees it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    pi.mask = pidfd::kInfoExit;
    if (ioctl(pidfd, pidfd::kGetInfo, &pi) == 0) {
      if (pi.mask & pidfd::kInfoExit) {
        *code = DecodeWaitStatus(pi.exit_code);
        return Probe::kExited;
      }
      return Probe::kRunning;
    }
    if (errno != ESRCH) break;
  }
  err = errno;
  if (err == ESRCH) return Probe::kUnknownExit;  // gone, and its status was not kept
  if (err == ENOTTY || err == EINVAL) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "reading the exit status of a process that is not our child needs "
                 "PIDFD_GET_INFO/PIDFD_INFO_EXIT (Linux 6.15)");
  }
  return Error::FromErrno(err, "ioctl(PIDFD_GET_INFO)");
}

}  // namespace

Result<int64_t> WaitPidfd(int pidfd, int64_t timeout_ns) {
  if (pidfd < 0) return Error(CAPSPAWN_ERR_BAD_HANDLE, "process handle is -1");
  bool not_child = false;
  if (timeout_ns < 0) {
    // The parent waiting forever: one blocking waitid, no poll round trip.
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    int r;
    do {
      r = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      return CodeFromSiginfo(info);
    }
    // ECHILD: not our child (a launcher's, say), or already reaped; the loop
    // below reads the status kept with the pidfd. Other errors are reported
    // by ProbeExit.
    not_child = r < 0 && errno == ECHILD;
  }
  const int64_t deadline = timeout_ns < 0 ? -1 : NowNs() + timeout_ns;
  // A non-parent may see the process exit before its parent reaps it, and the
  // exit status is recorded only at the reaping. An edge-triggered epoll on
  // the pidfd wakes twice: at the exit (EPOLLIN) and at the reaping (EPOLLHUP),
  // so no sleeping or polling is needed; a wakeup between a probe and the
  // wait stays queued.
  UniqueFd ep;
  for (;;) {
    int64_t code = 0;
    Result<Probe> probe = ProbeExit(pidfd, &code, &not_child);
    if (!probe.ok()) return probe.error();
    if (*probe == Probe::kExited) return code;
    if (*probe == Probe::kUnknownExit) {
      return Error(CAPSPAWN_ERR_BAD_STATE, "process exited and its status is no longer available");
    }
    int64_t remaining = deadline < 0 ? -1 : deadline - NowNs();
    if (deadline >= 0 && remaining <= 0) {
      return Error(CAPSPAWN_ERR_TIMED_OUT, "process still running after the timeout");
    }
    if (!ep) {
      ep.reset(epoll_create1(EPOLL_CLOEXEC));
      if (!ep) return Error::FromErrno(errno, "epoll_create1 (waiting on a pidfd)");
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLHUP | EPOLLET;
      if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, pidfd, &ev) != 0) {
        if (errno == EBADF) {
          return Error(CAPSPAWN_ERR_BAD_HANDLE, "fd " + std::to_string(pidfd) + " is not open");
        }
        return Error::FromErrno(errno, "epoll_ctl(pidfd " + std::to_string(pidfd) + ")");
      }
      continue;  // probe again: it may have changed before the registration
    }
    timespec ts, *tsp = nullptr;
    if (remaining >= 0) {
      ts.tv_sec = remaining / 1000000000;
      ts.tv_nsec = remaining % 1000000000;
      tsp = &ts;
    }
    epoll_event got;
    int r = epoll_pwait2(ep.get(), &got, 1, tsp, nullptr);
    if (r < 0 && errno != EINTR) return Error::FromErrno(errno, "epoll_wait(pidfd)");
  }
}

Status KillPidfd(int pidfd, int signo) {
  if (pidfd < 0) return Error(CAPSPAWN_ERR_BAD_HANDLE, "process handle is -1");
  if (syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0) == 0) return {};
  int err = errno;
  if (err == ESRCH) return {};  // already exited: nothing left to kill
  if (err == EBADF || err == EINVAL) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE, "fd " + std::to_string(pidfd) + " is not a process");
  }
  return Error::FromErrno(err, "pidfd_send_signal");
}

pid_t Process::pid() const {
  pidfd::Info pi;
  std::memset(&pi, 0, sizeof pi);
  pi.mask = pidfd::kInfoPid;
  if (ioctl(pidfd_.get(), pidfd::kGetInfo, &pi) == 0 && (pi.mask & pidfd::kInfoPid)) {
    return static_cast<pid_t>(pi.pid);
  }
  // Older kernels: the "Pid:" line of fdinfo.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd_.get());
  FILE* f = std::fopen(path, "re");
  if (!f) return -1;
  char line[256];
  pid_t pid = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "Pid:\t%d", &pid) == 1) break;
  }
  std::fclose(f);
  return pid;
}

Result<int64_t> Process::Wait(int64_t timeout_ns) const {
  return WaitPidfd(pidfd_.get(), timeout_ns);
}
Status Process::Kill() const { return KillPidfd(pidfd_.get(), SIGKILL); }
Status Process::Signal(int signo) const { return KillPidfd(pidfd_.get(), signo); }

}  // namespace capspawn
