// SPDX-License-Identifier: Apache-2.0
// Turning fdio-style flags and actions into a launch plan's pieces.
#ifndef CAPSPAWN_SRC_SPAWN_ACTIONS_H_
#define CAPSPAWN_SRC_SPAWN_ACTIONS_H_

#include <capspawn/spawn.h>

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "base/owned_fds.h"
#include "engine/launch.h"
#include "namespace/container_config.h"
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
  std::string name;  // ADD_NAMED_HANDLE: its LISTEN_FDNAMES name; empty: none
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

// Adds fd placements and handles to a SpawnConfig under fdio's rules: fd
// targets in 0..1023 and each set once; handle ids without reserved bits, of
// a type that does not describe the process itself, one loader, each typed
// id once. `label` ("action 3", "handle 2") begins each message. The fds are
// borrowed: the config's `owned` is the caller's to fill.
class ConfigBuilder {
 public:
  ConfigBuilder(SpawnConfig* cfg, uint32_t flags) : cfg_(cfg), flags_(flags) {}
  Status Fd(const std::string& label, int source, int target);
  // `name`: the handle's LISTEN_FDNAMES name (borrowed), or null.
  Status Handle(const std::string& label, uint32_t id, int fd, const char* name = nullptr);

 private:
  SpawnConfig* cfg_;
  uint32_t flags_;
  bool targets_[1024] = {};
  std::unordered_set<uint32_t> typed_ids_;
};

// Takes ownership of every consumed fd first (so they are closed on any
// failure), then validates the actions in order. Messages name the action index.
Result<SpawnConfig> CollectActions(uint32_t flags, size_t action_count,
                                   const capspawn_action_t* actions);

// Handle types that describe the process itself (PROC_SELF, THREAD_SELF,
// VMAR_ROOT, VMAR_LOADED, VMO_STACK, VMO_EXECUTABLE): Linux gives a process
// those by other means, and Fuchsia's process builder refuses them.
bool IsKernelOwnedType(uint32_t type);

// The checks every typed handle id gets, with Fuchsia's answers
// (`what` prefixes the message): reserved bits, a type processargs.h does
// not define, a kernel-owned type or PA_NS_DIR are INVALID_ARGS;
// PA_VMO_VDSO (a caller-chosen vDSO) is NOT_SUPPORTED.
Status CheckHandleType(uint32_t id, const std::string& what);

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
