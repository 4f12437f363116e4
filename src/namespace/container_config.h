// SPDX-License-Identifier: Apache-2.0
// What the container actions of a spawn ask for (capspawn/spawn.h, 0x1005 and
// up), validated in the parent. The filesystem part goes to the namespace plan
// (src/namespace/mounts.cc), the rest to the container plan
// (src/container/plan.h). Plain data, kept here, below both, so that
// container uses namespace and not the other way round.
#ifndef CAPSPAWN_SRC_NAMESPACE_CONTAINER_CONFIG_H_
#define CAPSPAWN_SRC_NAMESPACE_CONTAINER_CONFIG_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <capspawn/result.h>
#include <capspawn/spawn.h>

namespace capspawn::container {

// One file system option: "size=64m" is {"size", "64m"}; "newinstance" is
// {"newinstance", ""} (a flag).
struct FsOption {
  std::string key;
  std::string value;
  bool flag = false;
};

// CAPSPAWN_ACTION_ADD_MOUNT, or a namespace entry turned into a mount on a
// root directory entry.
struct Mount {
  uint32_t kind = 0;   // CAPSPAWN_MOUNT_*
  uint32_t flags = 0;  // CAPSPAWN_MOUNT_RDONLY...
  std::string target;  // absolute, normalised
  int source_fd = -1;  // BIND: owned by the SpawnConfig
  std::vector<FsOption> options;
  size_t action_index = SIZE_MAX;
};

struct PathAction {
  std::string path;
  size_t action_index;
};

struct IdMapLine {
  uint32_t inside, outside, count;
  size_t action_index;
};

struct Rlimit {
  uint32_t resource;
  uint64_t soft, hard;
  size_t action_index;
};

struct Sysctl {
  std::string key;  // "net.ipv4.ip_forward"
  std::string value;
  size_t action_index;
};

// CAPSPAWN_ACTION_JOIN_NAMESPACE: a namespace the child enters with setns.
struct Join {
  int nstype;  // CLONE_NEWNET...
  int fd;      // borrowed from the caller for the call
  size_t action_index;
};

template <typename T>
struct Set {  // a value and the action that set it (the last one wins)
  T value;
  size_t action_index;
};

struct Config {
  uint32_t new_ns = 0;  // CAPSPAWN_NEW_NS_*
  size_t new_ns_action = SIZE_MAX;
  std::optional<Set<std::string>> hostname;
  std::vector<Mount> mounts;
  std::vector<PathAction> masked;
  std::vector<PathAction> read_only;
  std::vector<PathAction> devices;
  std::optional<Set<capspawn_capabilities_t>> caps;
  std::optional<size_t> no_new_privs;  // the action index
  std::vector<Rlimit> rlimits;         // one per resource
  std::optional<Set<std::pair<uid_t, gid_t>>> ids;
  std::optional<Set<std::vector<gid_t>>> groups;
  std::optional<Set<mode_t>> umask;
  std::vector<IdMapLine> uid_map, gid_map;
  std::optional<Set<std::vector<sock_filter>>> seccomp;
  std::optional<Set<std::string>> cwd;
  std::vector<Sysctl> sysctls;
  std::optional<Set<int>> oom_score_adj;
  std::optional<Set<int>> death_signal;
  std::optional<size_t> new_session;  // the action index
  // The first container action given, even one that asks for nothing (what
  // a path that cannot carry these actions names when it refuses them).
  std::optional<Set<uint32_t>> first_action;
  // Namespaces joined (one per kind; a join of the caller's own user
  // namespace is dropped as the no-op it is).
  std::vector<Join> joins;
  const Join* Joined(int nstype) const {
    for (const Join& j : joins) {
      if (j.nstype == nstype) return &j;
    }
    return nullptr;
  }

  // Whether anything here asks for a change of the filesystem (mounts, masked
  // or read-only paths, devices).
  bool HasFilesystem() const {
    return !mounts.empty() || !masked.empty() || !read_only.empty() || !devices.empty();
  }
  bool Empty() const {
    return new_ns == 0 && !hostname && !HasFilesystem() && !caps && !no_new_privs &&
           rlimits.empty() && !ids && !groups && !umask && uid_map.empty() && gid_map.empty() &&
           !seccomp && !cwd && sysctls.empty() && !oom_score_adj && !death_signal && !new_session &&
           joins.empty();
  }
};

// Whether `action` is one of the container actions.
bool IsContainerAction(uint32_t action);
// The action's name ("SET_HOSTNAME"), for messages; nullptr for others.
const char* ContainerActionName(uint32_t action);

// Validates action `index` into *config. Its consumed fd (an ADD_MOUNT bind
// source) is already owned by the caller and checked open when `source_open`.
Status CollectAction(size_t index, const capspawn_action_t& action, bool source_open,
                     Config* config);

// The checks that need every action seen (a sysctl needs its namespace;
// SET_GROUPS needs SET_IDS). Called after the last CollectAction.
Status Finish(Config* config);

// join.cc: JOIN_NAMESPACE's checks (the fd is a namespace of the stated
// type), and those that need every action seen (no new namespace of a joined
// kind, no user namespace, no mounts with a joined mount namespace).
Status CollectJoin(size_t index, const capspawn_action_t& action, Config* config);
Status FinishJoins(const Config& config);
// "net", "mnt"... for CLONE_NEWNET, CLONE_NEWNS...; nullptr for others.
const char* JoinTypeName(int nstype);

// The fd an ADD_MOUNT consumes, or nullptr.
int* ConsumedMountFd(const capspawn_action_t& action);

// Parses "size=64m,mode=1777,newinstance" (commas separate options).
std::vector<FsOption> ParseFsOptions(const char* data);

}  // namespace capspawn::container

#endif  // CAPSPAWN_SRC_NAMESPACE_CONTAINER_CONFIG_H_
