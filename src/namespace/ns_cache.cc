// SPDX-License-Identifier: Apache-2.0
// The namespace cache and its builder. See ns_cache.h.
#include "namespace/ns_cache.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/status.h"

namespace capspawn::ns {
namespace {

constexpr size_t kDefaultCapacity = 16;
constexpr size_t kBuilderStack = 256 * 1024;

struct BuilderArgs {
  Plan* plan;
  engine::ChildError error;
  int user_fd = -1;
  int mnt_fd = -1;
};

CAPSPAWN_CHILD_CODE long Sys(long nr, long a = 0, long b = 0, long c = 0) {
  long r = syscall(nr, a, b, c);
  return r < 0 ? -errno : r;
}

// The builder shares our fd table (CLONE_FILES): the namespace fds it opens
// are ours once it exits; everything else it opens it closes.
CAPSPAWN_CHILD_CODE int BuilderMain(void* raw) {
  BuilderArgs* a = static_cast<BuilderArgs*>(raw);
  long r;
  if (a->plan->user_ns) {
    r = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/self/ns/user"),
            O_RDONLY | O_CLOEXEC);
    if (r < 0)
      return engine::ChildFail(&a->error, "cache: open /proc/self/ns/user", static_cast<int>(-r));
    a->user_fd = static_cast<int>(r);
  }
  r = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/self/ns/mnt"), O_RDONLY | O_CLOEXEC);
  if (r >= 0) a->mnt_fd = static_cast<int>(r);
  if (r < 0 || BuildInChild(a->plan, &a->error) < 0) {
    if (r < 0) engine::ChildFail(&a->error, "cache: open /proc/self/ns/mnt", static_cast<int>(-r));
    if (a->user_fd >= 0) Sys(SYS_close, a->user_fd);
    if (a->mnt_fd >= 0) Sys(SYS_close, a->mnt_fd);
    a->user_fd = a->mnt_fd = -1;
    return 1;
  }
  return 0;
}

}  // namespace

Cache& Cache::Get() {
  // Never destroyed: spawns on other threads may still run at exit. The fds
  // go with the process; ClearCache() closes them earlier.
  static Cache* cache = new Cache;
  return *cache;
}

void Cache::InitLocked() {
  if (initialized_) return;
  initialized_ = true;
  capacity_ = kDefaultCapacity;
  if (const char* env = getenv("CAPSPAWN_NS_CACHE")) {
    char* end = nullptr;
    unsigned long v = strtoul(env, &end, 10);
    if (end != env && *end == '\0') capacity_ = v;
  }
  // Without a way to see mount-table changes the cache could go stale.
  mounts_.reset(open("/proc/self/mounts", O_RDONLY | O_CLOEXEC));
  if (!mounts_) capacity_ = 0;
}

bool Cache::Enabled() {
  std::lock_guard<std::mutex> lock(mu_);
  InitLocked();
  return capacity_ > 0;
}

// A mount or unmount anywhere in our mount namespace: what any cached
// namespace copied may be out of date, so all of them go. poll() on
// /proc/self/mounts reports it once (POLLPRI), until the next change.
void Cache::PollChangesLocked() {
  pollfd p = {mounts_.get(), POLLPRI, 0};
  if (poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR))) {
    if (!lru_.empty()) ++flushes_;
    index_.clear();
    lru_.clear();
    ++generation_;
  }
}

void Cache::EvictLocked() {
  while (lru_.size() > capacity_) {
    index_.erase(std::string_view(lru_.back().first));
    lru_.pop_back();
  }
}

Cache::Hit Cache::Lookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  InitLocked();
  Hit hit;
  if (capacity_ == 0) return hit;
  PollChangesLocked();
  hit.generation = generation_;
  auto it = index_.find(std::string_view(key));
  if (it == index_.end()) return hit;
  lru_.splice(lru_.begin(), lru_, it->second);
  ++hits_;
  hit.ns = it->second->second;
  return hit;
}

void Cache::Insert(const std::string& key, std::shared_ptr<const CachedNamespace> ns,
                   uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  ++builds_;
  if (capacity_ == 0) return;
  PollChangesLocked();
  if (generation != generation_) return;
  if (auto it = index_.find(std::string_view(key)); it != index_.end()) {
    it->second->second = std::move(ns);  // built twice at once: keep the newer
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(key, std::move(ns));
  index_.emplace(std::string_view(lru_.front().first), lru_.begin());
  EvictLocked();
}

void Cache::Clear() {
  Lru dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index_.clear();
    dropped.swap(lru_);
  }
  // Closing a namespace's last fd tears its mounts down: outside the lock.
}

CacheStats Cache::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  InitLocked();
  CacheStats s;
  s.size = lru_.size();
  s.capacity = capacity_;
  s.hits = hits_;
  s.builds = builds_;
  s.flushes = flushes_;
  s.enabled = capacity_ > 0;
  return s;
}

size_t Cache::SetCapacity(size_t capacity) {
  Lru dropped;
  std::lock_guard<std::mutex> lock(mu_);
  InitLocked();
  size_t old = capacity_;
  capacity_ = mounts_ ? capacity : 0;
  while (lru_.size() > capacity_) {
    index_.erase(std::string_view(lru_.back().first));
    dropped.splice(dropped.begin(), lru_, std::prev(lru_.end()));
  }
  return old;
}

namespace {

void CloseOpenSlots(Plan& plan) {
  for (int& fd : plan.slots) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

// The entries planned from their fds, cloned here, in the caller's namespace,
// before the builder leaves it (see PlanNamespace).
Status PrecloneTrees(Plan& plan) {
  for (const Op& op : plan.ops) {
    if (op.kind != OpKind::kOpenTree || op.source_fd < 0) continue;
    long r = CloneTreeAt(op.source_fd, "", op.flag);
    if (r < 0) {
      CloseOpenSlots(plan);
      return Error::FromErrno(static_cast<int>(-r), std::string(op.label) + ": " + op.step);
    }
    plan.slots[static_cast<size_t>(op.a)] = static_cast<int>(r);
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<const CachedNamespace>> BuildCachedNamespace(Plan& plan) {
  plan.slots.assign(static_cast<size_t>(plan.slot_count), -1);
  Status cloned = PrecloneTrees(plan);
  if (!cloned.ok()) return cloned.error();
  void* stack = mmap(nullptr, kBuilderStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return Error::FromErrno(errno, "namespace cache: mmap builder stack");
  BuilderArgs args{&plan};
  // No signal handler may run in the builder while it shares our memory;
  // exit signal 0: the caller's SIGCHLD handling never sees it.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const int flags = static_cast<int>(CLONE_VM | CLONE_VFORK | CLONE_FILES | plan.clone_flags);
  pid_t pid = clone(BuilderMain, static_cast<char*>(stack) + kBuilderStack, flags, &args);
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid > 0) {
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
    }
  }
  munmap(stack, kBuilderStack);
  // The builder closes its slots (they share our fd table) unless it failed
  // before its plan ran.
  CloseOpenSlots(plan);
  if (pid < 0) return Error::FromErrno(clone_err, "namespace cache: clone the builder");
  if (args.mnt_fd < 0) {
    const engine::ChildError& e = args.error;
    // No step recorded: the builder died before it could say why.
    capspawn_status_t status = e.status != 0 ? e.status
                               : e.err != 0  ? StatusFromErrno(e.err)
                                             : CAPSPAWN_ERR_INTERNAL;
    return Error(status,
                 std::string(e.step ? e.step : "namespace builder") + ": " + std::strerror(e.err));
  }
  auto ns = std::make_shared<CachedNamespace>();
  ns->user.reset(args.user_fd);
  ns->mnt.reset(args.mnt_fd);
  return std::shared_ptr<const CachedNamespace>(std::move(ns));
}

CacheStats GetCacheStats() { return Cache::Get().Stats(); }
void ClearCache() { Cache::Get().Clear(); }
size_t SetCacheCapacityForTesting(size_t capacity) { return Cache::Get().SetCapacity(capacity); }

}  // namespace capspawn::ns
