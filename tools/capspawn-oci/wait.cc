// SPDX-License-Identifier: Apache-2.0
// One poll loop for `run` and `exec`: a signalfd and the process's pidfd.
#include "wait.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "log.h"

namespace capspawn::oci {
namespace {

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

// Reaps exited children other than `pid` (their statuses are nobody's); the
// process itself is left for waitid on its pidfd.
void ReapOrphans(pid_t pid) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    if (info.si_pid == pid) return;
    waitpid(info.si_pid, nullptr, 0);
  }
}

}  // namespace

Result<UniqueFd> ForwardSignals(const char* command, bool reap_orphans) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  if (reap_orphans) {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      return Error::FromErrno(errno, std::string(command) + ": PR_SET_CHILD_SUBREAPER");
    }
    sigaddset(&set, SIGCHLD);
  }
  sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return Error::FromErrno(errno, std::string(command) + ": signalfd");
  return sfd;
}

int WaitForwarding(const char* command, int pidfd, pid_t pid, int sfd) {
  for (;;) {
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(fds, sfd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return Fail(Error::FromErrno(errno, std::string(command) + ": poll"));
    }
    if (sfd >= 0 && (fds[1].revents & POLLIN)) {
      signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGCHLD) {
          ReapOrphans(pid);  // only read when ForwardSignals made us a subreaper
        } else {
          syscall(SYS_pidfd_send_signal, pidfd, static_cast<int>(si.ssi_signo), nullptr, 0);
        }
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      siginfo_t info{};
      if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0) {
        return Fail(Error::FromErrno(errno, std::string(command) + ": waitid for its process"));
      }
      if (info.si_code == CLD_EXITED) return info.si_status;
      return 128 + info.si_status;
    }
  }
}

}  // namespace capspawn::oci
