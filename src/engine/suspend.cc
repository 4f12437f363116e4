// SPDX-License-Identifier: Apache-2.0
#include "engine/suspend.h"

#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
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

Result<InitialRegisters> ReadStoppedRegisters(pid_t pid) {
#if defined(__x86_64__)
  user_regs_struct regs;
  if (ptrace(PTRACE_GETREGS, pid, nullptr, &regs) != 0) {
    return Error::FromErrno(errno, "read the registers: PTRACE_GETREGS");
  }
  return InitialRegisters{regs.rip, regs.rsp};
#elif defined(__aarch64__)
  user_regs_struct regs;
  iovec io = {&regs, sizeof regs};
  if (ptrace(PTRACE_GETREGSET, pid, reinterpret_cast<void*>(NT_PRSTATUS), &io) != 0) {
    return Error::FromErrno(errno, "read the registers: PTRACE_GETREGSET(NT_PRSTATUS)");
  }
  return InitialRegisters{regs.pc, regs.sp};
#else
  (void)pid;
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
               "reading a stopped process's registers is implemented for x86_64 and aarch64 only");
#endif
}

Status DetachIntoGroupStop(pid_t pid, int pidfd) {
  // The SIGSTOP replaces the pending exec SIGTRAP: it is delivered on the way
  // back to user mode, before the first instruction.
  if (ptrace(PTRACE_DETACH, pid, nullptr, reinterpret_cast<void*>(SIGSTOP)) != 0) {
    return Error::FromErrno(errno, "PTRACE_DETACH with SIGSTOP");
  }
  siginfo_t info;
  for (;;) {
    std::memset(&info, 0, sizeof info);
    // Consumes the stop report, so the owner's later waits see only the exit.
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
               WSTOPPED | WEXITED | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "wait for the group stop: waitid(P_PIDFD, WSTOPPED)");
    }
    break;
  }
  if (info.si_code != CLD_STOPPED) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "the process did not stop after its exec (si_code " +
                                             std::to_string(info.si_code) + ", status " +
                                             std::to_string(info.si_status) + ")");
  }
  // Now consume the stop report (the WNOWAIT look left it; an exit stays
  // for the owner, who kills and reaps).
  siginfo_t consumed;
  while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &consumed,
                WSTOPPED | WNOHANG) != 0 &&
         errno == EINTR) {
  }
  return {};
}

}  // namespace capspawn::engine
