// SPDX-License-Identifier: Apache-2.0
#include "job/spawn_hooks.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <sched.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "job/cgroup_fs.h"
#include "job/job_meta.h"

namespace capspawn::job_internal {

namespace {

// Whether job_fd is the directory of the cgroup this process is in now.
bool IsOwnCgroup(int job_fd) {
  Result<std::string> own = OwnCgroupDir();
  struct stat mine, job;
  return own.ok() && stat(own->c_str(), &mine) == 0 && fstat(job_fd, &job) == 0 &&
         mine.st_dev == job.st_dev && mine.st_ino == job.st_ino;
}

Error NotADirectory(int job_fd) {
  return Error(CAPSPAWN_ERR_WRONG_TYPE, "job fd " + std::to_string(job_fd) + " (" + FdPath(job_fd) +
                                            ") is not a cgroup directory");
}

}  // namespace

Result<SpawnTarget> PrepareSpawn(int job_fd) {
  // Three syscalls on success: fstatfs (a cgroup2 fd?), fgetxattr (a capspawn job? its
  // policy and state), openat (its leaf; O_DIRECTORY also proves job_fd is a directory).
  struct statfs sfs;
  if (job_fd < 0 || fstatfs(job_fd, &sfs) != 0) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE,
                 "job fd " + std::to_string(job_fd) + " is not an open file descriptor");
  }
  if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
    return Error(CAPSPAWN_ERR_WRONG_TYPE, "job fd " + std::to_string(job_fd) + " (" +
                                              FdPath(job_fd) + ") is not on a cgroup2 file system");
  }
  Result<std::optional<JobMeta>> meta = ReadMeta(job_fd);
  if (!meta) return meta.error();
  SpawnTarget target;
  if (!meta->has_value()) {
    // The caller's own cgroup is the default job, as job -1: a child is born
    // there without CLONE_INTO_CGROUP, which would need write access to
    // cgroup.procs that job -1 does not (as on Fuchsia, where both are alike).
    if (IsOwnCgroup(job_fd)) return target;
    // A plain cgroup (made by hand, or an ancestor): processes go right into it.
    target.cgroup_fd.reset(openat(job_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!target.cgroup_fd) {
      if (errno == ENOTDIR) return NotADirectory(job_fd);
      return CgroupError(errno, "open", FdPath(job_fd));
    }
    return target;
  }
  if ((*meta)->killed) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "job " + FdPath(job_fd) + " was killed");
  }
  target.cgroup_fd.reset(openat(job_fd, kLeafName, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!target.cgroup_fd) {
    if (errno == ENOTDIR) return NotADirectory(job_fd);
    if (errno == ENOENT) {
      return Error(CAPSPAWN_ERR_BAD_STATE,
                   "job " + FdPath(job_fd) + " was killed or destroyed (no " + kLeafName + "/)");
    }
    return CgroupError(errno, "open", FdPath(job_fd) + "/" + kLeafName);
  }
  target.deny_new_process = (*meta)->new_process == NewProcessPolicy::kDeny;
  return target;
}

Error JobLaunchError(const Error& e, int cgroup_fd) {
  if (cgroup_fd < 0 || e.status() != CAPSPAWN_ERR_ACCESS_DENIED) return e;
  const std::string& m = e.message();
  const bool at_the_job = m.rfind("clone", 0) == 0 || m.rfind("join job", 0) == 0 ||
                          faccessat(cgroup_fd, "cgroup.procs", W_OK, AT_EACCESS) != 0;
  if (!at_the_job) return e;
  // "clone3: Permission denied" -> "... in job /sys/fs/cgroup/x (clone3): Permission denied (...)"
  const size_t errno_text = m.rfind(": ");
  const std::string step = errno_text == std::string::npos ? m : m.substr(0, errno_text);
  return CgroupError(EACCES, "create a process in job", FdPath(cgroup_fd) + " (" + step + ")");
}

namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};

Result<sock_fprog> BuildDenyFilter() {
  std::unique_ptr<void, CtxDeleter> holder(seccomp_init(SCMP_ACT_ALLOW));
  scmp_filter_ctx ctx = holder.get();
  if (ctx == nullptr) return Error(CAPSPAWN_ERR_NO_MEMORY, "seccomp_init failed");
    // Compat ABIs get the same rules: otherwise their syscalls would hit libseccomp's
    // "bad arch" action and kill 32-bit programs run under DENY.
#if defined(__x86_64__)
  seccomp_arch_add(ctx, SCMP_ARCH_X86);
  seccomp_arch_add(ctx, SCMP_ARCH_X32);
#elif defined(__aarch64__)
  seccomp_arch_add(ctx, SCMP_ARCH_ARM);
#endif
#if defined(__s390__) || defined(__s390x__)
  constexpr unsigned kCloneFlagsArg = 1;  // s390 swaps clone's first two arguments
#else
  constexpr unsigned kCloneFlagsArg = 0;
#endif
  int rc;
  const char* step = nullptr;
  // Syscalls an ABI lacks (fork/vfork on arm64) resolve to pseudo numbers that
  // libseccomp skips, so a "not on this arch" answer is fine.
  auto deny = [&](int nr, uint32_t action, const char* name, unsigned argc,
                  const scmp_arg_cmp* cmp) {
    if (step != nullptr) return;
    rc = seccomp_rule_add_array(ctx, action, nr, argc, cmp);
    if (rc != 0 && rc != -EDOM) step = name;
  };
  deny(SCMP_SYS(fork), SCMP_ACT_ERRNO(EPERM), "fork", 0, nullptr);
  deny(SCMP_SYS(vfork), SCMP_ACT_ERRNO(EPERM), "vfork", 0, nullptr);
  const scmp_arg_cmp no_thread = SCMP_CMP(kCloneFlagsArg, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
  deny(SCMP_SYS(clone), SCMP_ACT_ERRNO(EPERM), "clone", 1, &no_thread);
  deny(SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, nullptr);
  if (step != nullptr) {
    return Error(CAPSPAWN_ERR_INTERNAL,
                 std::string("seccomp_rule_add(") + step + "): " + strerror(-rc));
  }
  UniqueFd mem(memfd_create("capspawn-deny-filter", MFD_CLOEXEC));
  if (!mem)
    return Error(CAPSPAWN_ERR_NO_RESOURCES, std::string("memfd_create: ") + strerror(errno));
  rc = seccomp_export_bpf(ctx, mem.get());
  if (rc != 0)
    return Error(CAPSPAWN_ERR_INTERNAL, std::string("seccomp_export_bpf: ") + strerror(-rc));
  struct stat st;
  if (fstat(mem.get(), &st) != 0) {
    return Error(CAPSPAWN_ERR_IO, std::string("fstat filter memfd: ") + strerror(errno));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0 || size / sizeof(sock_filter) > BPF_MAXINSNS) {
    return Error(CAPSPAWN_ERR_INTERNAL,
                 "seccomp_export_bpf wrote " + std::to_string(size) + " bytes, not a BPF program");
  }
  // Kept for the life of the process: the spawn path hands the pointer to children.
  auto* insns = new sock_filter[size / sizeof(sock_filter)];
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(mem.get(), reinterpret_cast<char*>(insns) + done, size - done,
                      static_cast<off_t>(done));
    if (n <= 0) {
      delete[] insns;
      return Error(CAPSPAWN_ERR_IO, std::string("read filter memfd: ") + strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  sock_fprog prog;
  prog.len = static_cast<unsigned short>(size / sizeof(sock_filter));
  prog.filter = insns;
  return prog;
}

}  // namespace

Result<const sock_fprog*> DenyNewProcessFilter() {
  // Built once; a failure is remembered too (libseccomp will not fix itself).
  static std::once_flag once;
  static sock_fprog prog;
  static std::optional<Error> failure;
  std::call_once(once, [] {
    Result<sock_fprog> built = BuildDenyFilter();
    if (built) {
      prog = *built;
    } else {
      failure = built.error();
    }
  });
  if (failure) return *failure;
  return static_cast<const sock_fprog*>(&prog);
}

}  // namespace capspawn::job_internal
