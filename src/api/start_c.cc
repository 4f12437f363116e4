// SPDX-License-Identifier: Apache-2.0
// capspawn_create_without_starting / capspawn_start: the C API over the same
// request path and BuiltProcess as ProcessBuilder.
#include <capspawn/start.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <capspawn/process_builder.h>

#include "api/barrier.h"
#include "base/c_error.h"
#include "base/status.h"
#include "builder/inspect.h"
#include "launcher/client_internal.h"
#include "spawn/actions.h"
#include "spawn/request.h"

namespace capspawn::builder {
namespace {

Result<BuiltProcess> Create(int job, uint32_t flags, const char* path, UniqueFd program,
                            const char* const* argv, const char* const* environ,
                            size_t action_count, const capspawn_action_t* actions) {
  Result<spawn::Launched> launched =
      spawn::ExecuteActions(job, flags, path, std::move(program), argv, environ, action_count,
                            actions, /*stop_at_exec=*/true);
  if (!launched.ok()) return launched.error();
  return FinishBuild(std::move(launched.value()));
}

// The pid behind a pidfd (fdinfo "Pid:"): -1 exited, 0 in another pid
// namespace; BAD_HANDLE when fd is not a pidfd.
Result<pid_t> PidOfPidfd(int fd) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  FILE* f = std::fopen(path, "re");
  if (!f) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE, "fd " + std::to_string(fd) + " is not open");
  }
  char line[256];
  bool found = false;
  int pid = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "Pid:\t%d", &pid) == 1) {
      found = true;
      break;
    }
  }
  std::fclose(f);
  if (!found) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE, "fd " + std::to_string(fd) + " is not a pidfd");
  }
  return static_cast<pid_t>(pid);
}

// The state letter of /proc/PID/stat ('T' stopped, 't' stopped by a
// debugger), or 0 when unreadable.
char ProcessState(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "re");
  if (!f) return 0;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');  // comm may hold spaces and ')'
  return paren && paren[1] == ' ' ? paren[2] : 0;
}

}  // namespace
}  // namespace capspawn::builder

using capspawn::Error;
using capspawn::UniqueFd;

extern "C" capspawn_status_t capspawn_create_without_starting(
    int job, uint32_t flags, const char* path, int executable_fd, const char* const* argv,
    const char* const* environ, size_t action_count, const capspawn_action_t* actions,
    capspawn_start_data_t* data_out, char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    using capspawn::Fail;
    // Consumed whatever happens; a fd that is not open is not ours to close.
    UniqueFd program(executable_fd >= 0 && capspawn::spawn::IsOpen(executable_fd) ? executable_fd
                                                                                  : -1);
    auto refuse = [&](capspawn_status_t status, const std::string& message) {
      capspawn::spawn::ConsumeActionHandles(action_count, actions);
      return Fail(Error(status, message), err_msg_out);
    };
    if (!data_out) return refuse(CAPSPAWN_ERR_INVALID_ARGS, "data_out is NULL");
    if (path && executable_fd != -1) {
      return refuse(CAPSPAWN_ERR_INVALID_ARGS, "both a path and executable fd " +
                                                   std::to_string(executable_fd) + " were given");
    }
    if (!path && !program) {
      return refuse(CAPSPAWN_ERR_BAD_HANDLE,
                    "executable fd " + std::to_string(executable_fd) + " is not an open fd");
    }
    if (const char* launcher = capspawn::launcher_internal::ConfiguredLauncher()) {
      return capspawn::launcher_internal::CreateViaLauncher(
          launcher, job, flags, path, program.release(), argv, environ, action_count, actions,
          data_out, err_msg_out);
    }
    capspawn::Result<capspawn::BuiltProcess> built = capspawn::builder::Create(
        job, flags, path, std::move(program), argv, environ, action_count, actions);
    if (!built.ok()) return Fail(built.error(), err_msg_out);
    capspawn::BuiltProcess& b = built.value();
    b.release();  // the caller starts or kills it
    data_out->process = b.process.release();
    data_out->root_vmar = b.root_vmar.release();
    data_out->thread = b.thread;
    data_out->entry = b.entry;
    data_out->stack = b.stack;
    data_out->base = b.base;
    data_out->vdso_base = b.vdso_base;
    return CAPSPAWN_OK;
  });
}

extern "C" capspawn_status_t capspawn_start(int process) {
  return capspawn::api::Guard(nullptr, [&]() -> capspawn_status_t {
    capspawn::Result<pid_t> pid = capspawn::builder::PidOfPidfd(process);
    if (!pid.ok()) return pid.status();
    if (*pid < 0) return CAPSPAWN_ERR_BAD_STATE;  // exited
    if (*pid > 0) {
      const char state = capspawn::builder::ProcessState(*pid);
      if (state != 0 && state != 'T' && state != 't') return CAPSPAWN_ERR_BAD_STATE;
    }
    if (syscall(SYS_pidfd_send_signal, process, SIGCONT, nullptr, 0) != 0) {
      return errno == ESRCH ? CAPSPAWN_ERR_BAD_STATE : capspawn::StatusFromErrno(errno);
    }
    return CAPSPAWN_OK;
  });
}
