// Turning fdio-style flags and actions into a launch plan's pieces.
#ifndef CAPSPAWN_SRC_SPAWN_ACTIONS_H_
#define CAPSPAWN_SRC_SPAWN_ACTIONS_H_

#include <capspawn/spawn.h>

#include <optional>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "base/owned_fds.h"
#include "container/config.h"
#include "engine/launch.h"
#include "namespace/namespace.h"

namespace capspawn::spawn {

struct NsEntry {
  std::string path;
  int fd;  // owned by SpawnConfig::owned; -1 for tmpfs, proc, dev
  size_t action_index;
  bool read_only = false;
  ns::EntryKind kind = ns::EntryKind::kBind;
};

struct TypedHandle {
  uint32_t id;
  int fd;
};

// Everything the actions and flags ask for, validated.
struct SpawnConfig {
  // Fds the spawn consumes (TRANSFER_FD, ADD_HANDLE, ADD_NS_ENTRY): closed when
  // the config dies, whatever happens.
  OwnedFds owned;
  std::vector<engine::FdAssignment> fds;  // targets 0..1023, unique
  std::vector<TypedHandle> typed;         // land at 3.. in this order
  std::vector<NsEntry> ns_entries;
  std::vector<std::string> clone_dirs;
  std::optional<std::string> name;
  int loader_fd = -1;
  container::Config container;  // the container actions (0x1005 and up)
};

// Takes ownership of every consumed fd first (so they are closed on any
// failure), then validates the actions in order. Messages name the action index.
Result<SpawnConfig> CollectActions(uint32_t flags, size_t action_count,
                                   const capspawn_action_t* actions);

// Handle types that describe the process itself (PROC_SELF, THREAD_SELF,
// VMAR_ROOT, VMAR_LOADED, VMO_VDSO, VMO_STACK, VMO_EXECUTABLE): Linux gives
// a process those by other means, and only the spawner sets them on Fuchsia.
bool IsKernelOwnedType(uint32_t type);

// Whether fd is an open fd of this process.
bool IsOpen(int fd);

// Takes ownership of the fds the actions consume, without validating anything
// else: for failures that happen before CollectActions runs.
void ConsumeActionHandles(size_t action_count, const capspawn_action_t* actions);

// The checks of a call that need no program: known flags, argv, a name when
// argv is empty, CLONE_DIR prefixes (absolute, normalised, no trailing '/').
// Shared by the in-process and the launcher paths. Returns whether the child
// sees the caller's filesystem: CLONE_NAMESPACE, or a CLONE_DIR of "/".
Result<bool> CheckCall(uint32_t flags, const char* const* argv, const SpawnConfig& cfg);

}  // namespace capspawn::spawn

#endif  // CAPSPAWN_SRC_SPAWN_ACTIONS_H_
