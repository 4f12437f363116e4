// SPDX-License-Identifier: Apache-2.0
// capspawn-oci start ID
#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {

int CmdStart(const Globals& g, int argc, char** argv) {
  if (argc != 2 || argv[1][0] == '-') return UsageError("start", "usage: start ID");
  State s;
  Result<Locked> lock = LockContainer(g, argv[1], &s);
  if (!lock.ok()) return Fail(lock.error());
  if (Status st = StartContainer(*lock, s); !st.ok()) return Fail(st.error());
  return 0;
}

}  // namespace capspawn::oci
