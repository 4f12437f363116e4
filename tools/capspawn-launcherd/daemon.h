// SPDX-License-Identifier: Apache-2.0
// capspawn-launcherd's main: shared by the capspawn-launcherd program and
// `capspawn launcherd`. See docs/launcher.md.
#ifndef CAPSPAWN_LAUNCHERD_DAEMON_H_
#define CAPSPAWN_LAUNCHERD_DAEMON_H_

#include <getopt.h>

namespace capspawn::launcher_internal {

// argv[0] is the program's (or subcommand's) name. Returns the exit code:
// 0 after SIGTERM/SIGINT, 1 when it cannot start, 2 for a bad command line.
int LauncherDaemonMain(int argc, char** argv);

// Its getopt_long table (null-terminated), for `capspawn completion`.
const option* LauncherDaemonOptions();

}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_LAUNCHERD_DAEMON_H_
