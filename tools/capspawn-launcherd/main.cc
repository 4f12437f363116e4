// SPDX-License-Identifier: Apache-2.0
// capspawn-launcherd: see tools/capspawn-launcherd/daemon.cc and docs/launcher.md.
#include "daemon.h"

int main(int argc, char** argv) {
  return capspawn::launcher_internal::LauncherDaemonMain(argc, argv);
}
