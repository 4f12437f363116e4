// SPDX-License-Identifier: Apache-2.0
// capspawn_spawn, capspawn_spawn_etc, capspawn_spawn_vmo: fdio's spawn API.
// Each call goes through the launcher $CAPSPAWN_LAUNCHER names, or in-process
// through the spawn pipeline (src/spawn/request.h).
#include <capspawn/spawn.h>

#include <fcntl.h>

#include <string>

#include "api/barrier.h"
#include "base/c_error.h"
#include "launcher/client_internal.h"
#include "spawn/actions.h"
#include "spawn/request.h"

namespace capspawn::spawn {
namespace {

Result<Process> Spawn(int job, uint32_t flags, const char* path, UniqueFd program_fd,
                      const char* const* argv, const char* const* env, size_t action_count,
                      const capspawn_action_t* actions) {
  Result<Launched> launched = ExecuteActions(job, flags, path, std::move(program_fd), argv, env,
                                             action_count, actions, /*stop_at_exec=*/false);
  if (!launched.ok()) return launched.error();
  return std::move(launched.value().process);
}

capspawn_status_t Report(Result<Process> r, int* process_out, char* err_msg_out) {
  if (r.ok()) {
    if (process_out) {
      *process_out = r->release();
    }
    return CAPSPAWN_OK;
  }
  return Fail(r.error(), err_msg_out);
}

}  // namespace
}  // namespace capspawn::spawn

using capspawn::UniqueFd;
using capspawn::spawn::Report;
using capspawn::spawn::Spawn;

extern "C" capspawn_status_t capspawn_spawn(int job, uint32_t flags, const char* path,
                                            const char* const* argv, int* process_out) {
  return capspawn::api::Guard(nullptr, [&]() -> capspawn_status_t {
    return capspawn_spawn_etc(job, flags, path, argv, nullptr, 0, nullptr, process_out, nullptr);
  });
}

extern "C" capspawn_status_t capspawn_spawn_etc(int job, uint32_t flags, const char* path,
                                                const char* const* argv, const char* const* environ,
                                                size_t action_count,
                                                const capspawn_action_t* actions, int* process_out,
                                                char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (const char* launcher = capspawn::launcher_internal::ConfiguredLauncher()) {
      return capspawn::launcher_internal::SpawnViaLauncher(launcher, job, flags, false, path, -1,
                                                           argv, environ, action_count, actions,
                                                           process_out, err_msg_out);
    }
    if (!path) {
      capspawn::spawn::ConsumeActionHandles(action_count, actions);
      return Report(capspawn::Error(CAPSPAWN_ERR_INVALID_ARGS, "path is NULL"), process_out,
                    err_msg_out);
    }
    return Report(Spawn(job, flags, path, UniqueFd(), argv, environ, action_count, actions),
                  process_out, err_msg_out);
  });
}

extern "C" capspawn_status_t capspawn_spawn_vmo(int job, uint32_t flags, int executable_fd,
                                                const char* const* argv, const char* const* environ,
                                                size_t action_count,
                                                const capspawn_action_t* actions, int* process_out,
                                                char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (const char* launcher = capspawn::launcher_internal::ConfiguredLauncher()) {
      return capspawn::launcher_internal::SpawnViaLauncher(
          launcher, job, flags, true, nullptr, executable_fd, argv, environ, action_count, actions,
          process_out, err_msg_out);
    }
    // Always consumed; a fd that is not open is not ours to close.
    UniqueFd program(executable_fd >= 0 && fcntl(executable_fd, F_GETFD) >= 0 ? executable_fd : -1);
    if (!program) {
      capspawn::spawn::ConsumeActionHandles(action_count, actions);
      return Report(
          capspawn::Error(CAPSPAWN_ERR_BAD_HANDLE,
                          "executable fd " + std::to_string(executable_fd) + " is not an open fd"),
          process_out, err_msg_out);
    }
    return Report(
        Spawn(job, flags, nullptr, std::move(program), argv, environ, action_count, actions),
        process_out, err_msg_out);
  });
}
