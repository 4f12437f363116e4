// SPDX-License-Identifier: Apache-2.0
// capspawn-oci run [create's options] [--detach] ID: create, start, and
// (without --detach) wait as a subreaper, forwarding signals; the exit code
// is the container's (128 + N when signal N ended it). The container is then
// deleted, as runc does.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {

int ParseCreateOptions(const char* name, int argc, char** argv, CreateOptions* o, bool* detach);

namespace {

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

// Waits for the init process (our child: we are its subreaper), forwarding
// signals to it and reaping other orphans. Returns its exit code for `run`.
int WaitForInit(int pidfd, pid_t init, int sfd) {
  for (;;) {
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Fail(Error::FromErrno(errno, "run: poll"));
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          // Reap orphans that are not init (their statuses are nobody's).
          for (;;) {
            siginfo_t info{};
            if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) {
              break;
            }
            if (info.si_pid == init) break;
            waitpid(info.si_pid, nullptr, 0);
          }
        } else {
          syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, nullptr, 0);
        }
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      siginfo_t info{};
      if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0) {
        return Fail(Error::FromErrno(errno, "run: waitid for the container's process"));
      }
      if (info.si_code == CLD_EXITED) return info.si_status;
      return 128 + info.si_status;
    }
  }
}

}  // namespace

int CmdRun(const Globals& g, int argc, char** argv) {
  CreateOptions o;
  bool detach = false;
  if (int rc = ParseCreateOptions("run", argc, argv, &o, &detach); rc >= 0) return rc;
  int sfd = -1;
  if (!detach) {
    // The container is our child; as subreaper we also reap the orphans its
    // processes leave.
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      return Fail(Error::FromErrno(errno, "run: PR_SET_CHILD_SUBREAPER"));
    }
    sigset_t set;
    sigemptyset(&set);
    for (int s : kForwarded) sigaddset(&set, s);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) return Fail(Error::FromErrno(errno, "run: signalfd"));
  }
  // The lock is held from create to start: nobody can see the container
  // between the two, so the state is written once, and not read back.
  std::optional<Locked> held;
  Result<State> created = CreateContainer(g, o, &held);
  if (!created.ok()) return Fail(created.error());
  State s = std::move(created.value());
  // The pidfd is taken while the process is stopped: once started it may exit
  // (a zombie of ours) before we look.
  Result<UniqueFd> pidfd = OpenInit(s);
  if (Status st = StartContainer(*held, s); !st.ok()) {
    (void)DestroyContainer(*held, s);
    return Fail(st.error());
  }
  held.reset();
  Log(LogLevel::kDebug, "run " + o.id + ": started");
  if (detach) return 0;
  int code = pidfd.ok() ? WaitForInit(pidfd->get(), s.pid, sfd) : Fail(pidfd.error());
  Log(LogLevel::kDebug, "run " + o.id + ": exited");
  Result<Locked> lock = LockContainer(g, o.id, &s);
  if (lock.ok()) {
    if (Status st = DestroyContainer(*lock, s); !st.ok()) Fail(st.error());
  }
  Log(LogLevel::kDebug, "run " + o.id + ": deleted");
  return code;
}

}  // namespace capspawn::oci
