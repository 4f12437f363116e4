// SPDX-License-Identifier: Apache-2.0
// capspawn-oci kill [--all] ID [SIGNAL]
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <capspawn/job.h>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {
namespace {

// "9", "KILL", "SIGKILL", "sigkill".
int ParseSignal(std::string s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
    long n = strtol(s.c_str(), nullptr, 10);
    return n > 0 && n < NSIG ? static_cast<int>(n) : -1;
  }
  for (char& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (s.rfind("SIG", 0) == 0) s = s.substr(3);
  for (int i = 1; i < NSIG; ++i) {
    const char* abbrev = sigabbrev_np(i);
    if (abbrev != nullptr && s == abbrev) return i;
  }
  return -1;
}

// Whether `sig`'s default action ends a process.
bool Terminates(int sig) {
  switch (sig) {
    case SIGCHLD:
    case SIGCONT:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGURG:
    case SIGWINCH:
      return false;
    default:
      return true;
  }
}

}  // namespace

int CmdKill(const Globals& g, int argc, char** argv) {
  static const option kOptions[] = {{"all", no_argument, nullptr, 'a'}, {nullptr, 0, nullptr, 0}};
  bool all = false;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+a", kOptions, nullptr)) != -1) {
    if (c == 'a') {
      all = true;
    } else {
      return UsageError("kill", std::string("bad option '") + argv[optind - 1] + "'");
    }
  }
  if (optind >= argc || argc - optind > 2)
    return UsageError("kill", "usage: kill [--all] ID [SIGNAL]");
  int sig = SIGTERM;
  if (argc - optind == 2) {
    sig = ParseSignal(argv[optind + 1]);
    if (sig < 0)
      return UsageError("kill", std::string("unknown signal '") + argv[optind + 1] + "'");
  }
  State s;
  Result<Locked> lock = LockContainer(g, argv[optind], &s);
  if (!lock.ok()) return Fail(lock.error());
  ContainerStatus status = CurrentStatus(s);
  if (status == ContainerStatus::kStopped && !all) {
    return Fail(Error(CAPSPAWN_ERR_BAD_STATE, "container '" + s.id + "' is not running"));
  }
  // A created container has not run an instruction, so it has no handler: a
  // signal whose default action ends a process ends it, as runc's waiting init
  // ends. Delivered as is it could not (it is stopped, and a pid namespace's
  // init ignores signals it does not handle), so it is sent as SIGKILL.
  if (status == ContainerStatus::kCreated && Terminates(sig)) sig = SIGKILL;
  if (all && !s.job.empty()) {
    Result<capspawn::Job> job = capspawn::Job::Open(s.job);
    if (!job.ok()) return Fail(job.error().Context("kill --all: the container's job"));
    if (sig == SIGKILL) {
      if (Status st = job->Kill(10'000'000'000); !st.ok()) return Fail(st.error());
      return 0;
    }
    Result<std::vector<pid_t>> pids = job->Processes();
    if (!pids.ok()) return Fail(pids.error());
    for (pid_t p : *pids) kill(p, sig);
    return 0;
  }
  if (status == ContainerStatus::kStopped) return 0;
  Result<UniqueFd> pidfd = OpenInit(s);
  if (!pidfd.ok()) return Fail(pidfd.error());
  if (syscall(SYS_pidfd_send_signal, pidfd->get(), sig, nullptr, 0) != 0) {
    return Fail(Error::FromErrno(errno, "kill container '" + s.id + "'"));
  }
  return 0;
}

}  // namespace capspawn::oci
