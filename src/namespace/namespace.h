// Private mount namespaces: what the child sees of the filesystem. Planned in
// the parent (paths, inodes, labels), built by an allocation-free child hook.
// See docs/namespaces.md.
#ifndef CAPSPAWN_SRC_NAMESPACE_NAMESPACE_H_
#define CAPSPAWN_SRC_NAMESPACE_NAMESPACE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/result.h>

#include "engine/launch.h"

namespace capspawn::ns {

// A handed directory: bound at `path` in the child.
struct Entry {
  std::string path;  // absolute, normalised
  int fd;            // borrowed: a directory (O_PATH is enough)
  bool read_only = false;
  size_t action_index = SIZE_MAX;  // for messages; SIZE_MAX: not from an action
};

struct Request {
  bool clone_namespace = false;              // CLONE_NAMESPACE (or CLONE_DIR "/")
  std::vector<Entry> entries;                // in order; duplicates keep the first, nested dropped
  std::vector<std::string> clone_dirs;       // validated: absolute, normalised, no trailing '/'
  int loader_fd = -1;                        // a library directory, borrowed
  bool default_ldsvc = false;                // DEFAULT_LDSVC
  const elf::ElfHeaders* headers = nullptr;  // the program's; null: unknown (execute-only)
};

// One bind the child makes. Strings live in the Plan.
struct ChildMount {
  const char* source;  // the directory's path in the caller's tree
  const char* target;  // relative to the new root ("usr/lib"), never empty
  dev_t dev;
  ino_t ino;
  bool read_only;
  bool optional;          // a loader directory whose target may be missing inside an entry
  const char* step_open;  // "mount /data (action 2): open"...
  const char* step_check;
  const char* step_tree;
  const char* step_move;
  const char* step_ro;
};

// A directory or symlink created in the private root's tmpfs.
struct ChildNode {
  const char* path;  // relative to the new root
  const char* link;  // symlink target, or null for a directory
  const char* step;
};

// Everything the child needs. Immobile once Apply() has pointed the launch
// plan at it: keep it alive, unmoved, until Launch() returns. One launch each.
class Plan {
 public:
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // What the child runs (read by the hook; filled by PlanNamespace).
  uint64_t clone_flags = 0;
  bool user_ns = false;
  bool private_root = false;      // false: the caller's tree with mounts on top
  const char* staging = nullptr;  // where the private root's tmpfs is mounted before pivot_root
  const char* uid_map = nullptr;
  const char* gid_map = nullptr;
  std::vector<ChildNode> nodes;
  std::vector<ChildMount> mounts;
  std::vector<int> trees;  // scratch, one per mount (the child's open_tree fds)

  // Owned storage behind the pointers above.
  std::vector<std::unique_ptr<std::string>> strings;
  const char* Keep(std::string s) {
    strings.push_back(std::make_unique<std::string>(std::move(s)));
    return strings.back()->c_str();
  }
};

// Plans the child's filesystem. Empty (nullptr) when nothing is needed: the
// caller's tree as it is (CLONE_NAMESPACE, no entries). Errors name the entry:
// "mount /data (action 2): ..."; a dynamic program with no loader and no
// CLONE_NAMESPACE is INVALID_ARGS naming its interpreter; a host without user
// namespaces (for a non-root caller) is NOT_SUPPORTED naming the setting.
Result<std::unique_ptr<Plan>> PlanNamespace(const Request& request);

// Adds the clone flags and the child hook. Call after plan->fds is final; the
// hook uses no fds of its own beyond those it opens and closes itself.
void Apply(Plan& plan, engine::LaunchPlan* launch);

// The child hook (exposed for tests).
int BuildInChild(const void* plan, engine::ChildError* error);

// "/" or "/a/b": absolute, no empty, "." or ".." component, no trailing '/'.
bool IsNormalisedAbsolute(const std::string& path);

// Whether this process may create user namespaces; the error names the host
// setting that forbids it. Cached after the first call.
Status CheckUserNamespaces();

}  // namespace capspawn::ns

#endif  // CAPSPAWN_SRC_NAMESPACE_NAMESPACE_H_
