// SPDX-License-Identifier: Apache-2.0
// capspawn-oci: an OCI runtime (the runc command-line contract) over the
// capspawn library. This file reads the global options and dispatches.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "commands.h"
#include "log.h"

namespace capspawn::oci {
namespace {

struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
};

constexpr Command kCommands[] = {
    {"create", "create a container (its process waits before its first instruction)", CmdCreate},
    {"start", "start a created container", CmdStart},
    {"state", "print a container's state (runtime-spec JSON)", CmdState},
    {"kill", "send a signal to a container's init, or --all of its processes", CmdKill},
    {"delete", "delete a container (--force: even a running one)", CmdDelete},
    {"run", "create, start and wait for a container; its exit code is ours", CmdRun},
    {"exec", "run another process in a container", CmdExec},
    {"ps", "list a container's processes", CmdPs},
    {"pause", "freeze every process of a container", CmdPause},
    {"resume", "thaw a paused container", CmdResume},
    {"list", "list the containers under --root", CmdList},
    {"features", "print what this runtime supports (JSON)", CmdFeatures},
    {"spec", "write a default config.json", CmdSpec},
};

void PrintHelp(FILE* out) {
  fputs(
      "Usage: capspawn-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n\n"
      "An OCI runtime built on capspawn: runc's command line, for containerd.\n\n"
      "Commands:\n",
      out);
  for (const Command& c : kCommands) fprintf(out, "  %-9s %s\n", c.name, c.summary);
  fputs(
      "\nGlobal options:\n"
      "  --root DIR           container state (default /run/capspawn-oci; not root:\n"
      "                       $XDG_RUNTIME_DIR/capspawn-oci)\n"
      "  --log FILE           append log lines to FILE\n"
      "  --log-format FORMAT  text (default) or json\n"
      "  --debug              log debug messages too\n"
      "  --systemd-cgroup     refused: systemd cgroups are not supported\n"
      "  --rootless VALUE     true, false or auto (default: auto = not root)\n"
      "  -v, --version        print the version\n"
      "  -h, --help           print this help\n\n"
      "Exit status: 0 on success, 1 on failure (the message names what failed), 2 for a\n"
      "wrong command line; 'run' exits with the container's status (128 + N for signal N).\n",
      out);
}

}  // namespace

int UsageError(const char* command, const std::string& message) {
  fprintf(stderr, "capspawn-oci %s: %s\n", command, message.c_str());
  return kExitUsage;
}

}  // namespace capspawn::oci

int main(int argc, char** argv) {
  using namespace capspawn::oci;
  static const option kOptions[] = {
      {"root", required_argument, nullptr, 'r'},
      {"log", required_argument, nullptr, 'l'},
      {"log-format", required_argument, nullptr, 'f'},
      {"debug", no_argument, nullptr, 'd'},
      {"systemd-cgroup", no_argument, nullptr, 's'},
      {"rootless", required_argument, nullptr, 'R'},
      {"version", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  Globals g;
  std::string log_path, log_format = "text", rootless = "auto";
  bool systemd = false;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+vh", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'r':
        g.root = optarg;
        break;
      case 'l':
        log_path = optarg;
        break;
      case 'f':
        log_format = optarg;
        break;
      case 'd':
        g.debug = true;
        break;
      case 's':
        systemd = true;
        break;
      case 'R':
        rootless = optarg;
        break;
      case 'v':
        printf("capspawn-oci version %s\nspec: 1.1.0\n", CAPSPAWN_VERSION);
        return 0;
      case 'h':
        PrintHelp(stdout);
        return 0;
      default:
        return UsageError("", std::string("bad global option '") + argv[optind - 1] + "'");
    }
  }
  if (capspawn::Status st = ConfigureLog(log_path, log_format, g.debug); !st.ok()) {
    return Fail(st.error());
  }
  if (systemd) {
    return Fail(capspawn::Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                                "--systemd-cgroup: systemd cgroups are not supported; capspawn "
                                "manages the container's cgroup itself (linux.cgroupsPath)"));
  }
  if (rootless == "auto") {
    g.rootless = geteuid() != 0;
  } else if (rootless == "true" || rootless == "false") {
    g.rootless = rootless == "true";
    if (g.rootless != (geteuid() != 0)) {
      return Fail(capspawn::Error(
          CAPSPAWN_ERR_NOT_SUPPORTED,
          "--rootless " + rootless + ": capspawn decides by the caller's uid (root or not)"));
    }
  } else {
    return UsageError("", "--rootless '" + rootless + "': use true, false or auto");
  }
  if (g.root.empty()) {
    const char* xdg = getenv("XDG_RUNTIME_DIR");
    g.root = geteuid() != 0 && xdg != nullptr && *xdg ? std::string(xdg) + "/capspawn-oci"
                                                      : "/run/capspawn-oci";
  }
  if (optind >= argc) {
    PrintHelp(stderr);
    return kExitUsage;
  }
  for (const Command& cmd : kCommands) {
    if (strcmp(cmd.name, argv[optind]) == 0) {
      int sub_argc = argc - optind;
      char** sub_argv = argv + optind;
      optind = 0;
      Log(LogLevel::kDebug, std::string("command ") + cmd.name);
      return cmd.run(g, sub_argc, sub_argv);
    }
  }
  return UsageError(argv[optind], "unknown command (see 'capspawn-oci --help')");
}
