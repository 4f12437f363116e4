// The child side: runs the planned operations with raw syscalls only. It
// runs in the launch engine's vfork-style child, or in the cache's builder
// (shared memory, borrowed stack), so it allocates nothing and reports
// failures through ChildFail, composing "label: step path" in the plan.
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "namespace/namespace.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467  // kernel 6.15; same number on every architecture
#endif

namespace capspawn::ns {
namespace {

using engine::ChildError;
using engine::ChildFail;

// Set (by any child: memory is shared) once the kernel says it has no open_tree_attr.
bool g_no_open_tree_attr = false;

CAPSPAWN_CHILD_CODE long Sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  long r = syscall(nr, a, b, c, d, e);
  return r < 0 ? -errno : r;
}

CAPSPAWN_CHILD_CODE long Len(const char* s) {
  long n = 0;
  while (s[n]) ++n;
  return n;
}

CAPSPAWN_CHILD_CODE char* Append(char* out, char* end, const char* s) {
  while (s && *s && out < end) *out++ = *s++;
  return out;
}

// "label: step path" into the plan's buffer; the buffer outlives the spawn.
CAPSPAWN_CHILD_CODE int Fail(const Op& op, char* text, size_t size, ChildError* e, long err,
                             long detail) {
  char* out = text;
  char* end = text + size - 1;
  out = Append(out, end, op.label);
  out = Append(out, end, ": ");
  out = Append(out, end, op.step);
  if (op.path && op.kind != OpKind::kReadOnly) {
    out = Append(out, end, " ");
    if (op.kind == OpKind::kMkdir || op.kind == OpKind::kMkfile || op.kind == OpKind::kSymlink ||
        op.kind == OpKind::kMove) {
      out = Append(out, end, "./");  // relative to the new root, or to a mirror
    }
    out = Append(out, end, op.path);
  }
  *out = '\0';
  return ChildFail(e, text, static_cast<int>(-err), 0, detail);
}

CAPSPAWN_CHILD_CODE int WriteProc(const char* path, const char* text, ChildError* e) {
  long fd = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ChildFail(e, path, static_cast<int>(-fd));
  long r = Sys(SYS_write, fd, reinterpret_cast<long>(text), Len(text));
  Sys(SYS_close, fd);
  if (r < 0) return ChildFail(e, path, static_cast<int>(-r));
  return 0;
}

CAPSPAWN_CHILD_CODE long SetReadOnly(int dirfd, const char* path, unsigned flags) {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  return Sys(SYS_mount_setattr, dirfd, reinterpret_cast<long>(path), flags,
             reinterpret_cast<long>(&attr), sizeof attr);
}

// A detached recursive copy of `path`, read-only if asked: one syscall where
// the kernel has open_tree_attr.
}  // namespace

CAPSPAWN_CHILD_CODE long CloneTreeAt(int dirfd, const char* path, bool read_only) {
  const long flags =
      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | (path[0] ? 0 : AT_EMPTY_PATH);
  if (read_only && !g_no_open_tree_attr) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    long r = Sys(SYS_open_tree_attr, dirfd, reinterpret_cast<long>(path), flags,
                 reinterpret_cast<long>(&attr), sizeof attr);
    if (r != -ENOSYS) return r;
    g_no_open_tree_attr = true;
  }
  long r = Sys(SYS_open_tree, dirfd, reinterpret_cast<long>(path), flags);
  if (r < 0 || !read_only) return r;
  long s = SetReadOnly(static_cast<int>(r), "", AT_EMPTY_PATH | AT_RECURSIVE);
  if (s < 0) {
    Sys(SYS_close, r);
    return s;
  }
  return r;
}

namespace {

// Closes every open slot, one close_range per run of consecutive fd numbers:
// the slots are ours alone, and a namespace of many entries would otherwise
// pay a syscall per entry. Sorts the slots in place (insertion sort: they were
// opened lowest-first, so nearly sorted).
CAPSPAWN_CHILD_CODE void CloseSlots(int* slots, size_t n) {
  for (size_t i = 1; i < n; ++i) {
    int v = slots[i];
    size_t j = i;
    while (j > 0 && slots[j - 1] > v) {
      slots[j] = slots[j - 1];
      --j;
    }
    slots[j] = v;
  }
  size_t i = 0;
  while (i < n) {
    if (slots[i] < 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < n && slots[j + 1] == slots[j] + 1) ++j;
    Sys(SYS_close_range, slots[i], slots[j], 0);
    i = j + 1;
  }
  for (size_t k = 0; k < n; ++k) slots[k] = -1;
}

CAPSPAWN_CHILD_CODE long RunOp(const Op& op, int* slots) {
  long r;
  switch (op.kind) {
    case OpKind::kOpenTree: {
      if (op.source_fd >= 0) return 0;  // cloned by the parent (PrecloneTrees)
      r = CloneTreeAt(AT_FDCWD, op.path, op.flag);
      if (r < 0) return r;
      slots[op.a] = static_cast<int>(r);
      if (op.ino == 0) return 0;
      // The copy must be of the handed directory, not of whatever the path
      // leads to now.
      struct stat st;
      r = Sys(SYS_newfstatat, slots[op.a], reinterpret_cast<long>(""), reinterpret_cast<long>(&st),
              AT_EMPTY_PATH);
      if (r < 0) return r;
      if (st.st_dev != op.dev || st.st_ino != op.ino) return -ESTALE;
      return 0;
    }
    case OpKind::kMountTmpfs:
      return Sys(SYS_mount, reinterpret_cast<long>("capspawn"), reinterpret_cast<long>(op.path),
                 reinterpret_cast<long>("tmpfs"), MS_NOSUID | MS_NODEV,
                 reinterpret_cast<long>("mode=0755"));
    case OpKind::kMountProc:
      return Sys(SYS_mount, reinterpret_cast<long>("proc"), reinterpret_cast<long>(op.path),
                 reinterpret_cast<long>("proc"), MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
    case OpKind::kOpenDir:
      r = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(op.path),
              O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (r >= 0) slots[op.a] = static_cast<int>(r);
      return r < 0 ? r : 0;
    case OpKind::kMkdir:
      r = Sys(SYS_mkdirat, slots[op.a], reinterpret_cast<long>(op.path), 0755);
      return r == -EEXIST ? 0 : r;
    case OpKind::kMkfile:
      r = Sys(SYS_openat, slots[op.a], reinterpret_cast<long>(op.path),
              O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (r >= 0) Sys(SYS_close, r);
      return r < 0 ? r : 0;
    case OpKind::kSymlink:
      r = Sys(SYS_symlinkat, reinterpret_cast<long>(op.link), slots[op.a],
              reinterpret_cast<long>(op.path));
      return r == -EEXIST ? 0 : r;
    case OpKind::kMove:
      r = Sys(SYS_move_mount, slots[op.b], reinterpret_cast<long>(""), slots[op.a],
              reinterpret_cast<long>(op.path), MOVE_MOUNT_F_EMPTY_PATH);
      // The moved tree's fd is closed with the other slots at the end.
      return r == -ENOENT && op.flag ? 0 : r;
    case OpKind::kReadOnly:
      return SetReadOnly(slots[op.a], op.path,
                         (op.path[0] ? 0 : AT_EMPTY_PATH) | (op.flag ? AT_RECURSIVE : 0));
    case OpKind::kPivot:
      r = Sys(SYS_fchdir, slots[op.a]);
      if (r < 0) return r;
      r = Sys(SYS_pivot_root, reinterpret_cast<long>("."), reinterpret_cast<long>("."));
      if (r < 0) return r;
      r = Sys(SYS_umount2, reinterpret_cast<long>("."), MNT_DETACH);
      if (r < 0) return r;
      return Sys(SYS_chdir, reinterpret_cast<long>("/"));
    case OpKind::kChdir:
      if (Sys(SYS_chdir, reinterpret_cast<long>(op.path)) < 0)
        Sys(SYS_chdir, reinterpret_cast<long>("/"));
      return 0;
  }
  return -EINVAL;
}

}  // namespace

CAPSPAWN_CHILD_CODE int RunOps(const Op* ops, size_t count, int* slots, char* error_text,
                               size_t error_size, ChildError* e) {
  // Highest slot used, to close them all on the way out: the builder shares
  // the caller's fd table.
  size_t n_slots = 0;
  for (size_t i = 0; i < count; ++i) {
    if (ops[i].a >= 0 && static_cast<size_t>(ops[i].a) + 1 > n_slots) n_slots = ops[i].a + 1;
    if (ops[i].b >= 0 && static_cast<size_t>(ops[i].b) + 1 > n_slots) n_slots = ops[i].b + 1;
  }
  for (size_t i = 0; i < count; ++i) {
    long r = RunOp(ops[i], slots);
    if (r < 0) {
      CloseSlots(slots, n_slots);
      return Fail(ops[i], error_text, error_size, e, r, static_cast<long>(i));
    }
  }
  CloseSlots(slots, n_slots);
  return 0;
}

CAPSPAWN_CHILD_CODE int BuildInChild(const void* arg, ChildError* e) {
  Plan& p = *const_cast<Plan*>(static_cast<const Plan*>(arg));
  // 1. Our own uid/gid, mapped to themselves (before anything needs privilege).
  if (p.user_ns) {
    if (WriteProc("/proc/self/setgroups", "deny", e) < 0) return -1;
    if (WriteProc("/proc/self/uid_map", p.uid_map, e) < 0) return -1;
    if (WriteProc("/proc/self/gid_map", p.gid_map, e) < 0) return -1;
  }
  // 2. Nothing we mount may propagate back to the caller's namespace.
  long r = Sys(SYS_mount, 0, reinterpret_cast<long>("/"), 0, MS_REC | MS_PRIVATE, 0);
  if (r < 0) return ChildFail(e, "make the mount tree private", static_cast<int>(-r));
  // 3. The plan.
  return RunOps(p.ops.data(), p.ops.size(), p.slots.data(), p.error_text, sizeof p.error_text, e);
}

CAPSPAWN_CHILD_CODE int EnterCachedInChild(const void* arg, ChildError* e) {
  Plan& p = *const_cast<Plan*>(static_cast<const Plan*>(arg));
  long r = 0;
  if (p.user_fd_child >= 0) {
    r = Sys(SYS_setns, p.user_fd_child, CLONE_NEWUSER);
    Sys(SYS_close, p.user_fd_child);
    if (r < 0) {
      Sys(SYS_close, p.mnt_fd_child);
      return ChildFail(e, "cached namespace: setns(CLONE_NEWUSER)", static_cast<int>(-r));
    }
  }
  // Also sets our root and cwd to the namespace's "/".
  r = Sys(SYS_setns, p.mnt_fd_child, CLONE_NEWNS);
  Sys(SYS_close, p.mnt_fd_child);
  if (r < 0) return ChildFail(e, "cached namespace: setns(CLONE_NEWNS)", static_cast<int>(-r));
  if (p.private_copy) {
    r = Sys(SYS_unshare, CLONE_NEWNS);
    if (r < 0) return ChildFail(e, "cached namespace: unshare(CLONE_NEWNS)", static_cast<int>(-r));
  }
  return RunOps(p.per_spawn_ops.data(), p.per_spawn_ops.size(), nullptr, p.error_text,
                sizeof p.error_text, e);
}

}  // namespace capspawn::ns
