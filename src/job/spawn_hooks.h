// SPDX-License-Identifier: Apache-2.0
// What the spawn path needs from jobs: where a job's new processes go, and the
// seccomp filter that enforces the DENY new-process policy.
#ifndef CAPSPAWN_SRC_JOB_SPAWN_HOOKS_H_
#define CAPSPAWN_SRC_JOB_SPAWN_HOOKS_H_

#include <linux/filter.h>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::job_internal {

struct SpawnTarget {
  // The cgroup directory the new process goes into (for CLONE_INTO_CGROUP):
  // the job's leaf "procs/" sub-cgroup, or the directory itself for a cgroup
  // that is not a capspawn job. Empty for the caller's own cgroup (the
  // default job): the child is born there, as with job -1.
  UniqueFd cgroup_fd;
  // The job's new-process policy (inherited from its ancestors at creation) is DENY:
  // install DenyNewProcessFilter() in the child.
  bool deny_new_process = false;
};

// Validates job_fd and returns where its processes go:
//   BAD_HANDLE  job_fd is not an open fd,
//   WRONG_TYPE  it is not a directory on a cgroup2 file system,
//   BAD_STATE   the job was killed or destroyed.
// Costs fstatfs + fgetxattr + openat; reads no file.
// If clone3(CLONE_INTO_CGROUP) then fails with ENODEV, the job was killed in between
// (Kill removes the leaf cgroups): report BAD_STATE.
Result<SpawnTarget> PrepareSpawn(int job_fd);

// A launch into cgroup_fd refused for lack of rights (clone3's
// CLONE_INTO_CGROUP, or the legacy child's write to cgroup.procs) becomes
// ACCESS_DENIED naming the job's directory and how delegation works
// (docs/jobs.md); any other error is returned as it is.
Error JobLaunchError(const Error& e, int cgroup_fd);

// The DENY filter: fork, vfork and clone without CLONE_THREAD fail with EPERM, clone3
// with ENOSYS (so libc falls back to clone, whose flags the filter can inspect).
// Threads still work. Built once with libseccomp and kept for the life of the process;
// also covers the compat ABIs (i386 and x32 on x86_64) so 32-bit programs behave the same.
Result<const sock_fprog*> DenyNewProcessFilter();

}  // namespace capspawn::job_internal

#endif  // CAPSPAWN_SRC_JOB_SPAWN_HOOKS_H_
