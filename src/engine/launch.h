// SPDX-License-Identifier: Apache-2.0
// The launch engine: one clone3 vfork-style spawn that follows a plan computed
// in the parent. The child allocates nothing and calls only raw syscalls.
#ifndef CAPSPAWN_SRC_ENGINE_LAUNCH_H_
#define CAPSPAWN_SRC_ENGINE_LAUNCH_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/process.h>
#include <capspawn/result.h>

#include "engine/child_error.h"

namespace capspawn::engine {

// A step the child runs after its fd table is final and before exec
// (namespaces, mounts...). Returns 0, or -1 after ChildFail(). Must be
// allocation-free and async-signal-safe: it runs on a small borrowed stack in
// a child that shares the parent's memory.
using ChildHook = int (*)(const void* arg, ChildError* error);

// The identity the child takes after its setup steps, before its seccomp
// filter and exec (the launcher daemon runs its clients' processes as them):
// capabilities dropped from the bounding set, then setgroups, setresgid,
// setresuid, then no_new_privs. `groups` is borrowed for Launch().
struct Credentials {
  bool set_ids = false;  // false: keep uid, gid and groups
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;
  size_t group_count = 0;
  uint64_t drop_bounding = 0;  // bit n: PR_CAPBSET_DROP capability n
  bool no_new_privs = false;
  // Signal dispositions to change (bit n-1: signal n), so that exactly the
  // client's ignored signals are ignored, as in a child of the client.
  uint64_t ignore_signals = 0;   // set to SIG_IGN
  uint64_t default_signals = 0;  // set to SIG_DFL
  // PR_SET_PDEATHSIG: the signal the child gets when the thread that called
  // Launch() exits (0: none). Set after the ids (changing them clears it); a
  // child whose creator is already gone by then fails instead (ESRCH; not
  // detectable in a new PID namespace). exec keeps it, unless the program is
  // setuid, setgid or has file capabilities.
  int parent_death_signal = 0;
};

struct FdAssignment {
  int source;  // fd in the parent
  int target;  // fd number in the child (0..1023)
};

struct LaunchPlan {
  // The program: executed with execveat(exec_fd, "", AT_EMPTY_PATH).
  int exec_fd = -1;
  // NULL-terminated argv / envp, owned by the caller for the duration of Launch().
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  // Exactly the child's fds: every other fd is closed. Targets must be unique.
  std::vector<FdAssignment> fds;
  // Targets among 0..2 without an assignment are opened on /dev/null.
  // Typed startup handles: when set, the child writes its pid into this
  // "LISTEN_PID=" + 11 spare bytes buffer (which envp points at) before exec.
  char* listen_pid_env = nullptr;
  // Job: a cgroup2 directory fd (-1: stay in the caller's cgroup).
  int cgroup_fd = -1;
  // Extra clone flags (CLONE_NEWUSER, CLONE_NEWNS...) requested by hooks.
  uint64_t extra_clone_flags = 0;
  // Steps run in the child, in order, after the fd table and before the
  // seccomp filter and exec.
  struct Hook {
    ChildHook fn;
    const void* arg;
  };
  std::vector<Hook> hooks;
  // Fds the hooks read besides the fd table (a cached namespace's nsfs
  // fds): the child keeps them, close-on-exec, until exec, moved above the
  // fd targets when needed, and stores each one's number in the child at
  // *child_fd (the child shares this memory). At most kMaxHookFds.
  struct HookFd {
    int fd;
    int* child_fd;
  };
  static constexpr size_t kMaxHookFds = 8;
  std::vector<HookFd> hook_fds;
  // Seccomp filter installed last (with no_new_privs), or null.
  const sock_fprog* seccomp_filter = nullptr;
  // More filters, installed after it in this order (the launcher's client's
  // own, so that its processes are never less restricted than it is).
  std::span<const sock_fprog> inherited_filters;
  // The caller's own filter (SET_SECCOMP_FILTER), installed after that one.
  // A child without CAP_SYS_ADMIN gets no_new_privs first (the kernel's
  // condition for an unprivileged filter).
  const sock_fprog* user_seccomp_filter = nullptr;
  // How its failures are named: [0] the seccomp call, [1] the prctl.
  const char* user_seccomp_steps[2] = {"seccomp filter: seccomp(SECCOMP_SET_MODE_FILTER)",
                                       "seccomp filter: prctl(PR_SET_NO_NEW_PRIVS)"};
  // The name /proc/PID/comm shows (SET_NAME), or null for the kernel's
  // choice (the executable's file name). Set by stopping the child at exec
  // and running prctl(PR_SET_NAME) in it before its first instruction.
  const char* name = nullptr;
  // Credentials the child switches to (null: keep the caller's).
  const Credentials* credentials = nullptr;
  // Leave the child stopped at its exec, still traced by the thread that
  // called Launch() (ProcessBuilder reads its registers, then detaches it
  // into a group stop; see src/builder/). A child that dies before its exec
  // stop is then an error (BAD_STATE), reaped.
  bool stop_at_exec = false;
  // Minimum main-thread stack: the child raises its RLIMIT_STACK soft limit
  // to this floor before exec (never lowers it); 0 leaves it alone.
  uint64_t min_stack_size = 0;
  // A pid namespace the child is created in (an nsfs fd, borrowed), or -1.
  // setns(CLONE_NEWPID) only changes where the caller's thread's next
  // children go, so Launch does it on the calling thread just before the
  // clone and returns the thread to its own pid_for_children right after
  // (first checking that it may: a thread that could not come back is never
  // moved). Failures are named by join_pid_ns_label.
  int join_pid_ns_fd = -1;
  const char* join_pid_ns_label = "join pid namespace";
  // Where Launch stores the child's pid, as clone returned it (the pidfd's
  // process may be gone by the time the caller asks), or null.
  pid_t* pid_out = nullptr;
  // With CLONE_NEWPID in extra_clone_flags: an executable fd (kept like a
  // hook fd) the child, pid 1 of the new namespace, executes as its init
  // after creating the program as its own child (pid 2). The program takes
  // every step up to its exec as without it, and every filter; the init
  // takes the setup steps and all but user_seccomp_filter. Launch returns
  // once both have executed (or failed: then neither survives), with pid 1's
  // pidfd. Not with name or stop_at_exec (NOT_SUPPORTED). -1: no init.
  int init_fd = -1;
};

// Test hook: use the legacy clone() path as when clone3 is unavailable.
void SetForceLegacyCloneForTesting(bool force);
// Tests: every child kills itself (SIGKILL) just before its exec.
void SetKillChildBeforeExecForTesting(bool kill);

// Creates the process. On failure nothing survives: the child, if it existed,
// has been reaped. The message names the step and errno.
Result<Process> Launch(const LaunchPlan& plan);

}  // namespace capspawn::engine

#endif  // CAPSPAWN_SRC_ENGINE_LAUNCH_H_
