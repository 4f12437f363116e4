// SPDX-License-Identifier: Apache-2.0
// The reference point for capspawn's fast path: the least a correct
// vfork-style clone3 spawn can do.
#ifndef CAPSPAWN_BENCH_RAW_CLONE3_H_
#define CAPSPAWN_BENCH_RAW_CLONE3_H_

#include <string>

namespace capspawn_bench {

// True when this architecture has the clone3 trampoline (x86_64, aarch64).
bool RawClone3Supported();

// clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD|CLONE_CLEAR_SIGHAND, exit_signal
// SIGCHLD) on a parent-allocated stack with all signals blocked around it;
// the child restores the signal mask and calls execve(path, argv, envp), or
// exit_group(127). On success stores the pidfd and returns ""; otherwise
// returns the failing syscall and errno.
std::string RawClone3Exec(const char* path, char* const* argv, char* const* envp, int* pidfd_out);

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_RAW_CLONE3_H_
