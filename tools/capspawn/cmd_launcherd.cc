// SPDX-License-Identifier: Apache-2.0
// `capspawn launcherd`: the same program as capspawn-launcherd
// (tools/capspawn-launcherd/daemon.cc).
#include "commands.h"
#include "daemon.h"

int CmdLauncherd(int argc, char** argv) {
  return capspawn::launcher_internal::LauncherDaemonMain(argc, argv);
}
