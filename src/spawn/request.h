// SPDX-License-Identifier: Apache-2.0
// The one path from a spawn request to the engine, in two steps:
//   Prepare: the checks, the program (and #!), the job, the namespace
//     entries (normalised), stdio, the environment and argv decided, as a
//     Prepared request;
//   Launch: the Prepared request planned (namespace, fd table, LISTEN_*) and
//     handed to engine::Launch.
// capspawn_spawn*, capspawn_create_without_starting and ProcessBuilder
// run both in-process. Through the launcher, the client runs Prepare and
// sends the Prepared request (launcher/); the daemon's worker, as the client,
// rebuilds one from what it received with PrepareReceived (every check again)
// and runs Launch. What a request may depend on besides its own fields is the
// SpawnContext, passed explicitly.
#ifndef CAPSPAWN_SRC_SPAWN_REQUEST_H_
#define CAPSPAWN_SRC_SPAWN_REQUEST_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/process.h>
#include <capspawn/result.h>
#include <capspawn/spawn.h>

#include "base/string_list.h"
#include "job/spawn_hooks.h"
#include "spawn/actions.h"
#include "spawn/program.h"

namespace capspawn::resolver {
class PackageRoots;
}

namespace capspawn::spawn {

// Where a spawn runs, beyond its request.
struct SpawnContext {
  // #!resolve NAME: searched in these package roots (the launcher daemon's);
  // when null, asked of the Resolver of the launcher at `launcher_socket`;
  // with neither, NOT_SUPPORTED.
  const resolver::PackageRoots* package_roots = nullptr;
  const char* launcher_socket = nullptr;
  // Whether a "#!/path" line may be followed. The launcher takes programs
  // as fds (its clients follow #! themselves) and refuses them.
  bool interpreter_paths_allowed = true;
  // Seccomp filters installed in every process, after its job's, oldest
  // first: the launcher's client's own, so nothing it launches for a client
  // is less restricted than the client.
  std::span<const sock_fprog> inherited_filters;
  // PR_SET_PDEATHSIG of a process created without starting (0: none). The
  // launcher's processes of that kind die with the worker that made them.
  int created_death_signal = 0;
};

// A call of this process: #!resolve through the Resolver of the launcher
// $CAPSPAWN_LAUNCHER names, #! paths followed.
SpawnContext InProcessContext();

struct Request {
  int job = CAPSPAWN_INVALID_HANDLE;  // borrowed
  uint32_t flags = 0;
  const char* path = nullptr;  // the program by path, or
  UniqueFd program_fd;         // by fd (when path is null)
  const char* const* argv = nullptr;
  const char* const* env = nullptr;  // null: none, or the caller's with CLONE_ENVIRON
  SpawnConfig config;                // from CollectActions
  // ProcessBuilder / create-without-starting only; the plain path leaves both
  // alone (no exec stop, no rlimit change).
  uint64_t min_stack_size = 0;
  bool stop_at_exec = false;  // the process comes back traced, stopped at its exec
  // fdio's statuses (capspawn_spawn*, capspawn_create_without_starting): a
  // NOT_FOUND after the program was opened is INTERNAL. ProcessBuilder keeps
  // Fuchsia's process_builder statuses (NOT_FOUND).
  bool fdio_statuses = false;
};

// A request decided but for its process.
struct Prepared {
  // The fd table's sources (stdio folded in), typed handles (CLONE_JOB's
  // added), namespace entries (duplicates and nested ones dropped), CLONE_DIR
  // prefixes, the name, the loader, and every fd the request owns.
  SpawnConfig cfg;
  bool clone_namespace = false;  // CLONE_NAMESPACE or CLONE_DIR "/"
  bool default_ldsvc = false;
  int job = CAPSPAWN_INVALID_HANDLE;  // the job fd as given (-1: the caller's cgroup)
  job_internal::SpawnTarget target;   // where the process goes, and its policy
  Program program;                    // the ELF to exec, after #!
  // argv and the environment before LISTEN_*: the caller's arrays (env
  // null: none), or, when null and the list flag is set, the lists.
  const char* const* argv = nullptr;
  const char* const* env = nullptr;
  StringList arg_list, env_list;
  bool args_in_list = false, env_in_list = false;
  uint64_t min_stack_size = 0;
  bool stop_at_exec = false;
  bool fdio_statuses = false;  // as Request's

  // e, or INTERNAL for a NOT_FOUND when fdio's statuses apply.
  Error Fail(const Error& e) const { return fdio_statuses ? FdioStatus(e) : e; }

  // The argv to exec (#!'s, or the caller's), and the environment.
  std::vector<std::string_view> Args() const;
  std::vector<std::string_view> Environment() const;
};

// What a launcher client sent for one launch: nothing implicit, every fd
// owned. Names are entries of every kind; "/" is the client's filesystem.
struct Received {
  struct Name {
    std::string path;
    UniqueFd directory;  // kBind only
    ns::EntryKind kind = ns::EntryKind::kBind;
    bool read_only = false;
    size_t action_index = SIZE_MAX;  // the client's, for messages
  };
  struct Handle {
    uint32_t id = 0;
    UniqueFd fd;
    std::string name;  // LISTEN_FDNAMES name; empty: none
  };
  UniqueFd executable;
  StringList args, environ;
  std::vector<Name> names;
  std::vector<Handle> handles;
  UniqueFd job;  // empty: the caller's cgroup
  std::optional<std::string> name;
  bool default_loader = false;
  bool stop_at_exec = false;
};

struct Launched {
  Process process;
  pid_t pid = -1;  // as the engine saw it, even if the process is gone by now
  // The final program's parsed headers (after #!); absent for an
  // execute-only file that could not be read.
  std::optional<elf::ElfHeaders> headers;
};

Result<Prepared> Prepare(Request request, const SpawnContext& context);
// Every check of Prepare, on what a launcher client sent. Statuses and
// messages name the name entry or handle by its index (the client's action,
// when it sent one).
Result<Prepared> PrepareReceived(Received received, const SpawnContext& context);
Result<Launched> Launch(Prepared& prepared, const SpawnContext& context);

// Prepare then Launch, with InProcessContext().
Result<Launched> Execute(Request request);

// CollectActions (taking the actions' fds first), then Execute: what
// capspawn_spawn* and capspawn_create_without_starting run.
Result<Launched> ExecuteActions(int job, uint32_t flags, const char* path, UniqueFd program_fd,
                                const char* const* argv, const char* const* env,
                                size_t action_count, const capspawn_action_t* actions,
                                bool stop_at_exec);

}  // namespace capspawn::spawn

#endif  // CAPSPAWN_SRC_SPAWN_REQUEST_H_
