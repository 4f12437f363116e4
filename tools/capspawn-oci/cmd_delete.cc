// SPDX-License-Identifier: Apache-2.0
// capspawn-oci delete [--force] ID
#include <getopt.h>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {

int CmdDelete(const Globals& g, int argc, char** argv) {
  static const option kOptions[] = {{"force", no_argument, nullptr, 'f'}, {nullptr, 0, nullptr, 0}};
  bool force = false;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f", kOptions, nullptr)) != -1) {
    if (c == 'f') {
      force = true;
    } else {
      return UsageError("delete", std::string("bad option '") + argv[optind - 1] + "'");
    }
  }
  if (optind + 1 != argc) return UsageError("delete", "usage: delete [--force] ID");
  State s;
  Result<Locked> lock = LockContainer(g, argv[optind], &s);
  if (force && lock.status() == CAPSPAWN_ERR_NOT_FOUND) {
    // No state.json under the lock: a create that died before writing it (a
    // live create holds the lock until it has). Remove what it left.
    Result<Store> store = Store::Open(g.root);
    if (store.ok()) {
      Result<Locked> bare = store->Lock(argv[optind]);
      if (bare.ok() && !bare->Read().ok()) (void)bare->Remove();
    }
    return 0;
  }
  if (!lock.ok()) {
    // runc: deleting a container that does not exist is an error, unless forced.
    if (force && lock.status() == CAPSPAWN_ERR_NOT_FOUND) return 0;
    return Fail(lock.error());
  }
  ContainerStatus status = CurrentStatus(s);
  // As runc: a created container may be deleted (it never ran); a running or
  // paused one only with --force.
  if (!force && (status == ContainerStatus::kRunning || status == ContainerStatus::kPaused)) {
    return Fail(Error(CAPSPAWN_ERR_BAD_STATE, "cannot delete container '" + s.id +
                                                  "' that is not stopped: " + StatusName(status)));
  }
  if (Status st = DestroyContainer(*lock, s); !st.ok()) return Fail(st.error());
  return 0;
}

}  // namespace capspawn::oci
