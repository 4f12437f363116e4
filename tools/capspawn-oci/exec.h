// SPDX-License-Identifier: Apache-2.0
// exec: a new process in a running container, built by the library's
// JOIN_NAMESPACE actions. The container's namespaces are those of its init
// (verified to be the process the state recorded, by its pidfd), the program
// is opened inside the container's root (/proc/PID/root, openat2
// RESOLVE_IN_ROOT), its job is the container's, and the process gets its
// user, capabilities, rlimits, no_new_privs and seccomp filter from the
// --process file or from config.json's process with exec's options on top,
// as runc does.
#ifndef CAPSPAWN_TOOLS_OCI_EXEC_H_
#define CAPSPAWN_TOOLS_OCI_EXEC_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "actions.h"
#include "config.h"
#include "state.h"

namespace capspawn::oci {

struct ExecOptions {
  std::string process_file;  // --process
  std::vector<std::string> args;
  std::vector<std::string> env;  // --env, appended (a later NAME wins)
  std::string cwd;               // --cwd
  std::string user;              // --user UID[:GID]
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;  // --cap
  bool tty = false;
  bool no_new_privs = false;
};

// What the spawn needs: the process's spec and actions; the fds they point at
// live here.
struct ExecPlan {
  Process process;
  UniqueFd root;     // /proc/PID/root of the container's init
  UniqueFd program;  // consumed by the spawn
  std::string program_path;
  std::vector<std::string> env;
  std::vector<UniqueFd> ns_fds;
  std::vector<std::pair<int, std::string>> joins;  // (CLONE_NEW*, "pid")
  std::optional<std::vector<capspawn_sock_filter_t>> seccomp;
};

// The process to run: --process's, or the container config's with the
// options on top. Errors name the option or the field.
Result<Process> ExecProcess(const Config& container, const ExecOptions& o);

// Opens what the exec joins and runs: the init's namespaces and root (the
// init pinned by `init_pidfd` and checked alive after), the program.
// A container in a user namespace is NOT_SUPPORTED.
Result<ExecPlan> PlanExec(const State& s, int init_pidfd, const Config& container, Process process);

// The spawn actions: stdio (and `preserve` more fds from 3), the joins,
// then the process's settings.
void BuildExecActions(ExecPlan& plan, const int stdio[3], int preserve, ActionList* out);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_EXEC_H_
