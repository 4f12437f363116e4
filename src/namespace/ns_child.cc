// The child side: builds the planned filesystem with raw syscalls only. It
// runs in the launch engine's vfork-style child (shared memory, borrowed
// stack), so it allocates nothing and reports failures through ChildFail.
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "namespace/namespace.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

namespace capspawn::ns {
namespace {

using engine::ChildError;
using engine::ChildFail;

CAPSPAWN_CHILD_CODE long Sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  long r = syscall(nr, a, b, c, d, e);
  return r < 0 ? -errno : r;
}

CAPSPAWN_CHILD_CODE long Len(const char* s) {
  long n = 0;
  while (s[n]) ++n;
  return n;
}

CAPSPAWN_CHILD_CODE int WriteProc(const char* path, const char* text, ChildError* e) {
  long fd = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ChildFail(e, path, static_cast<int>(-fd));
  long r = Sys(SYS_write, fd, reinterpret_cast<long>(text), Len(text));
  Sys(SYS_close, fd);
  if (r < 0) return ChildFail(e, path, static_cast<int>(-r));
  return 0;
}

CAPSPAWN_CHILD_CODE int SetReadOnly(int dirfd, const char* path, unsigned flags) {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  return static_cast<int>(Sys(SYS_mount_setattr, dirfd, reinterpret_cast<long>(path), flags,
                              reinterpret_cast<long>(&attr), sizeof attr));
}

}  // namespace

CAPSPAWN_CHILD_CODE int BuildInChild(const void* arg, ChildError* e) {
  const Plan& p = *static_cast<const Plan*>(arg);
  long r;

  // 1. Our own uid/gid, mapped to themselves (before anything needs privilege).
  if (p.user_ns) {
    if (WriteProc("/proc/self/setgroups", "deny", e) < 0) return -1;
    if (WriteProc("/proc/self/uid_map", p.uid_map, e) < 0) return -1;
    if (WriteProc("/proc/self/gid_map", p.gid_map, e) < 0) return -1;
  }

  // 2. Nothing we mount may propagate back to the caller's namespace.
  r = Sys(SYS_mount, 0, reinterpret_cast<long>("/"), 0, MS_REC | MS_PRIVATE, 0);
  if (r < 0) return ChildFail(e, "make the mount tree private", static_cast<int>(-r));

  // 3. A detached copy of each handed directory, taken by path in our copy of
  //    the caller's tree and checked by inode against the handed fd.
  int* trees = const_cast<int*>(p.trees.data());
  const size_t n = p.mounts.size();
  for (size_t i = 0; i < n; ++i) {
    const ChildMount& m = p.mounts[i];
    long detail = static_cast<long>(i);
    r = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(m.source),
            O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r < 0) return ChildFail(e, m.step_open, static_cast<int>(-r), 0, detail);
    int fd = static_cast<int>(r);
    struct stat st;
    r = Sys(SYS_newfstatat, fd, reinterpret_cast<long>(""), reinterpret_cast<long>(&st),
            AT_EMPTY_PATH);
    if (r < 0 || st.st_dev != m.dev || st.st_ino != m.ino) {
      Sys(SYS_close, fd);
      return ChildFail(e, m.step_check, r < 0 ? static_cast<int>(-r) : ESTALE, 0, detail);
    }
    r = Sys(SYS_open_tree, fd, reinterpret_cast<long>(""),
            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    Sys(SYS_close, fd);
    if (r < 0) return ChildFail(e, m.step_tree, static_cast<int>(-r), 0, detail);
    trees[i] = static_cast<int>(r);
  }

  // 4. The root the mounts go under: a fresh tmpfs, or the caller's tree.
  const char* root_path = "/";
  if (p.private_root) {
    root_path = p.staging;
    r = Sys(SYS_mount, reinterpret_cast<long>("capspawn"), reinterpret_cast<long>(p.staging),
            reinterpret_cast<long>("tmpfs"), MS_NOSUID | MS_NODEV,
            reinterpret_cast<long>("mode=0755"));
    if (r < 0) return ChildFail(e, "private root: mount tmpfs", static_cast<int>(-r));
  }
  r = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(root_path),
          O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r < 0) return ChildFail(e, "open the new root", static_cast<int>(-r));
  const int root = static_cast<int>(r);

  for (const ChildNode& node : p.nodes) {
    if (node.link) {
      r = Sys(SYS_symlinkat, reinterpret_cast<long>(node.link), root,
              reinterpret_cast<long>(node.path));
    } else {
      r = Sys(SYS_mkdirat, root, reinterpret_cast<long>(node.path), 0755);
    }
    if (r < 0 && r != -EEXIST) return ChildFail(e, node.step, static_cast<int>(-r));
  }

  // 5. Each copy moved into place, parents first.
  for (size_t i = 0; i < n; ++i) {
    const ChildMount& m = p.mounts[i];
    long detail = static_cast<long>(i);
    r = Sys(SYS_move_mount, trees[i], reinterpret_cast<long>(""), root,
            reinterpret_cast<long>(m.target), MOVE_MOUNT_F_EMPTY_PATH);
    Sys(SYS_close, trees[i]);
    trees[i] = -1;
    if (r == -ENOENT && m.optional) continue;
    if (r < 0) return ChildFail(e, m.step_move, static_cast<int>(-r), 0, detail);
    if (m.read_only) {
      r = SetReadOnly(root, m.target, AT_RECURSIVE);
      if (r < 0) return ChildFail(e, m.step_ro, static_cast<int>(-r), 0, detail);
    }
  }

  // 6. The tmpfs becomes "/", read-only, and the caller's tree goes away.
  if (p.private_root) {
    r = SetReadOnly(root, "", AT_EMPTY_PATH);
    if (r < 0)
      return ChildFail(e, "private root: mount_setattr(MOUNT_ATTR_RDONLY)", static_cast<int>(-r));
    r = Sys(SYS_fchdir, root);
    if (r < 0) return ChildFail(e, "private root: fchdir", static_cast<int>(-r));
    r = Sys(SYS_pivot_root, reinterpret_cast<long>("."), reinterpret_cast<long>("."));
    if (r < 0) return ChildFail(e, "private root: pivot_root", static_cast<int>(-r));
    r = Sys(SYS_umount2, reinterpret_cast<long>("."), MNT_DETACH);
    if (r < 0) return ChildFail(e, "private root: detach the old root", static_cast<int>(-r));
    r = Sys(SYS_chdir, reinterpret_cast<long>("/"));
    if (r < 0) return ChildFail(e, "private root: chdir /", static_cast<int>(-r));
  }
  Sys(SYS_close, root);
  return 0;
}

}  // namespace capspawn::ns
