// SPDX-License-Identifier: Apache-2.0
// Jobs: cgroup v2 job trees (Fuchsia's zx::job on Linux). A job is a file descriptor of a
// cgroup2 directory. See docs/jobs.md for the layout, the policy and delegation.
#ifndef CAPSPAWN_JOB_H_
#define CAPSPAWN_JOB_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <capspawn/status.h>

#ifdef __cplusplus
extern "C" {
#endif

// Policy conditions and actions (Zircon's ZX_POL_NEW_PROCESS / ZX_POL_ACTION_* values).
#define CAPSPAWN_JOB_POL_NEW_PROCESS ((uint32_t)12u)
#define CAPSPAWN_JOB_POL_ACTION_ALLOW ((uint32_t)0u)
#define CAPSPAWN_JOB_POL_ACTION_DENY ((uint32_t)1u)

// Resource limits (capspawn_job_set_limit). CAPSPAWN_JOB_UNLIMITED removes the limit.
#define CAPSPAWN_JOB_LIMIT_MEMORY_MAX ((uint32_t)1u)  // bytes (memory.max)
#define CAPSPAWN_JOB_LIMIT_PIDS_MAX ((uint32_t)2u)    // tasks: processes and threads (pids.max)
#define CAPSPAWN_JOB_LIMIT_CPU_MAX ((uint32_t)3u)     // thousandths of one CPU, >= 10 (cpu.max)
// The share of CPU time against sibling jobs, 1..10000; 100 is every
// cgroup's default, and what CAPSPAWN_JOB_UNLIMITED sets back (cpu.weight).
#define CAPSPAWN_JOB_LIMIT_CPU_WEIGHT ((uint32_t)4u)
#define CAPSPAWN_JOB_UNLIMITED ((int64_t)-1)

// The same constant as in <capspawn/spawn.h>.
#ifndef CAPSPAWN_ERR_MSG_MAX_LENGTH
#define CAPSPAWN_ERR_MSG_MAX_LENGTH 1024
#endif

// Every function below takes `err_msg_out`: NULL, or a buffer of
// CAPSPAWN_ERR_MSG_MAX_LENGTH (1024) bytes that receives a message naming what failed.
// Timeouts are in nanoseconds; a negative timeout waits forever.
// No function takes ownership of the `job` fd it is given.

// Opens the default job: the caller's own cgroup (the "0::" line of /proc/self/cgroup
// under the cgroup2 mount of /proc/self/mountinfo). NOT_SUPPORTED without cgroup v2.
capspawn_status_t capspawn_job_default(int* job_out, char* err_msg_out);

// Opens an existing cgroup2 directory (a job created earlier, maybe by another process).
capspawn_status_t capspawn_job_open(const char* path, int* job_out, char* err_msg_out);

// Creates a child job of `parent_job`, named `name` ([A-Za-z0-9_-], at most 64 bytes, not
// "procs"; NULL: a generated unique name). The child inherits the parent's policy.
// ALREADY_EXISTS if the name is taken, BAD_STATE if the parent was killed or destroyed,
// ACCESS_DENIED (message says how to delegate) if the parent is not writable.
capspawn_status_t capspawn_job_create(int parent_job, const char* name, int* job_out,
                                      char* err_msg_out);

// Opens the child job `name` of `job`.
capspawn_status_t capspawn_job_open_child(int job, const char* name, int* job_out,
                                          char* err_msg_out);

// The pids of every process in the job and in its child jobs, recursively.
// Writes min(capacity, available) pids; *actual_out = written, *available_out = total
// (either may be NULL). pids may be NULL when capacity is 0.
capspawn_status_t capspawn_job_get_processes(int job, pid_t* pids, size_t capacity,
                                             size_t* actual_out, size_t* available_out,
                                             char* err_msg_out);

// The names of the job's direct child jobs, each followed by a NUL byte, sorted.
// Writes as many whole names as fit in `capacity` bytes; *actual_out = names written,
// *available_out = number of children (either may be NULL).
capspawn_status_t capspawn_job_get_children(int job, char* names, size_t capacity,
                                            size_t* actual_out, size_t* available_out,
                                            char* err_msg_out);

// Kills every process of the job and of its child jobs (cgroup.kill) and waits until
// the tree is empty. The job and its child jobs are then dead: spawning into them or
// creating children in them is BAD_STATE. TIMED_OUT if the tree is not empty in time.
capspawn_status_t capspawn_job_kill(int job, int64_t timeout_ns, char* err_msg_out);

// Freezes every process of the tree (cgroup.freeze) and waits until all are frozen.
capspawn_status_t capspawn_job_freeze(int job, int64_t timeout_ns, char* err_msg_out);

// Withdraws this job's freeze (a job whose ancestor is frozen stays frozen).
capspawn_status_t capspawn_job_thaw(int job, char* err_msg_out);

// Sets the job's policy for `condition` (CAPSPAWN_JOB_POL_NEW_PROCESS) to `action`.
// Policies only get stricter: ALLOW on a DENY job is ACCESS_DENIED. As on Fuchsia, a
// policy can only change while the job has no process and no child job (BAD_STATE).
capspawn_status_t capspawn_job_set_policy(int job, uint32_t condition, uint32_t action,
                                          char* err_msg_out);
capspawn_status_t capspawn_job_get_policy(int job, uint32_t condition, uint32_t* action_out,
                                          char* err_msg_out);

// Sets a resource limit of the whole job tree. NOT_SUPPORTED (naming the controller) when
// the controller is not enabled in the parent's cgroup.subtree_control.
capspawn_status_t capspawn_job_set_limit(int job, uint32_t limit, int64_t value, char* err_msg_out);

// Kills the tree, then removes the job and its child jobs (bottom-up). The fd stays open
// (close it); operations on it then fail with BAD_STATE.
capspawn_status_t capspawn_job_destroy(int job, int64_t timeout_ns, char* err_msg_out);

#ifdef __cplusplus
}  // extern "C"

#include <string>
#include <string_view>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn {

enum class NewProcessPolicy { kAllow = 0, kDeny = 1 };
enum class JobLimit { kMemoryMax = 1, kPidsMax = 2, kCpuMax = 3, kCpuWeight = 4 };

struct JobInfo {
  std::string path;              // the cgroup directory
  bool is_capspawn_job = false;  // created by capspawn (false: a plain cgroup)
  bool killed = false;
  bool populated = false;  // some process is in the tree
  bool frozen = false;
  NewProcessPolicy new_process = NewProcessPolicy::kAllow;
};

// A job: owns a cgroup2 directory fd.
class Job {
 public:
  Job() = default;
  // Validates and takes `fd` (BAD_HANDLE, WRONG_TYPE).
  static Result<Job> FromFd(UniqueFd fd);
  static Result<Job> Default();
  static Result<Job> Open(const std::string& path);

  const UniqueFd& fd() const { return fd_; }
  [[nodiscard]] int release() { return fd_.release(); }
  bool valid() const { return fd_.valid(); }

  // An empty name picks a unique one.
  Result<Job> CreateChild(std::string_view name = {}) const;
  Result<Job> OpenChild(std::string_view name) const;
  Result<std::vector<pid_t>> Processes() const;       // the whole tree
  Result<std::vector<std::string>> Children() const;  // direct child jobs, sorted
  Result<JobInfo> Info() const;
  Result<std::string> Path() const;

  Status Kill(int64_t timeout_ns = -1) const;
  Status Freeze(int64_t timeout_ns = -1) const;
  Status Thaw() const;
  Status SetNewProcessPolicy(NewProcessPolicy policy) const;
  Result<NewProcessPolicy> GetNewProcessPolicy() const;
  Status SetLimit(JobLimit limit, int64_t value) const;
  Status Destroy(int64_t timeout_ns = -1) const;

 private:
  explicit Job(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace capspawn

#endif  // __cplusplus

#endif  // CAPSPAWN_JOB_H_
