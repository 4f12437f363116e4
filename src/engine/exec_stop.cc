// SPDX-License-Identifier: Apache-2.0
#include "engine/exec_stop.h"

#include <elf.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <string>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn::engine {
namespace {

Error PtraceError(const char* what) {
  return Error::FromErrno(errno, std::string("set name: ") + what);
}

Status WaitTrap(pid_t pid) {
  int st = 0;
  pid_t r;
  do {
    r = waitpid(pid, &st, __WALL);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return PtraceError("waitpid");
  if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "set name: the process did not stop as expected");
  }
  return {};
}

}  // namespace

Status WaitExecStop(pid_t pid, int pidfd) {
  siginfo_t info;
  for (;;) {
    std::memset(&info, 0, sizeof info);
    // WNOWAIT: an exit stays for the owner of the pidfd to collect.
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
               WSTOPPED | WEXITED | WNOWAIT | __WALL) != 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "wait for the exec stop");
    }
    break;
  }
  if (info.si_code != CLD_TRAPPED && info.si_code != CLD_STOPPED) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "the process ended before its first instruction");
  }
  // Consume the stop (waitid with WNOWAIT left it pending).
  int st;
  waitpid(pid, &st, __WALL | WNOHANG);
  return {};
}

Status SetNameInStoppedChild(pid_t pid, const char* name) {
#if defined(__x86_64__)
  user_regs_struct saved, regs;
  if (ptrace(PTRACE_GETREGS, pid, nullptr, &saved) != 0) return PtraceError("PTRACE_GETREGS");
  // The name goes below the initial stack pointer (unused memory of the stack
  // mapping); the syscall instruction over the entry point's first bytes.
  char buf[16] = {};
  std::strncpy(buf, name, 15);
  const unsigned long name_addr = (saved.rsp - 512) & ~15UL;
  for (int i = 0; i < 2; ++i) {
    long word;
    std::memcpy(&word, buf + 8 * i, 8);
    if (ptrace(PTRACE_POKEDATA, pid, name_addr + 8 * i, word) != 0)
      return PtraceError("write the name");
  }
  errno = 0;
  long code = ptrace(PTRACE_PEEKTEXT, pid, saved.rip, nullptr);
  if (errno != 0) return PtraceError("PTRACE_PEEKTEXT");
  long patched = (code & ~0xFFFFL) | 0x050F;  // syscall
  if (ptrace(PTRACE_POKETEXT, pid, saved.rip, patched) != 0) return PtraceError("PTRACE_POKETEXT");
  regs = saved;
  regs.rax = SYS_prctl;
  regs.orig_rax = static_cast<unsigned long>(-1);
  regs.rdi = PR_SET_NAME;
  regs.rsi = name_addr;
  Status result;
  if (ptrace(PTRACE_SETREGS, pid, nullptr, &regs) != 0) {
    result = PtraceError("PTRACE_SETREGS");
  } else if (ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) != 0) {
    result = PtraceError("PTRACE_SINGLESTEP");
  } else {
    result = WaitTrap(pid);
    if (result.ok() && ptrace(PTRACE_GETREGS, pid, nullptr, &regs) == 0 &&
        static_cast<long>(regs.rax) < 0) {
      result = Error::FromErrno(static_cast<int>(-static_cast<long>(regs.rax)),
                                "set name: prctl(PR_SET_NAME)");
    }
  }
  // Put everything back, whatever happened.
  ptrace(PTRACE_POKETEXT, pid, saved.rip, code);
  ptrace(PTRACE_SETREGS, pid, nullptr, &saved);
  return result;
#else
  (void)pid;
  (void)name;
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED, "SET_NAME is implemented for x86_64 only");
#endif
}

Status ResumeStoppedChild(pid_t pid) {
  if (ptrace(PTRACE_DETACH, pid, nullptr, 0) != 0) return Error::FromErrno(errno, "PTRACE_DETACH");
  return {};
}

}  // namespace capspawn::engine
