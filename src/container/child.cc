// SPDX-License-Identifier: Apache-2.0
// The container steps in the child: raw syscalls only, no allocation, each
// failure reported as "label: syscall" composed in the plan's buffer.
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "container/plan.h"

namespace capspawn::container {
namespace {

using engine::ChildError;
using engine::ChildFail;

CAPSPAWN_CHILD_CODE long Sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                             long f = 0) {
  long r = syscall(nr, a, b, c, d, e, f);
  return r < 0 ? -errno : r;
}

CAPSPAWN_CHILD_CODE long Len(const char* s) {
  long n = 0;
  while (s[n]) ++n;
  return n;
}

CAPSPAWN_CHILD_CODE int Fail(Plan& p, const Step& s, const char* what, long err, ChildError* e) {
  char* out = p.error_text;
  char* end = p.error_text + sizeof p.error_text - 1;
  for (const char* parts[] = {s.label, ": ", what}; const char* part : parts) {
    while (*part && out < end) *out++ = *part++;
  }
  *out = '\0';
  return ChildFail(e, p.error_text, static_cast<int>(-err));
}

CAPSPAWN_CHILD_CODE long WriteFile(const char* path, const char* text) {
  long fd = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long r = Sys(SYS_write, fd, reinterpret_cast<long>(text), Len(text));
  Sys(SYS_close, fd);
  return r < 0 ? r : 0;
}

CAPSPAWN_CHILD_CODE long Loopback() {
  long sock = Sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return sock;
  ifreq req{};
  req.ifr_name[0] = 'l';
  req.ifr_name[1] = 'o';
  long r = Sys(SYS_ioctl, sock, SIOCGIFFLAGS, reinterpret_cast<long>(&req));
  if (r >= 0) {
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    r = Sys(SYS_ioctl, sock, SIOCSIFFLAGS, reinterpret_cast<long>(&req));
  }
  Sys(SYS_close, sock);
  return r;
}

CAPSPAWN_CHILD_CODE int RunStep(Plan& p, const Step& s, bool* chdir_deferred, ChildError* e) {
  long r = 0;
  switch (s.kind) {
    case StepKind::kOomScoreAdj:
      r = WriteFile("/proc/self/oom_score_adj", s.text);
      return r < 0 ? Fail(p, s, "write /proc/self/oom_score_adj", r, e) : 0;
    case StepKind::kWriteIdMaps:
      if (s.text3 && (r = WriteFile("/proc/self/setgroups", s.text3)) < 0)
        return Fail(p, s, "write /proc/self/setgroups", r, e);
      if ((r = WriteFile("/proc/self/uid_map", s.text)) < 0)
        return Fail(p, s, "write /proc/self/uid_map", r, e);
      if ((r = WriteFile("/proc/self/gid_map", s.text2)) < 0)
        return Fail(p, s, "write /proc/self/gid_map", r, e);
      return 0;
    case StepKind::kHelperIdMaps: {
      // Ready: the parent's helper learns our pid from the message itself.
      char byte = 1;
      r = Sys(SYS_sendto, p.helper_child_fd, reinterpret_cast<long>(&byte), 1, MSG_NOSIGNAL, 0, 0);
      if (r < 0) return Fail(p, s, "ask the caller to write the id maps", r, e);
      int result[2] = {0, 0};
      r = Sys(SYS_recvfrom, p.helper_child_fd, reinterpret_cast<long>(result), sizeof result, 0, 0,
              0);
      Sys(SYS_close, p.helper_child_fd);
      if (r < 0) return Fail(p, s, "wait for the id maps", r, e);
      if (r != sizeof result) return Fail(p, s, "wait for the id maps", -EPIPE, e);
      if (result[0] != 0) {
        return Fail(p, s,
                    result[1] == 1   ? "the caller writing /proc/PID/uid_map"
                    : result[1] == 2 ? "the caller writing /proc/PID/gid_map"
                                     : "the caller finding this process",
                    -result[0], e);
      }
      return 0;
    }
    case StepKind::kHostname:
      r = Sys(SYS_sethostname, reinterpret_cast<long>(s.text), Len(s.text));
      return r < 0 ? Fail(p, s, "sethostname", r, e) : 0;
    case StepKind::kLoopback:
      r = Loopback();
      return r < 0 ? Fail(p, s, "ioctl(SIOCSIFFLAGS, lo, IFF_UP)", r, e) : 0;
    case StepKind::kSysctl:
      r = WriteFile(s.text, s.text2);
      return r < 0 ? Fail(p, s, "write", r, e) : 0;
    case StepKind::kRlimit: {
      rlimit lim{};
      lim.rlim_cur = s.a;
      lim.rlim_max = s.b;
      r = Sys(SYS_prlimit64, 0, s.n, reinterpret_cast<long>(&lim), 0);
      return r < 0 ? Fail(p, s, "prlimit64", r, e) : 0;
    }
    case StepKind::kNewSession:
      r = Sys(SYS_setsid);
      return r < 0 ? Fail(p, s, "setsid", r, e) : 0;
    case StepKind::kUmask:
      Sys(SYS_umask, s.n);
      return 0;
    case StepKind::kChdir:
      r = Sys(SYS_chdir, reinterpret_cast<long>(s.text));
      if (r == -EACCES || r == -EPERM) {
        if (s.n) {
          *chdir_deferred = true;
          return 0;
        }
      }
      return r < 0 ? Fail(p, s, "chdir", r, e) : 0;
    case StepKind::kChdirAgain:
      if (!*chdir_deferred) return 0;
      r = Sys(SYS_chdir, reinterpret_cast<long>(s.text));
      return r < 0 ? Fail(p, s, "chdir (as the new user)", r, e) : 0;
    case StepKind::kBoundingSet:
      for (long cap = 0; cap <= s.n; ++cap) {
        if (s.a & (uint64_t{1} << cap)) continue;
        if (Sys(SYS_prctl, PR_CAPBSET_READ, cap) != 1) continue;
        r = Sys(SYS_prctl, PR_CAPBSET_DROP, cap);
        if (r < 0) return Fail(p, s, "prctl(PR_CAPBSET_DROP)", r, e);
      }
      return 0;
    case StepKind::kKeepCaps:
      r = Sys(SYS_prctl, PR_SET_KEEPCAPS, s.n);
      return r < 0 ? Fail(p, s, "prctl(PR_SET_KEEPCAPS)", r, e) : 0;
    case StepKind::kSetGroups:
      r = Sys(SYS_setgroups, static_cast<long>(s.count), reinterpret_cast<long>(s.groups));
      if (r == -EPERM && s.n) return 0;  // setgroups is denied in this user namespace
      return r < 0 ? Fail(p, s, "setgroups", r, e) : 0;
    case StepKind::kSetIds:
      r = Sys(SYS_setresgid, static_cast<long>(s.b), static_cast<long>(s.b),
              static_cast<long>(s.b));
      if (r < 0) return Fail(p, s, "setresgid", r, e);
      r = Sys(SYS_setresuid, static_cast<long>(s.a), static_cast<long>(s.a),
              static_cast<long>(s.a));
      return r < 0 ? Fail(p, s, "setresuid", r, e) : 0;
    case StepKind::kCapabilities: {
      __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
      __user_cap_data_struct data[2] = {};
      for (int i = 0; i < 2; ++i) {
        data[i].effective = static_cast<uint32_t>(s.a >> (32 * i));
        data[i].permitted = static_cast<uint32_t>(s.b >> (32 * i));
        data[i].inheritable = static_cast<uint32_t>(s.c >> (32 * i));
      }
      r = Sys(SYS_capset, reinterpret_cast<long>(&hdr), reinterpret_cast<long>(data));
      if (r < 0) return Fail(p, s, "capset", r, e);
      r = Sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
      if (r < 0) return Fail(p, s, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", r, e);
      for (long cap = 0; cap <= s.n; ++cap) {
        if (!(s.d & (uint64_t{1} << cap))) continue;
        r = Sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
        if (r < 0) return Fail(p, s, "prctl(PR_CAP_AMBIENT_RAISE)", r, e);
      }
      return 0;
    }
    case StepKind::kDeathSignal: {
      r = Sys(SYS_prctl, PR_SET_PDEATHSIG, s.n);
      if (r < 0) return Fail(p, s, "prctl(PR_SET_PDEATHSIG)", r, e);
      // A creator gone before the prctl sent nothing: we were reparented.
      // (In a new pid namespace getppid() is 0 and this cannot be told.)
      const long ppid = Sys(SYS_getppid);
      if (ppid != 0 && ppid != p.parent) return Fail(p, s, "its creator exited", -ESRCH, e);
      return 0;
    }
    case StepKind::kNoNewPrivs:
      r = Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      return r < 0 ? Fail(p, s, "prctl(PR_SET_NO_NEW_PRIVS)", r, e) : 0;
    case StepKind::kJoin:
      // The child shares no fs_struct (no CLONE_FS), as a mount namespace
      // join needs; it moves "/" and the cwd to that namespace's root.
      r = Sys(SYS_setns, p.join_child_fd[s.n], static_cast<long>(s.a));
      return r < 0 ? Fail(p, s, "setns", r, e) : 0;
  }
  return Fail(p, s, "unknown step", -EINVAL, e);
}

bool g_chdir_deferred;  // written by the child only between its two chdir steps

}  // namespace

CAPSPAWN_CHILD_CODE int RunEarly(const void* arg, ChildError* e) {
  Plan& p = *const_cast<Plan*>(static_cast<const Plan*>(arg));
  for (const Step& s : p.early) {
    if (RunStep(p, s, &g_chdir_deferred, e) < 0) return -1;
  }
  return 0;
}

CAPSPAWN_CHILD_CODE int RunLate(const void* arg, ChildError* e) {
  Plan& p = *const_cast<Plan*>(static_cast<const Plan*>(arg));
  bool deferred = false;
  for (const Step& s : p.late) {
    if (RunStep(p, s, &deferred, e) < 0) return -1;
  }
  return 0;
}

}  // namespace capspawn::container
