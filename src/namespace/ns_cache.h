// SPDX-License-Identifier: Apache-2.0
// The namespace cache: private roots built once by a short-lived builder
// process and kept as nsfs fds, entered by later spawns with setns. Keyed on
// everything that decides what the namespace holds; emptied whenever the
// caller's mount table changes. See docs/namespaces.md ("Cache").
#ifndef CAPSPAWN_SRC_NAMESPACE_NS_CACHE_H_
#define CAPSPAWN_SRC_NAMESPACE_NS_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "namespace/namespace.h"

namespace capspawn::ns {

// STATX_MNT_ID | STATX_MNT_ID_UNIQUE: a mount id that is never reused
// (kernel >= 6.8; older kernels give the reusable one).
inline constexpr unsigned kStatxMntIdUnique = 0x1000u | 0x4000u;

// One built namespace. Close-on-exec fds; the engine hands them to the
// child's setup only, which closes them before exec.
struct CachedNamespace {
  UniqueFd user;  // its user namespace (non-root callers), else -1
  UniqueFd mnt;   // its mount namespace
};

class Cache {
 public:
  static Cache& Get();

  // False when CAPSPAWN_NS_CACHE=0 or /proc/self/mounts cannot be watched.
  bool Enabled();

  struct Hit {
    std::shared_ptr<const CachedNamespace> ns;  // null: not cached
    uint64_t generation = 0;                    // pass to Insert
  };
  Hit Lookup(const std::string& key);
  // Keeps ns unless the mount table changed since the Lookup that gave
  // `generation` (it may then describe an older tree).
  void Insert(const std::string& key, std::shared_ptr<const CachedNamespace> ns,
              uint64_t generation);

  void Clear();
  CacheStats Stats();
  size_t SetCapacity(size_t capacity);

 private:
  Cache() = default;
  void InitLocked();
  void PollChangesLocked();
  void EvictLocked();

  std::mutex mu_;
  bool initialized_ = false;
  size_t capacity_ = 0;
  UniqueFd mounts_;  // /proc/self/mounts: poll() says when the mount table changed
  using Lru = std::list<std::pair<std::string, std::shared_ptr<const CachedNamespace>>>;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string_view, Lru::iterator> index_;
  uint64_t generation_ = 0;
  uint64_t hits_ = 0, builds_ = 0, flushes_ = 0;
};

// Runs plan's build in a builder process (CLONE_VM|CLONE_VFORK|CLONE_FILES,
// new user+mount namespaces) that leaves the namespaces' fds in our fd table
// and exits. Errors are the build's own ("mount /data (action 2): ...").
Result<std::shared_ptr<const CachedNamespace>> BuildCachedNamespace(Plan& plan);

}  // namespace capspawn::ns

#endif  // CAPSPAWN_SRC_NAMESPACE_NS_CACHE_H_
