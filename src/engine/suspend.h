// SPDX-License-Identifier: Apache-2.0
// A child stopped at its exec (see exec_stop.h), turned into a process that
// waits, untraced, before its first instruction: its registers are read while
// it is still traced, then it is detached into a group stop (SIGSTOP), which
// SIGCONT from any holder of its pidfd ends. See docs/process-builder.md.
#ifndef CAPSPAWN_SRC_ENGINE_SUSPEND_H_
#define CAPSPAWN_SRC_ENGINE_SUSPEND_H_

#include <sys/types.h>

#include <cstdint>

#include <capspawn/result.h>

namespace capspawn::engine {

struct InitialRegisters {
  uint64_t pc = 0;  // rip / pc: the first instruction the process will run
  uint64_t sp = 0;  // rsp / sp
};

// The registers of a traced, stopped child (PTRACE_GETREGS on x86_64,
// PTRACE_GETREGSET NT_PRSTATUS on aarch64).
Result<InitialRegisters> ReadStoppedRegisters(pid_t pid);

// Detaches the traced, stopped child with SIGSTOP as its signal, and waits
// (waitid WSTOPPED on the pidfd) until it sits in the group stop.
Status DetachIntoGroupStop(pid_t pid, int pidfd);

}  // namespace capspawn::engine

#endif  // CAPSPAWN_SRC_ENGINE_SUSPEND_H_
