// SPDX-License-Identifier: Apache-2.0
// The client's seccomp filters: read through ptrace, and whether they deny
// every way of creating a process (a DENY client). See docs/SECURITY.md.
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "client_facts.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

namespace capspawn::launcher_internal {
namespace {

constexpr int kStopWaitMs = 5000;
constexpr int kProbeWaitMs = 5000;
constexpr int kProbeCanCreate = 100;
constexpr int kProbeDenied = 101;

// Whether this process runs under seccomp itself: the kernel then refuses
// PTRACE_SECCOMP_GET_FILTER (EACCES) whatever its capabilities, as inside a
// container whose runtime installed a filter.
bool SelfFiltered() { return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0; }

Error Unreadable(const std::string& what, int err) {
  std::string why = what + ": " + std::strerror(err);
  if (err == EACCES && SelfFiltered()) {
    why +=
        "; the launcher runs under a seccomp filter itself, and the kernel lets only an "
        "unfiltered process read another's";
  }
  return Error(CAPSPAWN_ERR_ACCESS_DENIED,
               "the launcher cannot read the client's seccomp filters, so it cannot give its "
               "processes the same restrictions (" +
                   why + ")");
}

// Waits (a bounded time) for the seized tracee to stop; its wait status.
Result<int> WaitForStop(pid_t pid) {
  for (int waited = 0; waited < kStopWaitMs; ++waited) {
    int status = 0;
    pid_t r = waitpid(pid, &status, __WALL | WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return Unreadable("waitpid", errno);
    usleep(1000);
  }
  return Unreadable("the client did not stop for PTRACE_INTERRUPT", ETIMEDOUT);
}

// vfork alone in its frame: the child exits before this function returns.
__attribute__((noinline)) long TryVfork() {
  pid_t v = vfork();
  if (v == 0) _exit(0);
  return v;
}

// In the probe: each way of creating a process, the new one exiting at once.
// Returns whether one worked.
bool CanCreateAProcess() {
  bool created = false;
  auto tried = [&](long pid) {
    if (pid == 0) syscall(SYS_exit_group, 0);
    if (pid > 0) {
      waitpid(static_cast<pid_t>(pid), nullptr, __WALL);
      created = true;
    }
  };
  tried(syscall(SYS_fork));
  tried(TryVfork());
  tried(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  clone_args args;
  std::memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  tried(syscall(SYS_clone3, &args, sizeof args));
  return created;
}

}  // namespace

Result<std::vector<std::vector<sock_filter>>> ReadSeccompFilters(const ClientFacts& client) {
  const pid_t pid = client.pid;
  if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) {
    return Unreadable("ptrace(PTRACE_SEIZE) (is it traced already?)", errno);
  }
  std::vector<std::vector<sock_filter>> filters;
  std::optional<Error> failure;
  int deliver = 0;  // a signal the stop intercepted, given back at the detach
  if (ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0) {
    failure = Unreadable("ptrace(PTRACE_INTERRUPT)", errno);
  } else {
    Result<int> status = WaitForStop(pid);
    if (!status.ok()) {
      failure = status.error();
    } else if (!WIFSTOPPED(*status)) {
      return Error(CAPSPAWN_ERR_PEER_CLOSED, "the client exited");
    } else {
      const int event = *status >> 16;
      if (event == 0 && WSTOPSIG(*status) != SIGTRAP) deliver = WSTOPSIG(*status);
      for (long i = 0; i < client.seccomp_filters; ++i) {
        long n = ptrace(static_cast<__ptrace_request>(PTRACE_SECCOMP_GET_FILTER), pid,
                        reinterpret_cast<void*>(i), nullptr);
        if (n <= 0) {
          failure = Unreadable("ptrace(PTRACE_SECCOMP_GET_FILTER)", n == 0 ? EINVAL : errno);
          break;
        }
        std::vector<sock_filter> prog(static_cast<size_t>(n));
        if (ptrace(static_cast<__ptrace_request>(PTRACE_SECCOMP_GET_FILTER), pid,
                   reinterpret_cast<void*>(i), prog.data()) != n) {
          failure = Unreadable("ptrace(PTRACE_SECCOMP_GET_FILTER)", errno);
          break;
        }
        filters.push_back(std::move(prog));
      }
    }
  }
  ptrace(PTRACE_DETACH, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver)));
  if (failure) return *failure;
  // Index 0 is the newest: installed in the order they were, oldest first.
  std::reverse(filters.begin(), filters.end());
  return filters;
}

Result<bool> FiltersDenyProcessCreation(const std::vector<std::vector<sock_filter>>& filters) {
  pid_t pid = fork();
  if (pid < 0) return Error::FromErrno(errno, "fork the seccomp probe");
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(3);
    for (const std::vector<sock_filter>& f : filters) {
      sock_fprog prog{static_cast<unsigned short>(f.size()), const_cast<sock_filter*>(f.data())};
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(4);
    }
    _exit(CanCreateAProcess() ? kProbeCanCreate : kProbeDenied);
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  pollfd p{pidfd.get(), POLLIN, 0};
  if (pidfd && poll(&p, 1, kProbeWaitMs) == 0) kill(pid, SIGKILL);  // stuck: counts as denied
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kProbeCanCreate) return false;
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 3 || WEXITSTATUS(status) == 4)) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 "the client's seccomp filters cannot be installed again (so its processes "
                 "could not get them)");
  }
  return true;
}

}  // namespace capspawn::launcher_internal
