// SPDX-License-Identifier: Apache-2.0
// capspawn-oci run [create's options] [--detach] ID: create, start, and
// (without --detach) wait as a subreaper, forwarding signals; the exit code
// is the container's (128 + N when signal N ended it). The container is then
// deleted, as runc does.
#include <optional>

#include "commands.h"
#include "container.h"
#include "log.h"
#include "wait.h"

namespace capspawn::oci {

int ParseCreateOptions(const char* name, int argc, char** argv, CreateOptions* o, bool* detach);

int CmdRun(const Globals& g, int argc, char** argv) {
  CreateOptions o;
  bool detach = false;
  if (int rc = ParseCreateOptions("run", argc, argv, &o, &detach); rc >= 0) return rc;
  UniqueFd sfd;
  if (!detach) {
    // The container is our child; as subreaper we also reap the orphans its
    // processes leave.
    Result<UniqueFd> f = ForwardSignals("run", true);
    if (!f.ok()) return Fail(f.error());
    sfd = std::move(f.value());
  }
  // The lock is held from create to start: nobody can see the container
  // between the two, so the state is written once, and not read back. The
  // pidfd the library returned at creation serves the start, the wait and
  // the delete: this process cloned init, so unlike `start` or `kill` (a pid
  // from the state, which could have been reused) it needs no OpenInit.
  std::optional<Held> held;
  Result<State> created = CreateContainer(g, o, &held);
  if (!created.ok()) return Fail(created.error());
  State s = std::move(created.value());
  UniqueFd init = std::move(held->init);
  if (Status st = StartContainer(held->lock, s, init.get()); !st.ok()) {
    (void)DestroyContainer(held->lock, s, init.get());
    return Fail(st.error());
  }
  held.reset();
  Log(LogLevel::kDebug, "run " + o.id + ": started");
  if (detach) return 0;
  int code = WaitForwarding("run", init.get(), s.pid, sfd.get());
  Log(LogLevel::kDebug, "run " + o.id + ": exited");
  Result<Locked> lock = LockContainer(g, o.id, &s);
  if (lock.ok()) {
    if (Status st = DestroyContainer(*lock, s, init.get()); !st.ok()) Fail(st.error());
  }
  Log(LogLevel::kDebug, "run " + o.id + ": deleted");
  return code;
}

}  // namespace capspawn::oci
