// SPDX-License-Identifier: Apache-2.0
// A child stopped at its exec (PTRACE_TRACEME + the exec SIGTRAP): the
// process image is the new program's, and not one of its instructions has run.
#ifndef CAPSPAWN_SRC_ENGINE_EXEC_STOP_H_
#define CAPSPAWN_SRC_ENGINE_EXEC_STOP_H_

#include <sys/types.h>

#include <capspawn/result.h>

namespace capspawn::engine {

// Waits for the exec stop of a traced child. OK: it is stopped. An exit
// instead (killed before exec) is reported as BAD_STATE; nothing is reaped.
Status WaitExecStop(pid_t pid, int pidfd);

// Runs prctl(PR_SET_NAME, name) inside the stopped child: Linux lets only a
// process name itself. Leaves registers and code as they were.
Status SetNameInStoppedChild(pid_t pid, const char* name);

// Lets the stopped child run (it is no longer traced).
Status ResumeStoppedChild(pid_t pid);

}  // namespace capspawn::engine

#endif  // CAPSPAWN_SRC_ENGINE_EXEC_STOP_H_
