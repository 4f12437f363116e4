// SPDX-License-Identifier: Apache-2.0
// capspawn-oci create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK]
//                     [--no-pivot] [--no-new-keyring] ID
#include <getopt.h>

#include <cstdio>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {

constexpr char kCreateHelp[] = R"(Usage: capspawn-oci create [OPTIONS] ID

Creates container ID from the bundle: its process exists, stopped before its
first instruction, until 'capspawn-oci start ID'.

  -b, --bundle DIR         the bundle (config.json and the rootfs); default: .
      --pid-file FILE      write the container's pid to FILE (before returning)
      --console-socket S   send the terminal's master fd to the AF_UNIX socket S
      --no-pivot           accepted: capspawn's root is always a tmpfs it pivots to
      --no-new-keyring     keep the caller's session keyring
)";

// Parses create's options into `o`; returns -1 to go on, else an exit code.
int ParseCreateOptions(const char* name, int argc, char** argv, CreateOptions* o, bool* detach) {
  static const option kOptions[] = {
      {"bundle", required_argument, nullptr, 'b'},
      {"pid-file", required_argument, nullptr, 'p'},
      {"console-socket", required_argument, nullptr, 'c'},
      {"no-pivot", no_argument, nullptr, 'P'},
      {"no-new-keyring", no_argument, nullptr, 'K'},
      {"detach", no_argument, nullptr, 'd'},
      {"no-subreaper", no_argument, nullptr, 'S'},
      {"keep", no_argument, nullptr, 'k'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+b:dh", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'b':
        o->bundle = optarg;
        break;
      case 'p':
        o->pid_file = optarg;
        break;
      case 'c':
        o->console_socket = optarg;
        break;
      case 'P':
        o->no_pivot = true;
        break;
      case 'K':
        o->no_new_keyring = true;
        break;
      case 'd':
      case 'S':
      case 'k':
        if (detach == nullptr)
          return UsageError(name, std::string("unknown option '") + argv[optind - 1] + "'");
        if (c == 'd') *detach = true;
        break;
      case 'h':
        fputs(kCreateHelp, stdout);
        return 0;
      default:
        return UsageError(name, std::string("bad option '") + argv[optind - 1] + "'");
    }
  }
  if (optind + 1 != argc) return UsageError(name, "needs exactly one container ID");
  o->id = argv[optind];
  return -1;
}

int CmdCreate(const Globals& g, int argc, char** argv) {
  CreateOptions o;
  if (int rc = ParseCreateOptions("create", argc, argv, &o, nullptr); rc >= 0) return rc;
  Result<State> s = CreateContainer(g, o);
  if (!s.ok()) return Fail(s.error());
  Log(LogLevel::kDebug, "created container " + o.id + " pid " + std::to_string(s->pid));
  return 0;
}

}  // namespace capspawn::oci
