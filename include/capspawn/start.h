// SPDX-License-Identifier: Apache-2.0
// Create a process without starting it, then start it: the C face of
// capspawn::ProcessBuilder (process_builder.h). See docs/process-builder.md.
#ifndef CAPSPAWN_START_H_
#define CAPSPAWN_START_H_

#include <stddef.h>
#include <stdint.h>

#include <capspawn/spawn.h>
#include <capspawn/status.h>

#ifdef __cplusplus
extern "C" {
#endif

// What capspawn_create_without_starting hands back. Every number is read
// from the real process, stopped before its first instruction.
typedef struct capspawn_start_data {
  int process;         // its pidfd (the caller owns it)
  int root_vmar;       // /proc/PID/mem opened read-write (the caller owns it)
  int32_t thread;      // its thread's tid (= its pid, in the caller's pid namespace)
  uint64_t entry;      // the first instruction (the dynamic linker's entry
                       // for a PT_INTERP program)
  uint64_t stack;      // the initial stack pointer
  uint64_t base;       // load address of the dynamic linker (AT_BASE), or of the
                       // program when it has no PT_INTERP
  uint64_t vdso_base;  // AT_SYSINFO_EHDR (0: none)
} capspawn_start_data_t;

// As capspawn_spawn_etc (path given) or capspawn_spawn_vmo (path NULL:
// executable_fd is the program, consumed), with the same flags, actions and
// statuses, except that the process is left stopped before its first user
// instruction, having exec'd, and *data_out describes it. Start it with
// capspawn_start(data_out->process); kill it with capspawn_process_kill().
// Giving both a path and an executable_fd other than -1 is INVALID_ARGS (the
// fd is still consumed). data_out NULL is INVALID_ARGS.
capspawn_status_t capspawn_create_without_starting(int job, uint32_t flags, const char* path,
                                                   int executable_fd, const char* const* argv,
                                                   const char* const* environ, size_t action_count,
                                                   const capspawn_action_t* actions,
                                                   capspawn_start_data_t* data_out,
                                                   char* err_msg_out);

// Starts a process that waits before its first instruction (SIGCONT through
// the pidfd `process`; any holder of the pidfd may). BAD_HANDLE: not a pidfd;
// BAD_STATE: the process is not stopped (running, or exited).
capspawn_status_t capspawn_start(int process);

#ifdef __cplusplus
}
#endif

#endif  // CAPSPAWN_START_H_
