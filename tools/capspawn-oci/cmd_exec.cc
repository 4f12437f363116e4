// SPDX-License-Identifier: Apache-2.0
// capspawn-oci exec [--process FILE | ARGS...] [--detach] [--pid-file FILE]
//                   [--console-socket S] [--tty] [--env E] [--cwd D] [--user U:G] ID
#include <getopt.h>

#include <vector>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {

int CmdExec(const Globals& g, int argc, char** argv) {
  static const option kOptions[] = {
      {"process", required_argument, nullptr, 'p'},
      {"detach", no_argument, nullptr, 'd'},
      {"pid-file", required_argument, nullptr, 'P'},
      {"console-socket", required_argument, nullptr, 'c'},
      {"tty", no_argument, nullptr, 't'},
      {"env", required_argument, nullptr, 'e'},
      {"cwd", required_argument, nullptr, 'w'},
      {"user", required_argument, nullptr, 'u'},
      {"additional-gids", required_argument, nullptr, 'g'},
      {"cap", required_argument, nullptr, 'C'},
      {"no-new-privs", no_argument, nullptr, 'n'},
      {"preserve-fds", required_argument, nullptr, 'F'},
      {nullptr, 0, nullptr, 0},
  };
  std::string process_file;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:dte:u:", kOptions, nullptr)) != -1) {
    if (c == '?' || c == ':') {
      return UsageError("exec", std::string("bad option '") + argv[optind - 1] + "'");
    }
    if (c == 'p') process_file = optarg;
  }
  if (optind >= argc) return UsageError("exec", "needs a container ID");
  if (process_file.empty() && optind + 1 >= argc) {
    return UsageError("exec", "needs --process FILE or the command to run after ID");
  }
  State s;
  Result<Locked> lock = LockContainer(g, argv[optind], &s);
  if (!lock.ok()) return Fail(lock.error());
  ContainerStatus status = CurrentStatus(s);
  if (status != ContainerStatus::kRunning && status != ContainerStatus::kCreated) {
    return Fail(Error(CAPSPAWN_ERR_BAD_STATE,
                      "cannot exec in container '" + s.id + "': it is " + StatusName(status)));
  }
  return Fail(Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                    "exec in container '" + s.id +
                        "': joining a running container's namespaces is not offered by the "
                        "library in this build"));
}

}  // namespace capspawn::oci
