// SPDX-License-Identifier: Apache-2.0
// Low-level cgroup2 file system helpers for jobs: finding the hierarchy, reading and
// writing control files relative to a directory fd, and errors that explain delegation.
#ifndef CAPSPAWN_SRC_JOB_CGROUP_FS_H_
#define CAPSPAWN_SRC_JOB_CGROUP_FS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::job_internal {

// The leaf sub-cgroup that holds a job's own processes (see docs/jobs.md).
inline constexpr char kLeafName[] = "procs";

// The path of an open fd (for messages), or "fd N" when /proc is not available.
std::string FdPath(int fd);

// An error for a failed cgroup operation. EACCES/EPERM become ACCESS_DENIED with a hint
// on delegation; ENOENT on a removed directory becomes BAD_STATE ("destroyed").
Error CgroupError(int err, std::string_view action, std::string_view path);

// BAD_HANDLE if fd is not open, WRONG_TYPE unless it is a directory on cgroup2.
Status CheckCgroupDir(int fd);

// The caller's own cgroup directory: "<cgroup2 mount>/<0:: path>".
Result<std::string> OwnCgroupDir();
// The same from the texts of /proc/self/cgroup and /proc/self/mountinfo.
// NOT_SUPPORTED when there is no "0::" line or no cgroup2 mount containing it.
Result<std::string> CgroupDirFrom(std::string_view proc_cgroup, std::string_view mountinfo);

// Opens a cgroup2 directory by path (validated like CheckCgroupDir).
Result<UniqueFd> OpenCgroupDir(const std::string& path);

// Opens the parent directory, or an empty fd when `dir` is the top of the cgroup2 mount.
Result<UniqueFd> OpenParent(int dir);

// Reads a control file of the cgroup `dir`.
Result<std::string> ReadControl(int dir, const char* name);
// Writes `value` to a control file in one write(2).
Status WriteControl(int dir, const char* name, std::string_view value);
// Whether `word` is one of the whitespace-separated words of `text`.
bool HasWord(std::string_view text, std::string_view word);

// Value of "key N" in cgroup.events text, or -1 when absent.
int EventValue(std::string_view events, std::string_view key);
// Waits until cgroup.events shows "key want" (polls cgroup.events for changes).
// TIMED_OUT when timeout_ns (>= 0) runs out.
Status WaitEvent(int dir, std::string_view key, int want, int64_t timeout_ns);

// The names of the sub-directories (child cgroups) of `dir`, sorted.
Result<std::vector<std::string>> SubCgroups(int dir);
// The pids listed in cgroup.procs of `dir` (not recursive).
Result<std::vector<pid_t>> ProcsOf(int dir);

// Monotonic deadline helpers: a negative timeout is "never".
int64_t DeadlineFromTimeout(int64_t timeout_ns);
// Milliseconds left for poll(): -1 for no deadline, 0 when passed.
int PollMillisLeft(int64_t deadline_ns);

}  // namespace capspawn::job_internal

#endif  // CAPSPAWN_SRC_JOB_CGROUP_FS_H_
