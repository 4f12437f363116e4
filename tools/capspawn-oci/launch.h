// SPDX-License-Identifier: Apache-2.0
// Creating the container's init with the library, stopped before its first
// instruction (capspawn_create_without_starting), by this process: it joins
// a new session keyring first (the one attribute the container inherits from
// its creator: everything else is a library action). The process leads a
// session of its own (NEW_SESSION, setsid() in the child, as runc's init
// does), so it is never hit by the kernel's orphaned-process-group SIGHUP
// when `create` exits; its parent then becomes the nearest subreaper
// (containerd's shim; `run` itself is one).
#ifndef CAPSPAWN_TOOLS_OCI_LAUNCH_H_
#define CAPSPAWN_TOOLS_OCI_LAUNCH_H_

#include <sys/types.h>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "plan.h"

namespace capspawn::oci {

struct Launched {
  UniqueFd process;  // its pidfd, from clone: it names this process and no other
  pid_t pid = 0;
  uint64_t start_time = 0;  // recorded for later commands, which know only the pid
};

// `stdio[i]` is handed as fd i (-1: left to the library, which gives /dev/null).
// `job` is the job fd, or -1 for our own cgroup. `new_keyring`: join a fresh
// session keyring first (runc's default; --no-new-keyring turns it off).
Result<Launched> LaunchStopped(LaunchSpec& spec, int job, const int stdio[3], bool new_keyring);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_LAUNCH_H_
