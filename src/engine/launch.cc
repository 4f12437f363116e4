// SPDX-License-Identifier: Apache-2.0
// The launch engine. The parent plans everything; the child, which shares the
// parent's memory (CLONE_VM) and, at first, its fd table (CLONE_FILES), only
// runs the plan's syscalls in order and reports a failed step through memory.
#include "engine/launch.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engine/clone_trampoline.h"
#include "engine/exec_stop.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn::engine {
namespace {

constexpr size_t kStackSize = 256 * 1024;
constexpr size_t kGuardSize = 4096;
// With a pid-1 init, the program's process runs on the lowest part of the
// child's stack while pid 1 still runs on the top of it.
constexpr size_t kProgramStackSize = 64 * 1024;
// An executable fd this far above the child's other fds is reopened through
// /proc rather than copied, so the cost does not follow the parent's fd count.
constexpr int kExecFdSlack = 64;

std::atomic<bool> g_force_legacy{false};
bool g_kill_before_exec = false;  // tests: the child kills itself before its exec
std::atomic<bool> g_clone3_unavailable{false};
std::atomic<bool> g_proc_reopen_unusable{false};

struct ChildArgs {
  const LaunchPlan* plan = nullptr;
  ChildError error;
  unsigned keep_below = 3;  // fds below this survive the unshare
  int max_target = 2;
  int exec_fd = -1;                           // valid in the child, unless reopened
  const char* exec_proc_path = nullptr;       // /proc/<pid>/task/<tid>/fd/<n>
  int* moved = nullptr;                       // scratch, one per fd assignment
  const std::pair<int, int>* gaps = nullptr;  // [lo, hi] ranges to close
  size_t gap_count = 0;
  unsigned dev_null_mask = 0;  // bit t: std fd t gets /dev/null
  bool legacy = false;         // clone() fallback: no CLONE_INTO_CGROUP/CLEAR_SIGHAND
  const Credentials* credentials = nullptr;
  bool set_stack_limit = false;
  rlimit stack_limit{};
  pid_t parent = 0;  // getpid() of the caller
  // Set by the child just before execveat: a child that exits without it
  // and without a failed step died before its exec (a signal).
  bool reached_exec = false;
  // A pid-1 init (LaunchPlan::init_fd): the words the kernel clears
  // (CLONE_CHILD_CLEARTID) when pid 1, and then the program, has executed
  // or exited; the program's pid in the namespace; whether pid 1 failed
  // after creating the program (which then must not run).
  int init_fd = -1;
  int program_exec_fd = -1;
  char* program_stack_top = nullptr;
  int init_tid = 0;
  int program_tid = 0;
  pid_t program_pid = 0;
  bool init_failed = false;
  char init_arg[24] = {};
  char* init_argv[3] = {};
  char* init_envp[1] = {};
};

// A futex wait that never touches errno: the child's processes share the
// caller thread's TLS and run at the same time as it while a pid-1 init
// starts.
CAPSPAWN_CHILD_CODE long RawFutexWait(int* word, int value) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = 0;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(SYS_futex), "D"(word), "S"(FUTEX_WAIT), "d"(value), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = SYS_futex;
  register long x0 __asm__("x0") = reinterpret_cast<long>(word);
  register long x1 __asm__("x1") = FUTEX_WAIT;
  register long x2 __asm__("x2") = value;
  register long x3 __asm__("x3") = 0;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
#endif
}

// Until the kernel has cleared *word (the process behind it has executed or exited).
CAPSPAWN_CHILD_CODE void WaitCleared(int* word) {
  for (;;) {
    const int v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    if (v == 0) return;
    RawFutexWait(word, v);
  }
}

CAPSPAWN_CHILD_CODE long Sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  long r = syscall(nr, a, b, c, d, e);
  return r < 0 ? -errno : r;
}

CAPSPAWN_CHILD_CODE int CloseRange(unsigned lo, unsigned hi) {
  if (lo > hi) return 0;
  return static_cast<int>(Sys(SYS_close_range, lo, hi, 0));
}

CAPSPAWN_CHILD_CODE void FormatPid(char* out, long pid) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

CAPSPAWN_CHILD_CODE int ExecProgram(ChildArgs* a, int exec_fd);
CAPSPAWN_CHILD_CODE int BecomeInit(ChildArgs* a, int exec_fd);

// Each step names itself in the error; nothing here allocates.
CAPSPAWN_CHILD_CODE int ChildSetup(ChildArgs* a) {
  const LaunchPlan& p = *a->plan;
  ChildError* e = &a->error;
  long r;

  // 1. A private fd table with only the fds below keep_below: the parent's
  //    other fds are never copied, so this costs the same with 20,000 of them.
  r = Sys(SYS_close_range, a->keep_below, ~0U, CLOSE_RANGE_UNSHARE);
  if (r < 0) return ChildFail(e, "close_range(CLOSE_RANGE_UNSHARE)", static_cast<int>(-r));

  if (a->legacy) {
    // No CLONE_CLEAR_SIGHAND: reset the handlers copied from the parent.
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      struct sigaction old;
      if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler != SIG_IGN &&
          old.sa_handler != SIG_DFL) {
        struct sigaction dfl;
        std::memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, nullptr);
      }
    }
    // No CLONE_INTO_CGROUP: join the job before running anything of the program.
    if (p.cgroup_fd >= 0) {
      r = Sys(SYS_openat, p.cgroup_fd, reinterpret_cast<long>("cgroup.procs"),
              O_WRONLY | O_CLOEXEC);
      if (r < 0) return ChildFail(e, "join job: open cgroup.procs", static_cast<int>(-r));
      int procs = static_cast<int>(r);
      r = Sys(SYS_write, procs, reinterpret_cast<long>("0"), 1);
      Sys(SYS_close, procs);
      if (r < 0) return ChildFail(e, "join job: write cgroup.procs", static_cast<int>(-r));
    }
  }

  // 2. The executable, kept out of the way of the targets.
  int exec_fd = a->exec_fd;
  if (a->exec_proc_path) {
    r = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(a->exec_proc_path), O_PATH | O_CLOEXEC);
    if (r < 0) return ChildFail(e, "reopen the executable through /proc", static_cast<int>(-r));
    exec_fd = static_cast<int>(r);
  }
  if (exec_fd <= a->max_target) {
    r = Sys(SYS_fcntl, exec_fd, F_DUPFD_CLOEXEC, a->keep_below);
    if (r < 0) return ChildFail(e, "move the executable fd", static_cast<int>(-r));
    exec_fd = static_cast<int>(r);
  }
  // The hooks' own fds and the init, likewise; kept[] lists every fd above
  // the targets that must survive step 4, in ascending order.
  int kept[LaunchPlan::kMaxHookFds + 2];
  size_t kept_count = 0;
  kept[kept_count++] = exec_fd;
  const size_t hook_count = p.hook_fds.size();
  for (size_t i = 0; i <= hook_count; ++i) {
    int fd = i < hook_count ? p.hook_fds[i].fd : p.init_fd;
    if (fd < 0) continue;
    if (fd <= a->max_target) {
      r = Sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, a->keep_below);
      if (r < 0) return ChildFail(e, "move a setup fd", static_cast<int>(-r));
      fd = static_cast<int>(r);
    }
    if (i < hook_count) {
      *p.hook_fds[i].child_fd = fd;
    } else {
      a->init_fd = fd;
    }
    size_t j = kept_count++;
    for (; j > 0 && kept[j - 1] > fd; --j) kept[j] = kept[j - 1];
    kept[j] = fd;
  }

  // 3. Sources above the highest target, then each target placed. A fd that
  //    stays where it is (stdio, usually) only loses close-on-exec: no other
  //    target can overwrite it, targets being unique.
  const size_t n = p.fds.size();
  for (size_t i = 0; i < n; ++i) {
    if (p.fds[i].source == p.fds[i].target) continue;
    r = Sys(SYS_fcntl, p.fds[i].source, F_DUPFD_CLOEXEC, a->keep_below);
    if (r < 0) return ChildFail(e, "move fd", static_cast<int>(-r), 0, static_cast<long>(i));
    a->moved[i] = static_cast<int>(r);
  }
  for (size_t i = 0; i < n; ++i) {
    if (p.fds[i].source == p.fds[i].target) {
      r = Sys(SYS_fcntl, p.fds[i].target, F_SETFD, 0);
    } else {
      r = Sys(SYS_dup3, a->moved[i], p.fds[i].target, 0);
    }
    if (r < 0) return ChildFail(e, "place fd", static_cast<int>(-r), 0, static_cast<long>(i));
  }

  // 4. Everything else closed; missing stdio on /dev/null (open takes the
  //    lowest free fd, which is exactly the next missing one).
  for (size_t g = 0; g < a->gap_count; ++g) {
    r = CloseRange(static_cast<unsigned>(a->gaps[g].first),
                   static_cast<unsigned>(a->gaps[g].second));
    if (r < 0) return ChildFail(e, "close unassigned fds", static_cast<int>(-r));
  }
  for (int t = 0; t < 3; ++t) {
    if (!(a->dev_null_mask & (1u << t))) continue;
    r = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/dev/null"), O_RDWR);
    if (r < 0) return ChildFail(e, "open /dev/null for stdio", static_cast<int>(-r));
    if (r != t) {
      long d = Sys(SYS_dup3, r, t, 0);
      Sys(SYS_close, r);
      if (d < 0) return ChildFail(e, "place /dev/null for stdio", static_cast<int>(-d));
    }
  }
  unsigned next = static_cast<unsigned>(a->max_target + 1);
  for (size_t k = 0; k < kept_count; ++k) {
    CloseRange(next, static_cast<unsigned>(kept[k] - 1));
    next = static_cast<unsigned>(kept[k] + 1);
  }
  CloseRange(next, ~0U);

  // 5. The plan's own steps (namespaces, mounts...).
  for (size_t h = 0; h < p.hooks.size(); ++h) {
    if (p.hooks[h].fn(p.hooks[h].arg, e) < 0) {
      if (e->step == nullptr) ChildFail(e, "setup step", EINVAL);
      return -1;
    }
  }

  if (a->set_stack_limit) {
    r = Sys(SYS_prlimit64, 0, RLIMIT_STACK, reinterpret_cast<long>(&a->stack_limit), 0);
    if (r < 0) return ChildFail(e, "setrlimit(RLIMIT_STACK)", static_cast<int>(-r));
  }

  // 6. Who the program runs as. Raw syscalls: libc's wrappers would signal
  //    every thread of the parent, whose memory this child shares.
  if (const Credentials* c = a->credentials) {
    for (int cap = 0; cap < 64; ++cap) {
      if (!(c->drop_bounding & (uint64_t{1} << cap))) continue;
      r = Sys(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
      if (r < 0 && r != -EINVAL)
        return ChildFail(e, "prctl(PR_CAPBSET_DROP)", static_cast<int>(-r));
    }
    if (c->set_ids) {
      r = Sys(SYS_setgroups, static_cast<long>(c->group_count), reinterpret_cast<long>(c->groups));
      if (r < 0) return ChildFail(e, "setgroups", static_cast<int>(-r));
      r = Sys(SYS_setresgid, c->gid, c->gid, c->gid);
      if (r < 0) return ChildFail(e, "setresgid", static_cast<int>(-r));
      r = Sys(SYS_setresuid, c->uid, c->uid, c->uid);
      if (r < 0) return ChildFail(e, "setresuid", static_cast<int>(-r));
    }
    for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
      const uint64_t bit = uint64_t{1} << (sig - 1);
      if (!((c->ignore_signals | c->default_signals) & bit)) continue;
      struct sigaction act;
      std::memset(&act, 0, sizeof act);
      act.sa_handler = (c->ignore_signals & bit) ? SIG_IGN : SIG_DFL;
      sigaction(sig, &act, nullptr);  // libc's reserved signals are refused: nothing to do
    }
    if (c->no_new_privs) {
      r = Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      if (r < 0) return ChildFail(e, "prctl(PR_SET_NO_NEW_PRIVS)", static_cast<int>(-r));
    }
    if (c->parent_death_signal != 0) {
      r = Sys(SYS_prctl, PR_SET_PDEATHSIG, c->parent_death_signal, 0, 0, 0);
      if (r < 0) return ChildFail(e, "prctl(PR_SET_PDEATHSIG)", static_cast<int>(-r));
      // A creator that died before the prctl sent nothing: we were reparented.
      // (In a new PID namespace the parent is invisible, getppid() is 0, and
      // this window stays open.)
      const long ppid = Sys(SYS_getppid);
      if (ppid != 0 && ppid != a->parent) return ChildFail(e, "its creator exited", ESRCH);
    }
  }

  if (a->init_fd >= 0) return BecomeInit(a, exec_fd);
  return ExecProgram(a, exec_fd);
}

// The last steps of the program's process: from LISTEN_PID to its exec.
CAPSPAWN_CHILD_CODE int ExecProgram(ChildArgs* a, int exec_fd) {
  const LaunchPlan& p = *a->plan;
  ChildError* e = &a->error;
  long r;
  if (p.listen_pid_env) FormatPid(p.listen_pid_env + sizeof("LISTEN_PID=") - 1, Sys(SYS_getpid));

  // Stop at exec so the parent can name the process or inspect it (see exec_stop.h).
  if (p.name || p.stop_at_exec) {
    r = Sys(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
    if (r < 0) return ChildFail(e, "ptrace(PTRACE_TRACEME)", static_cast<int>(-r));
  }

  // 7. Last, the sandbox filters: nothing after them may need what they forbid.
  if (p.seccomp_filter || !p.inherited_filters.empty()) {
    r = Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (r < 0) return ChildFail(e, "prctl(PR_SET_NO_NEW_PRIVS)", static_cast<int>(-r));
  }
  if (p.seccomp_filter) {
    r = Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, reinterpret_cast<long>(p.seccomp_filter));
    if (r < 0) return ChildFail(e, "seccomp(SECCOMP_SET_MODE_FILTER)", static_cast<int>(-r));
  }
  for (const sock_fprog& f : p.inherited_filters) {
    r = Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, reinterpret_cast<long>(&f));
    if (r < 0) return ChildFail(e, "seccomp: an inherited filter", static_cast<int>(-r));
  }
  if (p.user_seccomp_filter) {
    r = Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, reinterpret_cast<long>(p.user_seccomp_filter));
    if (r == -EACCES) {
      r = Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      if (r < 0) return ChildFail(e, p.user_seccomp_steps[1], static_cast<int>(-r));
      r = Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
              reinterpret_cast<long>(p.user_seccomp_filter));
    }
    if (r < 0) return ChildFail(e, p.user_seccomp_steps[0], static_cast<int>(-r));
  }

  // The program starts with no signal blocked.
  uint64_t empty_mask = 0;
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&empty_mask), 0, sizeof empty_mask);
  if (g_kill_before_exec) Sys(SYS_kill, Sys(SYS_getpid), SIGKILL);
  a->reached_exec = true;
  r = Sys(SYS_execveat, exec_fd, reinterpret_cast<long>(""), reinterpret_cast<long>(p.argv),
          reinterpret_cast<long>(p.envp), AT_EMPTY_PATH);
  return ChildFail(e, "execveat", static_cast<int>(-r));
}

// The program's process under a pid-1 init: it waits until pid 1 has left
// the caller's memory (executed the init), so that nothing of the program
// ever runs beside a process sharing that memory, then takes its last steps.
CAPSPAWN_CHILD_CODE int ProgramMain(void* raw) {
  ChildArgs* a = static_cast<ChildArgs*>(raw);
  WaitCleared(&a->init_tid);
  if (a->init_failed) return 127;  // pid 1 reported why; the namespace is ending
  ExecProgram(a, a->program_exec_fd);
  return 127;
}

// Pid 1 failed after creating the program's process: that one must not run.
CAPSPAWN_CHILD_CODE int InitFail(ChildArgs* a, const char* step, long r) {
  a->init_failed = true;
  return ChildFail(&a->error, step, static_cast<int>(-r));
}

// Pid 1 of the new pid namespace, every setup step taken: creates the
// program's process (its memory shared, so its failure lands in ChildArgs as
// without an init), takes the filters but the caller's own, keeps no fd but
// the init's and executes it.
CAPSPAWN_CHILD_CODE int BecomeInit(ChildArgs* a, int exec_fd) {
  const LaunchPlan& p = *a->plan;
  ChildError* e = &a->error;
  a->program_exec_fd = exec_fd;
  long pid = clone(ProgramMain, a->program_stack_top, CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, a,
                   nullptr, nullptr, &a->program_tid);
  if (pid < 0) return ChildFail(e, "pid-1 init: clone the program's process", errno);
  a->program_pid = static_cast<pid_t>(pid);
  long r;
  if (p.seccomp_filter || !p.inherited_filters.empty()) {
    r = Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (r < 0) return InitFail(a, "pid-1 init: prctl(PR_SET_NO_NEW_PRIVS)", r);
  }
  if (p.seccomp_filter) {
    r = Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, reinterpret_cast<long>(p.seccomp_filter));
    if (r < 0) return InitFail(a, "pid-1 init: seccomp(SECCOMP_SET_MODE_FILTER)", r);
  }
  for (const sock_fprog& f : p.inherited_filters) {
    r = Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, reinterpret_cast<long>(&f));
    if (r < 0) return InitFail(a, "pid-1 init: seccomp: an inherited filter", r);
  }
  const unsigned init_fd = static_cast<unsigned>(a->init_fd);
  if (init_fd > 0) CloseRange(0, init_fd - 1);
  CloseRange(init_fd + 1, ~0U);
  FormatPid(a->init_arg, pid);
  a->init_argv[0] = const_cast<char*>("capspawn-init");
  a->init_argv[1] = a->init_arg;
  a->init_argv[2] = nullptr;
  a->init_envp[0] = nullptr;
  r = Sys(SYS_execveat, a->init_fd, reinterpret_cast<long>(""),
          reinterpret_cast<long>(a->init_argv), reinterpret_cast<long>(a->init_envp),
          AT_EMPTY_PATH);
  return InitFail(a, "pid-1 init: execveat", r);
}

CAPSPAWN_CHILD_CODE int ChildMain(void* raw) {
  ChildSetup(static_cast<ChildArgs*>(raw));
  return 127;
}

// One child stack per thread, reused: mmap+munmap per spawn costs more than
// the rest of the parent's work.
class ChildStack {
 public:
  ~ChildStack() {
    if (base_) munmap(base_, kStackSize + kGuardSize);
  }
  void* Acquire() {
    if (in_use_) return nullptr;
    if (!base_) {
      void* m = mmap(nullptr, kStackSize + kGuardSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
      if (m == MAP_FAILED) return nullptr;
      mprotect(m, kGuardSize, PROT_NONE);
      base_ = m;
    }
    in_use_ = true;
    return base_;
  }
  void Release() { in_use_ = false; }

 private:
  void* base_ = nullptr;
  bool in_use_ = false;
};
thread_local ChildStack t_stack;

// A stack for one spawn: the thread's cached one, or (re-entrant spawn from a
// signal handler) a fresh mapping.
class StackLease {
 public:
  StackLease() {
    base_ = t_stack.Acquire();
    if (base_) return;
    owned_ = true;
    void* m = mmap(nullptr, kStackSize + kGuardSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    base_ = m == MAP_FAILED ? nullptr : m;
  }
  ~StackLease() {
    if (owned_ && base_) munmap(base_, kStackSize + kGuardSize);
    if (!owned_ && base_) t_stack.Release();
  }
  void* base() const { return base_; }
  // Lowest usable address (above the guard page) and the size above it.
  void* bottom() const { return static_cast<char*>(base_) + kGuardSize; }

 private:
  void* base_ = nullptr;
  bool owned_ = false;
};

struct Attempt {
  long ret;
  int pidfd;
};

Attempt CloneChild(ChildArgs* a, void* stack_bottom, uint64_t extra_flags, int cgroup_fd,
                   bool legacy, int* clear_tid) {
  int pidfd = -1;
  if (!legacy) {
    clone_args args;
    std::memset(&args, 0, sizeof args);
    args.flags =
        CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD | CLONE_CLEAR_SIGHAND | extra_flags;
    args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    args.stack = reinterpret_cast<uint64_t>(stack_bottom);
    args.stack_size = kStackSize;
    if (clear_tid) {
      args.flags |= CLONE_CHILD_CLEARTID;
      args.child_tid = reinterpret_cast<uint64_t>(clear_tid);
    }
    if (cgroup_fd >= 0) {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = static_cast<uint64_t>(cgroup_fd);
    }
    return {capspawn_clone3(&args, sizeof args, ChildMain, a), pidfd};
  }
  char* top = static_cast<char*>(stack_bottom) + kStackSize;
  int flags =
      static_cast<int>(CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD | extra_flags) | SIGCHLD;
  if (clear_tid) flags |= CLONE_CHILD_CLEARTID;
  long r = clone(ChildMain, top, flags, a, &pidfd, nullptr, clear_tid);
  return {r < 0 ? -errno : r, pidfd};
}

std::string DescribeChildError(const LaunchPlan& plan, const ChildError& e) {
  std::string what = e.step ? e.step : "child setup";
  if (e.detail >= 0 && static_cast<size_t>(e.detail) < plan.fds.size() &&
      (std::strcmp(what.c_str(), "move fd") == 0 || std::strcmp(what.c_str(), "place fd") == 0)) {
    const FdAssignment& f = plan.fds[static_cast<size_t>(e.detail)];
    what += " " + std::to_string(f.source) + " -> " + std::to_string(f.target);
  }
  return what;
}

}  // namespace

void SetForceLegacyCloneForTesting(bool force) { g_force_legacy = force; }
void SetKillChildBeforeExecForTesting(bool kill) { g_kill_before_exec = kill; }

Result<Process> Launch(const LaunchPlan& plan) {
  if (plan.exec_fd < 0) return Error(CAPSPAWN_ERR_BAD_HANDLE, "launch: no executable fd");
  if (!plan.argv) return Error(CAPSPAWN_ERR_INVALID_ARGS, "launch: no argv");
  const bool init = plan.init_fd >= 0;
  if (init) {
    if (!(plan.extra_clone_flags & CLONE_NEWPID)) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "launch: a pid-1 init needs a new pid namespace");
    }
    // Both are done by tracing the program from its parent, which is then the init.
    if (plan.stop_at_exec) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "a pid-1 init (CAPSPAWN_NEW_NS_PID_INIT) with a process created without "
                   "starting: not supported");
    }
    if (plan.name) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "a pid-1 init (CAPSPAWN_NEW_NS_PID_INIT) with a process name (SET_NAME): not "
                   "supported");
    }
  }

  // The child's fd layout, planned here.
  ChildArgs a;
  a.plan = &plan;
  a.credentials = plan.credentials;
  if (a.credentials && a.credentials->parent_death_signal) a.parent = getpid();
  uint64_t targets_seen[1024 / 64] = {};
  int max_target = 2;
  int keep_below = 3;
  for (const FdAssignment& f : plan.fds) {
    if (f.target < 0 || f.target >= 1024) {
      return Error(CAPSPAWN_ERR_OUT_OF_RANGE, "launch: fd target " + std::to_string(f.target));
    }
    uint64_t bit = uint64_t{1} << (f.target % 64);
    if (targets_seen[f.target / 64] & bit) {
      return Error(CAPSPAWN_ERR_ALREADY_EXISTS,
                   "launch: fd target " + std::to_string(f.target) + " twice");
    }
    targets_seen[f.target / 64] |= bit;
    max_target = std::max(max_target, f.target);
    keep_below = std::max(keep_below, f.source + 1);
  }
  keep_below = std::max(keep_below, max_target + 1);
  if (plan.hook_fds.size() > LaunchPlan::kMaxHookFds) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "launch: too many setup fds");
  }
  for (const LaunchPlan::HookFd& h : plan.hook_fds) {
    if (h.fd < 0 || !h.child_fd) return Error(CAPSPAWN_ERR_BAD_HANDLE, "launch: bad setup fd");
    keep_below = std::max(keep_below, h.fd + 1);
  }
  if (init) keep_below = std::max(keep_below, plan.init_fd + 1);
  for (int t = 0; t < 3; ++t) {
    if (!(targets_seen[0] & (uint64_t{1} << t))) a.dev_null_mask |= 1u << t;
  }
  std::vector<std::pair<int, int>> gaps;
  for (int fd = 0; fd <= max_target;) {
    if (targets_seen[fd / 64] & (uint64_t{1} << (fd % 64))) {
      ++fd;
      continue;
    }
    int lo = fd;
    while (fd <= max_target && !(targets_seen[fd / 64] & (uint64_t{1} << (fd % 64)))) ++fd;
    gaps.emplace_back(lo, fd - 1);
  }
  a.gaps = gaps.data();
  a.gap_count = gaps.size();
  a.max_target = max_target;
  std::vector<int> moved(plan.fds.size());
  a.moved = moved.data();

  bool legacy = g_force_legacy || g_clone3_unavailable;
  if (legacy && plan.cgroup_fd >= 0) keep_below = std::max(keep_below, plan.cgroup_fd + 1);

  char exec_proc_path[96];
  bool via_proc = false;
  if (plan.exec_fd < keep_below + kExecFdSlack || g_proc_reopen_unusable) {
    keep_below = std::max(keep_below, plan.exec_fd + 1);
  } else {
    std::snprintf(exec_proc_path, sizeof exec_proc_path, "/proc/%d/task/%d/fd/%d", getpid(),
                  gettid(), plan.exec_fd);
    via_proc = true;
  }

  if (plan.min_stack_size > 0) {
    // Planned here: the child only calls prlimit with the numbers.
    rlimit cur;
    if (getrlimit(RLIMIT_STACK, &cur) != 0)
      return Error::FromErrno(errno, "getrlimit(RLIMIT_STACK)");
    if (cur.rlim_cur == RLIM_INFINITY || cur.rlim_cur >= plan.min_stack_size) {
      // Already enough: a higher limit is never lowered.
    } else if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max < plan.min_stack_size) {
      return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                   "minimum stack size " + std::to_string(plan.min_stack_size) +
                       " exceeds the hard RLIMIT_STACK " + std::to_string(cur.rlim_max));
    } else {
      a.set_stack_limit = true;
      a.stack_limit.rlim_cur = plan.min_stack_size;
      a.stack_limit.rlim_max = cur.rlim_max;
    }
  }

  StackLease stack;
  if (!stack.base()) return Error::FromErrno(errno, "mmap child stack");

  // A pid namespace to create the child in: where this thread's children go
  // now, to come back to (tried first: never leave the thread elsewhere).
  UniqueFd own_pid_ns;
  if (plan.join_pid_ns_fd >= 0) {
    own_pid_ns.reset(open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC));
    if (!own_pid_ns) {
      return Error::FromErrno(errno, std::string(plan.join_pid_ns_label) +
                                         ": open /proc/thread-self/ns/pid_for_children");
    }
    if (setns(own_pid_ns.get(), CLONE_NEWPID) != 0) {
      return Error::FromErrno(errno, std::string(plan.join_pid_ns_label) +
                                         ": setns (this thread's own pid_for_children)");
    }
  }

  for (int attempt = 0;; ++attempt) {
    a.error = ChildError{};
    a.legacy = legacy;
    a.keep_below = static_cast<unsigned>(keep_below);
    a.exec_fd = via_proc ? -1 : plan.exec_fd;
    a.exec_proc_path = via_proc ? exec_proc_path : nullptr;
    a.init_fd = -1;
    a.init_failed = false;
    a.program_pid = 0;
    a.reached_exec = false;
    a.init_tid = 1;
    a.program_tid = 1;
    a.program_stack_top = static_cast<char*>(stack.bottom()) + kProgramStackSize;

    // No signal handler may run in the child while it shares our memory.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (own_pid_ns && setns(plan.join_pid_ns_fd, CLONE_NEWPID) != 0) {
      const int err = errno;
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      return Error::FromErrno(err, std::string(plan.join_pid_ns_label) + ": setns");
    }
    Attempt at = CloneChild(&a, stack.bottom(), plan.extra_clone_flags, plan.cgroup_fd, legacy,
                            init ? &a.init_tid : nullptr);
    int clone_err = at.ret < 0 ? static_cast<int>(-at.ret) : 0;
    int restore_err = 0;
    if (own_pid_ns && setns(own_pid_ns.get(), CLONE_NEWPID) != 0) restore_err = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (restore_err != 0) {
      // Checked before the join: the kernel refusing now is a bug to report,
      // and no process is handed out from a thread left in the wrong place.
      if (at.ret >= 0) {
        UniqueFd child(at.pidfd);
        (void)KillPidfd(child.get(), SIGKILL);
        siginfo_t info;
        waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child.get()), &info, WEXITED);
      }
      return Error::FromErrno(restore_err,
                              std::string(plan.join_pid_ns_label) +
                                  ": setns back to this thread's own pid_for_children");
    }

    if (at.ret < 0) {
      if (!legacy && (clone_err == ENOSYS || clone_err == EPERM) && attempt == 0) {
        // clone3 missing, or refused by a container's seccomp profile.
        if (clone_err == ENOSYS) g_clone3_unavailable = true;
        legacy = true;
        if (plan.cgroup_fd >= 0) keep_below = std::max(keep_below, plan.cgroup_fd + 1);
        continue;
      }
      if (clone_err == ENODEV && plan.cgroup_fd >= 0) {
        // CLONE_INTO_CGROUP into a cgroup that a job kill just removed.
        return Error(CAPSPAWN_ERR_BAD_STATE, "the job was killed (its cgroup was removed)");
      }
      return Error::FromErrno(clone_err, legacy ? "clone" : "clone3");
    }

    UniqueFd pidfd(at.pidfd);
    if (plan.pid_out) *plan.pid_out = static_cast<pid_t>(at.ret);
    // Pid 1 has executed the init (or exited): the program's process may
    // still be on its way to its exec, reporting here.
    if (init && a.program_pid > 0) WaitCleared(&a.program_tid);
    if (init && (a.error.step != nullptr || !a.reached_exec)) {
      // The init (if it runs) must not outlive a program that never ran;
      // killing it ends the namespace. Our own child: cannot fail.
      (void)KillPidfd(pidfd.get(), SIGKILL);
    }
    if (init && a.error.step == nullptr && !a.reached_exec) {
      siginfo_t info{};
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info, WEXITED);
      return Error(CAPSPAWN_ERR_INTERNAL,
                   "the program ended before its exec, without saying why (under a pid-1 init, "
                   "which reaped it)");
    }
    if (a.error.step == nullptr && !a.reached_exec) {
      // Killed before its exec, without a step to blame: no process to hand
      // back. Reap it and say how it ended.
      siginfo_t info{};
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info, WEXITED);
      return Error(CAPSPAWN_ERR_INTERNAL,
                   info.si_code == CLD_EXITED
                       ? "the child exited with " + std::to_string(info.si_status) +
                             " before its exec, without saying why"
                       : std::string("the child was killed by signal ") +
                             std::to_string(info.si_status) + " (" + strsignal(info.si_status) +
                             ") before its exec");
    }
    if (a.error.step == nullptr) {
      if (plan.name || plan.stop_at_exec) {
        const pid_t pid = static_cast<pid_t>(at.ret);
        Status st = WaitExecStop(pid, pidfd.get());
        if (!st.ok() && plan.stop_at_exec) {
          // No process to hand back stopped: reap what ended (or kill it).
          (void)KillPidfd(pidfd.get(), SIGKILL);
          siginfo_t info;
          waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info, WEXITED);
          return st.error();
        }
        if (st.ok()) {
          Status named = plan.name ? SetNameInStoppedChild(pid, plan.name) : Status();
          Status resumed = plan.stop_at_exec || !named.ok() ? Status() : ResumeStoppedChild(pid);
          if (!named.ok() || !resumed.ok()) {
            // Nothing half-made survives: the caller gets no process.
            (void)KillPidfd(pidfd.get(), SIGKILL);  // our own child: cannot fail but by exiting
            siginfo_t info;
            waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info, WEXITED);
            return named.ok() ? resumed.error() : named.error();
          }
        }
        // A child that died before its first instruction is still a process
        // that ran: its owner reads how it ended.
      }
      return Process(std::move(pidfd));
    }

    // The child failed before exec and has exited: reap it, report its step.
    siginfo_t info;
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info, WEXITED);
    if (via_proc && std::strcmp(a.error.step, "reopen the executable through /proc") == 0) {
      // /proc is not usable here (not mounted, or we are not dumpable): copy
      // the fd table up to the executable instead, from now on.
      g_proc_reopen_unusable = true;
      via_proc = false;
      keep_below = std::max(keep_below, plan.exec_fd + 1);
      continue;
    }
    capspawn_status_t status = a.error.status != 0 ? a.error.status : StatusFromErrno(a.error.err);
    return Error(status, DescribeChildError(plan, a.error) + ": " + std::strerror(a.error.err));
  }
}

}  // namespace capspawn::engine
