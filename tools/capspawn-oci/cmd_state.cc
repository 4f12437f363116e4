// SPDX-License-Identifier: Apache-2.0
// capspawn-oci state ID: the runtime-spec state JSON on stdout.
#include <cstdio>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {

int CmdState(const Globals& g, int argc, char** argv) {
  if (argc != 2 || argv[1][0] == '-') return UsageError("state", "usage: state ID");
  State s;
  Result<Locked> lock = LockContainer(g, argv[1], &s);
  if (!lock.ok()) return Fail(lock.error());
  printf("%s\n", StateJson(s, CurrentStatus(s), 2).c_str());
  return 0;
}

}  // namespace capspawn::oci
