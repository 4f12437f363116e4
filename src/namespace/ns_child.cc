// SPDX-License-Identifier: Apache-2.0
// The child side: runs the planned operations with raw syscalls only. It
// runs in the launch engine's vfork-style child, or in the cache's builder
// (shared memory, borrowed stack), so it allocates nothing and reports
// failures through ChildFail, composing "label: step path" in the plan.
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
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

// "label: step path[: tail]" into the plan's buffer; the buffer outlives the spawn.
CAPSPAWN_CHILD_CODE int Fail(const Op& op, const char* step, const char* tail, char* text,
                             size_t size, ChildError* e, long err, long detail) {
  char* out = text;
  char* end = text + size - 1;
  out = Append(out, end, op.label);
  out = Append(out, end, ": ");
  out = Append(out, end, step);
  if (op.shown) {
    out = Append(out, end, " ");
    out = Append(out, end, op.shown);
  } else if (op.path && op.kind != OpKind::kReadOnly) {
    out = Append(out, end, " ");
    if (op.kind == OpKind::kMkdir || op.kind == OpKind::kMkfile || op.kind == OpKind::kSymlink ||
        op.kind == OpKind::kMove) {
      out = Append(out, end, "./");  // relative to the new root, or to a mirror
    }
    out = Append(out, end, op.path);
  }
  if (tail && *tail) {
    out = Append(out, end, " (");
    out = Append(out, end, tail);
    out = Append(out, end, ")");
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

CAPSPAWN_CHILD_CODE long CloneTreeAt(int dirfd, const char* path, bool read_only, bool recursive) {
  const long flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                     (path[0] ? 0 : AT_EMPTY_PATH);
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
  long s = SetReadOnly(static_cast<int>(r), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
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

// openat2 inside `root`: symlinks and ".." never lead out of it.
CAPSPAWN_CHILD_CODE long OpenIn(int root, const char* rel, long flags, long mode = 0) {
  if (!rel[0]) rel = ".";
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags) | O_CLOEXEC;
  how.mode = static_cast<unsigned long long>(mode);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return Sys(SYS_openat2, root, reinterpret_cast<long>(rel), reinterpret_cast<long>(&how),
             sizeof how);
}

CAPSPAWN_CHILD_CODE long MoveOnto(long from, int to) {
  return Sys(SYS_move_mount, from, reinterpret_cast<long>(""), to, reinterpret_cast<long>(""),
             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

// A new file system of `type` with the options, moved onto `target`. *step
// names the syscall that failed; the kernel's own message lands in `log`.
CAPSPAWN_CHILD_CODE long MountFs(const char* type, const FsOpt* opts, size_t n, uint64_t attr,
                                 int target, const char** step, char* log, size_t log_size) {
  long fs = Sys(SYS_fsopen, reinterpret_cast<long>(type), FSOPEN_CLOEXEC);
  if (fs < 0) return fs;
  long r = 0;
  for (size_t i = 0; i < n && r >= 0; ++i) {
    *step = "fsconfig";
    r = opts[i].value
            ? Sys(SYS_fsconfig, fs, FSCONFIG_SET_STRING, reinterpret_cast<long>(opts[i].key),
                  reinterpret_cast<long>(opts[i].value), 0)
            : Sys(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, reinterpret_cast<long>(opts[i].key), 0, 0);
  }
  if (r >= 0) {
    *step = "fsconfig(FSCONFIG_CMD_CREATE)";
    r = Sys(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0);
  }
  if (r < 0) {
    long got = Sys(SYS_read, fs, reinterpret_cast<long>(log), static_cast<long>(log_size - 1));
    log[got > 0 ? got : 0] = '\0';
    if (got > 0 && log[got - 1] == '\n') log[got - 1] = '\0';
    if (got > 2 && log[1] == ' ') {  // "e tmpfs: ...": drop the severity letter
      for (long i = 2; i <= got; ++i) log[i - 2] = log[i];
    }
    Sys(SYS_close, fs);
    return r;
  }
  *step = "fsmount";
  long m = Sys(SYS_fsmount, fs, FSMOUNT_CLOEXEC, static_cast<long>(attr));
  Sys(SYS_close, fs);
  if (m < 0) return m;
  *step = "move_mount";
  r = MoveOnto(m, target);
  Sys(SYS_close, m);
  return r;
}

CAPSPAWN_CHILD_CODE long RunOp(const Op& op, int* slots, const char** step, char* log,
                               size_t log_size) {
  long r;
  switch (op.kind) {
    case OpKind::kOpenTree: {
      if (op.source_fd >= 0) return 0;  // cloned by the parent (PrecloneTrees)
      r = CloneTreeAt(AT_FDCWD, op.path, op.flag, op.recursive);
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
    case OpKind::kMkdirIn:
    case OpKind::kSymlinkIn: {
      long dir = OpenIn(slots[op.a], op.path, O_PATH | O_DIRECTORY);
      if (dir < 0) return dir;
      r = op.kind == OpKind::kMkdirIn ? Sys(SYS_mkdirat, dir, reinterpret_cast<long>(op.name), 0755)
                                      : Sys(SYS_symlinkat, reinterpret_cast<long>(op.link), dir,
                                            reinterpret_cast<long>(op.name));
      Sys(SYS_close, dir);
      return r == -EEXIST ? 0 : r;
    }
    case OpKind::kMkfileIn:
      r = OpenIn(slots[op.a], op.path, O_CREAT | O_WRONLY, 0644);
      if (r == -EISDIR) return -EISDIR;
      if (r >= 0) Sys(SYS_close, r);
      return r < 0 ? r : 0;
    case OpKind::kOpenIn:
      r = OpenIn(slots[op.a], op.path, O_PATH);
      if (r >= 0) slots[op.b] = static_cast<int>(r);
      return r < 0 ? r : 0;
    case OpKind::kMountFs:
      return MountFs(op.fstype, op.opts, op.opt_count, op.attr_set, slots[op.b], step, log,
                     log_size);
    case OpKind::kBindTo:
      if (op.attr_set | op.attr_clr) {
        mount_attr attr{};
        attr.attr_set = op.attr_set;
        attr.attr_clr = op.attr_clr;
        *step = "mount_setattr";
        r = Sys(SYS_mount_setattr, slots[op.a], reinterpret_cast<long>(""),
                AT_EMPTY_PATH | (op.recursive ? AT_RECURSIVE : 0), reinterpret_cast<long>(&attr),
                sizeof attr);
        if (r < 0) return r;
      }
      *step = "move_mount";
      return MoveOnto(slots[op.a], slots[op.b]);
    case OpKind::kMask: {
      open_how how{};
      how.flags = O_PATH | O_CLOEXEC;
      how.resolve = RESOLVE_NO_MAGICLINKS;
      long t = Sys(SYS_openat2, AT_FDCWD, reinterpret_cast<long>(op.path),
                   reinterpret_cast<long>(&how), sizeof how);
      if (t == -ENOENT) return 0;
      if (t < 0) return t;
      struct stat st;
      r = Sys(SYS_newfstatat, t, reinterpret_cast<long>(""), reinterpret_cast<long>(&st),
              AT_EMPTY_PATH);
      if (r >= 0 && S_ISDIR(st.st_mode)) {
        static const FsOpt kEmpty[] = {{"size", "4k"}, {"nr_inodes", "1"}, {"mode", "0555"}};
        r = MountFs("tmpfs", kEmpty, 3,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                    static_cast<int>(t), step, log, log_size);
      } else if (r >= 0) {
        *step = "open_tree /dev/null";
        long c = CloneTreeAt(slots[op.a], "", false, false);
        if (c < 0) {
          r = c;
        } else {
          *step = "move_mount";
          r = MoveOnto(c, static_cast<int>(t));
          Sys(SYS_close, c);
        }
      }
      Sys(SYS_close, t);
      return r;
    }
    case OpKind::kReadOnlyPath: {
      long c = CloneTreeAt(AT_FDCWD, op.path, true, true);
      if (c == -ENOENT) return 0;
      if (c < 0) return c;
      *step = "move_mount";
      r = Sys(SYS_move_mount, c, reinterpret_cast<long>(""), AT_FDCWD,
              reinterpret_cast<long>(op.path), MOVE_MOUNT_F_EMPTY_PATH);
      Sys(SYS_close, c);
      return r;
    }
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
  char log[160];
  for (size_t i = 0; i < count; ++i) {
    const char* step = ops[i].step;
    log[0] = '\0';
    long r = RunOp(ops[i], slots, &step, log, sizeof log);
    if (r < 0) {
      CloseSlots(slots, n_slots);
      return Fail(ops[i], step, log, error_text, error_size, e, r, static_cast<long>(i));
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
