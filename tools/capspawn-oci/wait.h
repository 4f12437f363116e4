// SPDX-License-Identifier: Apache-2.0
// Waiting for a process as `run` and `exec` do without --detach: the signals
// a user sends to the command go to the process, and the command exits with
// the process's code.
#ifndef CAPSPAWN_TOOLS_OCI_WAIT_H_
#define CAPSPAWN_TOOLS_OCI_WAIT_H_

#include <sys/types.h>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::oci {

// Blocks the forwarded signals (HUP INT QUIT TERM USR1 USR2 WINCH) and
// returns a signalfd that reads them. With `reap_orphans` (`run`) this
// process also becomes a child subreaper and the signalfd reads SIGCHLD, so
// that WaitForwarding reaps the orphans the container's processes leave;
// call it before the process is made.
Result<UniqueFd> ForwardSignals(const char* command, bool reap_orphans);

// Waits for our child `pid` (`pidfd`), forwarding what `sfd` (from
// ForwardSignals; -1: none) reads to it and, on SIGCHLD, reaping every other
// exited child. Returns its exit code, 128 + N when signal N ended it (1 when
// the wait itself failed).
int WaitForwarding(const char* command, int pidfd, pid_t pid, int sfd);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_WAIT_H_
