// SPDX-License-Identifier: Apache-2.0
// capspawn: the command-line tool over the capspawn library. This file reads
// the global options and hands the rest of the command line to a subcommand.
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <capspawn/version.h>

#include "commands.h"
#include "options_table.h"
#include "voice.h"

namespace {

using capspawn::cli::Command;
using capspawn::cli::Commands;
using capspawn::cli::kExitUsage;

constexpr char kHelpHead[] = R"(Usage: capspawn [--help] [--version] COMMAND [ARGS...]

Create processes that get exactly what they are handed: arguments, environment,
file descriptors, typed handles, directories and a job; nothing ambient.

Commands:
)";

constexpr char kHelpTail[] =
    R"(  help [COMMAND] show this help, or COMMAND's own ('capspawn COMMAND --help')

Options:
  -h, --help      show this help and exit
  -V, --version   print capspawn's version and exit

Errors: every command prints "capspawn: STATUS: message" on stderr, STATUS
being the capspawn_status_t name (NOT_FOUND, BAD_HANDLE...) or USAGE for a
wrong command line; warnings read "capspawn: warning: message".

Exit status (every command):
  0     success
  1     a question answered no ('capspawn elf': the file would not run)
  2     wrong command line; nothing was done
  124   a --timeout ran out
  125   capspawn failed
  'capspawn run' otherwise exits with its child's status (128+N: signal N).

Examples:
  capspawn run -- /bin/echo hello
  capspawn run --no-clone=environ --env LANG=C.UTF-8 -- /usr/bin/env
  capspawn help run
)";

void PrintHelp(FILE* out) {
  fputs(kHelpHead, out);
  for (const Command& c : Commands()) fprintf(out, "  %-14s %s\n", c.name, c.summary);
  fputs(kHelpTail, out);
}

const Command* Find(const char* name) {
  for (const Command& c : Commands()) {
    if (strcmp(c.name, name) == 0) return &c;
  }
  return nullptr;
}

// Runs COMMAND with argv[0] == its name.
int Dispatch(int argc, char** argv) {
  const Command* command = Find(argv[0]);
  if (command == nullptr) {
    return capspawn::cli::Usage("", std::string("unknown command '") + argv[0] + "'");
  }
  optind = 0;  // a fresh getopt for the subcommand
  return command->run(argc, argv);
}

// capspawn help [COMMAND]
int Help(int argc, char** argv) {
  if (argc == 1) {
    PrintHelp(stdout);
    return 0;
  }
  if (argc > 2) return capspawn::cli::Usage("help", "takes at most one COMMAND");
  if (strcmp(argv[1], "help") == 0) {
    PrintHelp(stdout);
    return 0;
  }
  char help_flag[] = "--help";
  char* sub_argv[] = {argv[1], help_flag, nullptr};
  return Dispatch(2, sub_argv);
}

}  // namespace

int main(int argc, char** argv) {
  static const option kOptions[] = {
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  int c;
  // '+': stop at COMMAND; its options are its own.
  while ((c = getopt_long(argc, argv, "+hV", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'h':
        PrintHelp(stdout);
        return 0;
      case 'V':
        printf("capspawn %s\n", CAPSPAWN_VERSION_STRING);
        return 0;
      default:
        return capspawn::cli::Usage("", capspawn::cli::GetoptError(kOptions, argv));
    }
  }
  if (optind >= argc) {
    PrintHelp(stderr);
    return kExitUsage;
  }
  if (strcmp(argv[optind], "help") == 0) return Help(argc - optind, argv + optind);
  return Dispatch(argc - optind, argv + optind);
}
