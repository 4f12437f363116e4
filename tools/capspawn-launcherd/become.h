// SPDX-License-Identifier: Apache-2.0
// Becoming a client, in a launcher worker: joining its cgroup, entering
// its namespaces and root, taking its limits, ids, capabilities and signal
// dispositions. The changeable part is taken again before every launch, so
// a kept connection launches with what the client has now, as in-process.
#ifndef CAPSPAWN_LAUNCHERD_BECOME_H_
#define CAPSPAWN_LAUNCHERD_BECOME_H_

#include <capspawn/result.h>

#include "client_facts.h"

namespace capspawn::launcher_internal {

// Root only (each needs privilege unless already so).
Status JoinCgroup(const ClientFacts& c);
Status EnterNamespaces(const ClientFacts& c);
// rlimits (one this process may not raise stays lower), nice,
// oom_score_adj (a worker that may not lower them stays higher), umask.
Status TakeLimits(const ClientFacts& c);
// Bounding set, then uid, gid and groups (no keep-caps: a non-root client's
// worker has no capability left; a root client's keeps exactly its sets),
// then no_new_privs. `privileged`: false when the ids are already the client's.
Status TakeIdentity(const ClientFacts& c, bool privileged);
// Exactly the client's ignored signals are ignored; SIGCHLD has the kernel
// reap what this process launches. No signal blocked.
void TakeSignals(const ClientFacts& c);

// Before a launch: the client's changeable facts read again and whatever
// changed taken. ACCESS_DENIED if it installed seccomp filters since it
// connected (this worker cannot read them any more: a new connection can).
Status TakeChanges(ClientFacts* taken);

}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_LAUNCHERD_BECOME_H_
