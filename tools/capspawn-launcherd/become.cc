// SPDX-License-Identifier: Apache-2.0
#include "become.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "job/cgroup_fs.h"

namespace capspawn::launcher_internal {

Status JoinCgroup(const ClientFacts& c) {
  if (c.cgroup_dir.empty()) return {};  // no cgroup2 here, or none the daemon sees
  Result<std::string> own = job_internal::OwnCgroupDir();
  if (own.ok() && *own == c.cgroup_dir) return {};
  UniqueFd procs(open((c.cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  if (!procs || write(procs.get(), "0", 1) != 1) {
    return Error::FromErrno(errno, "join the client's cgroup " + c.cgroup_dir);
  }
  return {};
}

Status EnterNamespaces(const ClientFacts& c) {
  // Joining a mount namespace needs a root and cwd of this thread's own
  // (no other thread may share them: a sanitizer's background thread would).
  if (!c.namespaces.empty() && unshare(CLONE_FS) != 0)
    return Error::FromErrno(errno, "unshare(CLONE_FS)");
  for (const ClientNamespace& n : c.namespaces) {
    if (setns(n.fd.get(), n.type) != 0) {
      return Error::FromErrno(errno, std::string("enter the client's ") + n.name + " namespace");
    }
  }
  // Its root (a chroot, or another mount namespace's root).
  struct statx theirs, ours;
  if (statx(c.root.get(), "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &theirs) != 0 ||
      statx(AT_FDCWD, "/", 0, STATX_INO | STATX_MNT_ID, &ours) != 0) {
    return Error::FromErrno(errno, "statx the client's root");
  }
  if (theirs.stx_ino != ours.stx_ino || theirs.stx_mnt_id != ours.stx_mnt_id ||
      theirs.stx_dev_major != ours.stx_dev_major || theirs.stx_dev_minor != ours.stx_dev_minor) {
    if (fchdir(c.root.get()) != 0 || chroot(".") != 0) {
      return Error::FromErrno(errno, "take the client's root");
    }
  }
  return chdir("/") == 0 ? Status() : Error::FromErrno(errno, "chdir /");
}

// Its rlimits, nice value, oom_score_adj and umask. A limit this process may
// not raise stays lower (never above the client's).
namespace {

// This worker's own oom_score_adj, opened once: after it entered the
// client's namespaces, the /proc there may not show it (a client in a pid
// namespace of its own with its own /proc).
int OwnOomScoreAdj() {
  static pid_t opener = -1;
  static UniqueFd fd;
  if (opener != getpid()) {  // a forked process opens its own
    fd.reset(open(("/proc/" + std::to_string(getpid()) + "/oom_score_adj").c_str(),
                  O_WRONLY | O_CLOEXEC));
    opener = getpid();
  }
  return fd.get();
}

}  // namespace

Status TakeLimits(const ClientFacts& c) {
  for (int r = 0; r < static_cast<int>(c.limits.size()); ++r) {
    rlimit want = c.limits[r];
    if (setrlimit(static_cast<__rlimit_resource>(r), &want) == 0) continue;
    rlimit now{};
    getrlimit(static_cast<__rlimit_resource>(r), &now);
    want.rlim_max = std::min(want.rlim_max, now.rlim_max);
    want.rlim_cur = std::min(want.rlim_cur, want.rlim_max);
    if (setrlimit(static_cast<__rlimit_resource>(r), &want) != 0) {
      return Error::FromErrno(errno, "setrlimit(resource " + std::to_string(r) + ")");
    }
  }
  const int oom = OwnOomScoreAdj();
  if (oom < 0) return Error::FromErrno(errno, "open the launcher's own oom_score_adj");
  const std::string adj = std::to_string(c.oom_score_adj);
  // Lowering it needs CAP_SYS_RESOURCE: a worker that cannot stays higher.
  if (pwrite(oom, adj.data(), adj.size(), 0) < 0 && errno != EACCES && errno != EPERM) {
    return Error::FromErrno(errno, "oom_score_adj");
  }
  if (setpriority(PRIO_PROCESS, 0, c.nice) != 0 && errno != EACCES && errno != EPERM) {
    return Error::FromErrno(errno, "setpriority");
  }
  umask(c.umask);
  return {};
}

Status TakeIdentity(const ClientFacts& c, bool privileged) {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (c.cap_bounding & (uint64_t{1} << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return Error::FromErrno(errno, "drop capability " + std::to_string(cap) +
                                         " from the bounding set, as the client has");
    }
  }
  // Not root: the ids are already the client's (Unservable).
  if (!privileged)
    return c.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
               ? Status(Error::FromErrno(errno, "prctl(PR_SET_NO_NEW_PRIVS)"))
               : Status();
  // No keep-caps: a non-root client's worker has no capability left.
  if (setgroups(c.groups.size(), c.groups.data()) != 0 || setresgid(c.gid, c.gid, c.gid) != 0 ||
      setresuid(c.uid, c.uid, c.uid) != 0) {
    return Error::FromErrno(errno, "take the client's uid, gid and groups");
  }
  if (c.uid == 0) {
    // Root keeps its capabilities through setresuid: keep only the client's.
    __user_cap_header_struct head{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    for (int i = 0; i < 2; ++i) {
      data[i].effective = static_cast<uint32_t>(c.cap_effective >> (32 * i));
      data[i].permitted = static_cast<uint32_t>(c.cap_permitted >> (32 * i));
      data[i].inheritable = static_cast<uint32_t>(c.cap_inheritable >> (32 * i));
    }
    if (syscall(SYS_capset, &head, data) != 0) {
      return Error::FromErrno(errno, "take the client's capabilities");
    }
  }
  if (c.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Error::FromErrno(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  }
  return {};
}

// Exactly the client's ignored signals are ignored (a child inherits them);
// SIGCHLD lets the kernel reap what the worker launches.
void TakeSignals(const ClientFacts& c) {
  struct sigaction act;
  for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    std::memset(&act, 0, sizeof act);
    act.sa_handler = (c.ignored_signals & (uint64_t{1} << (sig - 1))) ? SIG_IGN : SIG_DFL;
    if (sig == SIGCHLD && act.sa_handler == SIG_DFL) act.sa_flags = SA_NOCLDWAIT;
    sigaction(sig, &act, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

namespace {

bool SameLimits(const std::vector<rlimit>& a, const std::vector<rlimit>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].rlim_cur != b[i].rlim_cur || a[i].rlim_max != b[i].rlim_max) return false;
  }
  return true;
}

}  // namespace

Status TakeChanges(ClientFacts* taken) {
  ClientFacts now;
  now.pid = taken->pid;
  now.uid = taken->uid;  // its ids are those of the connection (SO_PEERCRED)
  now.gid = taken->gid;
  now.groups = taken->groups;
  now.proc = taken->proc;  // the files opened at the connection
  Status st = ReadChangeableFacts(&now, taken->pidfd.get());
  if (!st.ok()) return st.error();
  if (now.seccomp_filters != taken->seccomp_filters) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 "the client's seccomp filters changed since it connected (" +
                     std::to_string(taken->seccomp_filters) + ", now " +
                     std::to_string(now.seccomp_filters) +
                     "): its processes must have them, and only a new connection can read them");
  }
  if (!SameLimits(now.limits, taken->limits) || now.nice != taken->nice ||
      now.oom_score_adj != taken->oom_score_adj || now.umask != taken->umask) {
    st = TakeLimits(now);
    if (!st.ok()) return st.error();
    taken->limits = now.limits;
    taken->nice = now.nice;
    taken->oom_score_adj = now.oom_score_adj;
    taken->umask = now.umask;
  }
  if (now.cap_bounding != taken->cap_bounding || now.cap_effective != taken->cap_effective ||
      now.cap_permitted != taken->cap_permitted) {
    // Only dropped (a root client's); this worker follows or refuses.
    st = TakeIdentity(now, /*privileged=*/geteuid() == 0);
    if (!st.ok()) return st.error();
    taken->cap_bounding = now.cap_bounding;
    taken->cap_effective = now.cap_effective;
    taken->cap_permitted = now.cap_permitted;
  }
  if (now.no_new_privs && !taken->no_new_privs) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      return Error::FromErrno(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    }
    taken->no_new_privs = true;
  }
  if (now.ignored_signals != taken->ignored_signals) {
    taken->ignored_signals = now.ignored_signals;
    TakeSignals(*taken);
  }
  return {};
}

}  // namespace capspawn::launcher_internal
