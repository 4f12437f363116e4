// The one path from a spawn request to the engine. capspawn_spawn*,
// capspawn_create_without_starting and ProcessBuilder all fill a Request and
// call Execute(): flags and actions are validated, the program resolved (#!),
// the namespace, fd table and environment planned, then engine::Launch.
#ifndef CAPSPAWN_SRC_SPAWN_REQUEST_H_
#define CAPSPAWN_SRC_SPAWN_REQUEST_H_

#include <cstdint>
#include <optional>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/process.h>
#include <capspawn/result.h>
#include <capspawn/spawn.h>

#include "spawn/actions.h"

namespace capspawn::spawn {

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

struct Launched {
  Process process;
  // The final program's parsed headers (after #!); absent for an
  // execute-only file that could not be read.
  std::optional<elf::ElfHeaders> headers;
};

Result<Launched> Execute(Request request);

// CollectActions (taking the actions' fds first), then Execute: what
// capspawn_spawn* and capspawn_create_without_starting run.
Result<Launched> ExecuteActions(int job, uint32_t flags, const char* path, UniqueFd program_fd,
                                const char* const* argv, const char* const* env,
                                size_t action_count, const capspawn_action_t* actions,
                                bool stop_at_exec);

}  // namespace capspawn::spawn

#endif  // CAPSPAWN_SRC_SPAWN_REQUEST_H_
