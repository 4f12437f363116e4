// SPDX-License-Identifier: Apache-2.0
// The forked helper that calls capspawn_create_without_starting.
#include "launch.h"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <capspawn/processargs.h>
#include <capspawn/start.h>

#include "actions.h"
#include "log.h"
#include "state.h"

namespace capspawn::oci {
namespace {

// What the helper reports through its pipe.
struct Report {
  capspawn_status_t status;
  pid_t pid;
  char message[CAPSPAWN_ERR_MSG_MAX_LENGTH];
};

void Send(int fd, capspawn_status_t status, pid_t pid, const std::string& message) {
  Report r{};
  r.status = status;
  r.pid = pid;
  snprintf(r.message, sizeof r.message, "%s", message.c_str());
  ssize_t ignored = write(fd, &r, sizeof r);
  (void)ignored;
}

// The one attribute the library has no action for: a fresh anonymous session
// keyring, as runc gives each container, which the container inherits. Hosts
// whose seccomp forbids keyctl are tolerated, as runc tolerates them.
Status JoinNewKeyring() {
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0 && errno != ENOSYS &&
      errno != EPERM && errno != EACCES) {
    return Error::FromErrno(errno, "keyctl(KEYCTL_JOIN_SESSION_KEYRING)");
  }
  return {};
}

[[noreturn]] void Helper(LaunchSpec& spec, int job, const int stdio[3], bool new_keyring,
                         int report) {
  if (setsid() < 0) {
    Send(report, capspawn_status_from_errno(errno), 0, std::string("setsid: ") + strerror(errno));
    _exit(0);
  }
  if (new_keyring) {
    if (Status st = JoinNewKeyring(); !st.ok()) {
      Send(report, st.status(), 0, st.error().message());
      _exit(0);
    }
  }
  ActionList list;
  BuildActions(spec, stdio, &list);
  std::vector<const char*> argv, envp;
  for (const std::string& s : spec.argv) argv.push_back(s.c_str());
  argv.push_back(nullptr);
  for (const std::string& s : spec.env) envp.push_back(s.c_str());
  envp.push_back(nullptr);
  capspawn_start_data_t data{};
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
  capspawn_status_t st = capspawn_create_without_starting(
      job, 0, nullptr, spec.executable.release(), argv.data(), envp.data(), list.actions.size(),
      list.actions.data(), &data, err);
  if (st != CAPSPAWN_OK) {
    // The library names the failing action by its index: say which config
    // field that action came from.
    Send(report, st, 0, Explain(err, list));
    _exit(0);
  }
  Log(LogLevel::kDebug, "helper: created");
  Send(report, CAPSPAWN_OK, data.thread, "");
  _exit(0);
}

}  // namespace

Result<Launched> LaunchStopped(LaunchSpec& spec, int job, const int stdio[3], bool new_keyring) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe2");
  UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  pid_t helper = fork();
  if (helper < 0) return Error::FromErrno(errno, "fork");
  if (helper == 0) {
    rd.reset();
    Helper(spec, job, stdio, new_keyring, wr.get());
  }
  wr.reset();
  Report r{};
  ssize_t n;
  do {
    n = read(rd.get(), &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  int status = 0;
  while (waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof r)) {
    return Error(CAPSPAWN_ERR_INTERNAL, "the creating helper ended without a report (wait status " +
                                            std::to_string(status) + ")");
  }
  if (r.status != CAPSPAWN_OK) {
    r.message[sizeof r.message - 1] = '\0';
    return Error(r.status, std::string("create the container's process: ") + r.message);
  }
  Launched out;
  out.pid = r.pid;
  out.start_time = ProcessStartTime(r.pid);
  if (out.start_time == 0) {
    return Error(CAPSPAWN_ERR_INTERNAL,
                 "the container's process " + std::to_string(r.pid) + " vanished after creation");
  }
  return out;
}

}  // namespace capspawn::oci
