// SPDX-License-Identifier: Apache-2.0
// Private mount namespaces: what the child sees of the filesystem. Planned in
// the parent as a list of mount operations, run by an allocation-free child
// hook, and cached: a repeated configuration is built once and entered with
// setns. See docs/namespaces.md.
#ifndef CAPSPAWN_SRC_NAMESPACE_NAMESPACE_H_
#define CAPSPAWN_SRC_NAMESPACE_NAMESPACE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/result.h>

#include "engine/launch.h"

namespace capspawn::container {
struct Config;
}

namespace capspawn::ns {

enum class EntryKind : uint8_t {
  kBind,        // the handed directory `fd`, bound at `path`
  kTmpfs,       // an empty tmpfs of the child's own (capspawn extension)
  kProc,        // procfs of a new pid namespace (capspawn extension)
  kDevMinimal,  // a read-only tmpfs holding null, zero, urandom (capspawn extension)
};

// One entry of the child's namespace, in action order.
struct Entry {
  std::string path;  // absolute, normalised
  int fd = -1;       // kBind: borrowed, a directory (O_PATH is enough)
  bool read_only = false;
  size_t action_index = SIZE_MAX;  // for messages; SIZE_MAX: not from an action
  EntryKind kind = EntryKind::kBind;
};

struct Request {
  bool clone_namespace = false;              // CLONE_NAMESPACE (or CLONE_DIR "/")
  std::vector<Entry> entries;                // in order; duplicates keep the first, nested dropped
  std::vector<std::string> clone_dirs;       // validated: absolute, normalised, no trailing '/'
  int loader_fd = -1;                        // a library directory, borrowed
  bool default_ldsvc = false;                // DEFAULT_LDSVC
  const elf::ElfHeaders* headers = nullptr;  // the program's; null: unknown (execute-only)
  bool use_cache = true;                     // false: build in the child every time
  // The container actions' filesystem part (mounts, devices, masked and
  // read-only paths; src/namespace/mounts.cc), or null. Borrowed.
  const container::Config* container = nullptr;
  // The caller's plan sets up the user namespace (container/plan.h): this
  // plan adds no CLONE_NEWUSER and writes no id map.
  bool external_user_ns = false;
};

// One step of the child's build. Indexes name scratch fd slots of the plan.
enum class OpKind : uint8_t {
  kOpenTree,    // slot[a] = open_tree(path, CLONE|RECURSIVE) [read-only], checked by (dev, ino)
  kMountTmpfs,  // mount a tmpfs on `path` (absolute, in the child's current view)
  kMountProc,   // mount procfs on `path`
  kOpenDir,     // slot[a] = open(path, O_PATH|O_DIRECTORY)
  kMkdir,       // mkdirat(slot[a], rel) (EEXIST is fine)
  kMkfile,      // an empty file at slot[a]/rel, a mountpoint for a non-directory
  kSymlink,     // symlinkat(link, slot[a], rel)
  kMove,        // move_mount(slot[b] -> slot[a]/rel), then close slot[b]
  kReadOnly,    // mount_setattr(slot[a]/rel, RDONLY), recursive when `flag`
  kPivot,       // slot[a] becomes "/", the old root is detached
  kChdir,       // chdir(path); a failure leaves the cwd at "/"
  // Container mounts (mounts.cc); paths relative to slot[a] are resolved
  // inside it (openat2 RESOLVE_IN_ROOT): a symlink never leads out.
  kMkdirIn,       // mkdirat(openat2(slot[a], path), name) (EEXIST is fine)
  kMkfileIn,      // openat2(slot[a], path, O_CREAT): an empty file if missing
  kOpenIn,        // slot[b] = openat2(slot[a], path, O_PATH)
  kMountFs,       // fsopen(fstype), fsconfig(opts), fsmount(attr_set), moved onto slot[b]
  kBindTo,        // mount_setattr(slot[a], attr) then moved onto slot[b]
  kSymlinkIn,     // symlinkat(link, openat2(slot[a], path), name) (EEXIST is fine)
  kMask,          // path: a copy of slot[a] (/dev/null) over a file, a read-only
                  // empty tmpfs over a directory; missing: skipped
  kReadOnlyPath,  // path: a read-only recursive copy of itself on top; missing: skipped
};

// A file system option for fsconfig: value null is a flag.
struct FsOpt {
  const char* key;
  const char* value;
};

struct Op {
  OpKind kind;
  bool flag = false;  // kOpenTree: read-only; kMove: optional (ENOENT skips); kReadOnly: recursive
  int a = -1;
  int b = -1;
  const char* path = nullptr;  // absolute path, or relative to slot[a] ("" = slot[a] itself)
  const char* link = nullptr;  // kSymlink: the target; kOpenTree: unused
  dev_t dev = 0;               // kOpenTree: the expected directory; ino 0: no check
  ino_t ino = 0;
  int source_fd = -1;           // kOpenTree: clone this directory fd in the parent (PrecloneTrees)
  const char* label = nullptr;  // "mount /data (action 2)"
  const char* step = nullptr;   // "open_tree"...
  // Container mounts.
  bool recursive = true;         // kOpenTree: with the mounts below
  const char* name = nullptr;    // kMkdirIn, kSymlinkIn: the new entry's name
  const char* shown = nullptr;   // the path a failure names, when set
  const char* fstype = nullptr;  // kMountFs
  const FsOpt* opts = nullptr;   // kMountFs
  size_t opt_count = 0;
  uint64_t attr_set = 0;  // kMountFs, kBindTo: MOUNT_ATTR_*
  uint64_t attr_clr = 0;  // kBindTo
};

struct CachedNamespace;

// Everything the child needs. Immobile once Apply() has pointed the launch
// plan at it: keep it alive, unmoved, until Launch() returns. One launch each.
class Plan {
 public:
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  uint64_t clone_flags = 0;  // CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID
  bool user_ns = false;      // write uid_map/gid_map first
  const char* uid_map = nullptr;
  const char* gid_map = nullptr;
  std::vector<Op> ops;
  int slot_count = 0;
  std::vector<int> slots;  // scratch, the child's fds

  // A cached namespace to enter instead of building one (see ns_cache.cc).
  std::shared_ptr<const CachedNamespace> cached;
  bool private_copy = false;  // unshare(CLONE_NEWNS) after entering it
  int user_fd_child = -1;     // the cached fds' numbers in the child
  int mnt_fd_child = -1;
  std::vector<Op> per_spawn_ops;  // run after entering (tmpfs mounts)

  // What the child reports on failure: "label: step path", composed in place.
  char error_text[768] = {};

  const char* Keep(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back().c_str();
  }
  const FsOpt* KeepOpts(std::vector<FsOpt> opts) {
    opts_.push_back(std::move(opts));
    return opts_.back().data();
  }
  int NewSlot() { return slot_count++; }

 private:
  std::deque<std::string> strings_;  // stable addresses behind the pointers above
  std::deque<std::vector<FsOpt>> opts_;
};

// Plans the child's filesystem. Empty (nullptr) when nothing is needed: the
// caller's tree as it is (CLONE_NAMESPACE, no entries). Errors name the entry:
// "mount /data (action 2): ..."; a dynamic program with no loader and no
// CLONE_NAMESPACE is INVALID_ARGS naming its interpreter; a host without user
// namespaces (for a non-root caller) is NOT_SUPPORTED naming the setting.
// A private-root configuration seen before is taken from the cache (built
// now, by a short-lived builder process, when it is not there yet).
Result<std::unique_ptr<Plan>> PlanNamespace(const Request& request);

// Adds the clone flags, the fds and the child hook.
void Apply(Plan& plan, engine::LaunchPlan* launch);

// The child hooks (exposed for tests): build from the ops, or enter the cache.
int BuildInChild(const void* plan, engine::ChildError* error);
int EnterCachedInChild(const void* plan, engine::ChildError* error);
// Runs ops in the child or the builder; -1 after ChildFail.
// open_tree(OPEN_TREE_CLONE | AT_RECURSIVE) of dirfd/path ("" for dirfd
// itself), read-only if asked: the new fd or -errno. Allocation-free.
long CloneTreeAt(int dirfd, const char* path, bool read_only, bool recursive = true);

int RunOps(const Op* ops, size_t count, int* slots, char* error_text, size_t error_size,
           engine::ChildError* error);

// Shared with mounts.cc: the directory a new root is staged on ("/tmp"...),
// and the path a directory fd was opened at.
const char* StagingDirectory();
Result<std::string> PathOfFdForBind(int fd, const std::string& label);

// "/" or "/a/b": absolute, no empty, "." or ".." component, no trailing '/'.
bool IsNormalisedAbsolute(const std::string& path);

// How messages name an entry: "mount /data (action 2)", "tmpfs /tmp".
std::string EntryLabel(const Entry& entry);
// fdio's rule for ADD_NS_ENTRY over a list: every path absolute and
// normalised (INVALID_ARGS naming the entry); a duplicate keeps the first, a
// nested one is dropped. "/" may only be a directory (the root directory,
// which the others are mounted on: it nests none of them). The indices of
// the entries kept, in order.
Result<std::vector<size_t>> KeptEntries(const std::vector<Entry>& entries);

// Whether this process may create user namespaces; the error names the host
// setting that forbids it. Cached after the first call.
Status CheckUserNamespaces();

// The namespace cache.
struct CacheStats {
  size_t size = 0;       // namespaces held
  size_t capacity = 0;   // at most this many (LRU)
  uint64_t hits = 0;     // spawns that entered a cached namespace
  uint64_t builds = 0;   // namespaces built by the builder
  uint64_t flushes = 0;  // times a mount-table change emptied the cache
  bool enabled = false;  // false: CAPSPAWN_NS_CACHE=0, or no /proc/self/mounts
};
CacheStats GetCacheStats();
// Closes every cached namespace's fds (their namespaces die with the last
// process in them). Spawns in flight keep theirs until they return.
void ClearCache();
// Tests: capacity (0 disables the cache). Returns the previous capacity.
size_t SetCacheCapacityForTesting(size_t capacity);

}  // namespace capspawn::ns

#endif  // CAPSPAWN_SRC_NAMESPACE_NAMESPACE_H_
