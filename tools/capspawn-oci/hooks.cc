// SPDX-License-Identifier: Apache-2.0
// Hooks: spawned with the library (CLONE_NAMESPACE: the runtime's filesystem),
// the state on fd 0, our stderr on 1 and 2.
#include "hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <capspawn/spawn.h>

namespace capspawn::oci {

std::vector<HookSpec> ToHookSpecs(const std::vector<Hook>& hooks) {
  std::vector<HookSpec> out;
  for (const Hook& h : hooks) out.push_back({h.path, h.args, h.env, h.timeout.value_or(0)});
  return out;
}

Status RunHooks(const char* kind, const std::vector<HookSpec>& hooks, const std::string& state) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    const HookSpec& h = hooks[i];
    std::string what = std::string("hooks.") + kind + "[" + std::to_string(i) + "] " + h.path;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return Error::FromErrno(errno, what + ": pipe2");
    std::vector<const char*> argv, envp;
    for (const std::string& a : h.args) argv.push_back(a.c_str());
    if (argv.empty()) argv.push_back(h.path.c_str());
    argv.push_back(nullptr);
    for (const std::string& e : h.env) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    capspawn_action_t actions[3] = {};
    actions[0].action = CAPSPAWN_ACTION_TRANSFER_FD;
    actions[0].fd = {p[0], 0};
    actions[1].action = CAPSPAWN_ACTION_CLONE_FD;
    actions[1].fd = {2, 1};
    actions[2].action = CAPSPAWN_ACTION_CLONE_FD;
    actions[2].fd = {2, 2};
    size_t n = fcntl(2, F_GETFD) >= 0 ? 3 : 1;
    int process = -1;
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
    capspawn_status_t st = capspawn_spawn_etc(-1, CAPSPAWN_CLONE_NAMESPACE, h.path.c_str(),
                                              argv.data(), envp.data(), n, actions, &process, err);
    if (st != CAPSPAWN_OK) {
      close(p[1]);
      return Error(st, what + ": " + err);
    }
    // A hook that does not read its stdin must not block us: ignore EPIPE.
    signal(SIGPIPE, SIG_IGN);
    ssize_t ignored = write(p[1], state.data(), state.size());
    (void)ignored;
    close(p[1]);
    int64_t rc = 0;
    int64_t timeout = h.timeout > 0 ? int64_t{h.timeout} * 1000000000 : -1;
    st = capspawn_process_wait(process, timeout, &rc);
    if (st == CAPSPAWN_ERR_TIMED_OUT) {
      capspawn_process_kill(process);
      capspawn_process_wait(process, -1, &rc);
      close(process);
      return Error(CAPSPAWN_ERR_TIMED_OUT,
                   what + ": still running after " + std::to_string(h.timeout) + " s (killed)");
    }
    close(process);
    if (st != CAPSPAWN_OK) return Error(st, what + ": wait failed");
    if (rc != 0) {
      return Error(CAPSPAWN_ERR_INTERNAL,
                   what + (rc < 0 ? ": killed by signal " + std::to_string(-rc)
                                  : ": exited with status " + std::to_string(rc)));
    }
  }
  return {};
}

}  // namespace capspawn::oci
