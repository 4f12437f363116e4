// SPDX-License-Identifier: Apache-2.0
// `capspawn resolve`: asks the launcher's Resolver for a name and prints what
// it answered: the executable and the loader directory.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <capspawn/launcher.h>
#include <capspawn/spawn.h>

#include "commands.h"
#include "options_table.h"
#include "voice.h"

namespace {

constexpr char kHelp[] = R"(Usage: capspawn resolve [--launcher SOCKET] NAME

Resolve NAME ("PACKAGE" or "PACKAGE/BINARY") through the Resolver of the
capspawn-launcherd at SOCKET (default: $CAPSPAWN_LAUNCHER), as #!resolve does,
and print the executable and the loader (the package's lib/ directory) it
answers with, one per line:
  executable /srv/packages/hello/bin/hello
  loader /srv/packages/hello/lib        (or "loader none")

Options:
      --launcher SOCKET   the launcher's socket
  -h, --help              show this help and exit

Exit status: 0 when resolved, 125 when not ("capspawn: STATUS: message":
INVALID_ARGS for a malformed name, NOT_FOUND for a missing package or binary,
PEER_CLOSED when no launcher listens), 2 for a wrong command line.
)";

std::string PathOf(int fd) {
  char link[64], target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : "fd " + std::to_string(fd);
}

int Usage(const std::string& message) { return capspawn::cli::Usage("resolve", message); }

}  // namespace

int CmdResolve(int argc, char** argv) {
  const capspawn::cli::CommandOptions* table = capspawn::cli::FindCommandOptions("resolve");
  const char* env = std::getenv("CAPSPAWN_LAUNCHER");
  std::string socket = env ? env : "";
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, table->short_options, table->long_options, nullptr)) != -1) {
    switch (c) {
      case 'l':
        socket = optarg;
        break;
      case 'h':
        std::fputs(kHelp, stdout);
        return 0;
      default:
        return Usage(capspawn::cli::GetoptError(table->long_options, argv));
    }
  }
  if (optind + 1 != argc) return Usage("give exactly one NAME");
  if (socket.empty()) return Usage("no launcher: give --launcher SOCKET or set CAPSPAWN_LAUNCHER");
  capspawn::Result<capspawn::Resolver> resolver = capspawn::Resolver::Connect(socket);
  capspawn::Result<capspawn::ResolvedProgram> r =
      resolver.ok() ? resolver->Resolve(argv[optind])
                    : capspawn::Result<capspawn::ResolvedProgram>(resolver.error());
  if (!r.ok()) return capspawn::cli::Fail(r.status(), r.error().message());
  std::printf("executable %s\n", PathOf(r->executable.get()).c_str());
  std::printf("loader %s\n", r->loader ? PathOf(r->loader.get()).c_str() : "none");
  return 0;
}
