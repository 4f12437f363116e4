// capspawn: the command-line tool over the capspawn library. This file reads
// the global options and hands the rest of the command line to a subcommand.
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"
#include "options.h"

namespace {

using capspawn::cli::kExitUsage;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // null: not compiled into this build
};

constexpr Command kCommands[] = {
    {"run", "spawn a program with exactly the capabilities given, and wait for it", CmdRun},
#ifdef CAPSPAWN_CLI_HAVE_ELF
    {"elf", "print what capspawn sees in an ELF file", CmdElf},
#else
    {"elf", "print what capspawn sees in an ELF file", nullptr},
#endif
#ifdef CAPSPAWN_CLI_HAVE_JOB
    {"job", "manage jobs: create, list, ps, kill, freeze, thaw, limit, policy, destroy", CmdJob},
#else
    {"job", "manage jobs: create, list, ps, kill, freeze, thaw, limit, policy, destroy", nullptr},
#endif
#ifdef CAPSPAWN_CLI_HAVE_RESOLVE
    {"resolve", "resolve a package name through the launcher's Resolver", CmdResolve},
#else
    {"resolve", "resolve a package name through the launcher's Resolver", nullptr},
#endif
#ifdef CAPSPAWN_CLI_HAVE_LAUNCHERD
    {"launcherd", "run the Launcher and Resolver service (capspawn-launcherd)", CmdLauncherd},
#else
    {"launcherd", "run the Launcher and Resolver service (capspawn-launcherd)", nullptr},
#endif
#ifdef CAPSPAWN_CLI_HAVE_START
    {"start", "start a process created with 'run --suspended'", CmdStart},
#else
    {"start", "start a process created with 'run --suspended'", nullptr},
#endif
};

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

Exit status: 2 for a wrong command line; otherwise see each command's help
('capspawn run' exits with its child's status, 125 when capspawn fails).

Examples:
  capspawn run -- /bin/echo hello
  capspawn run --no-clone=environ --env LANG=C.UTF-8 -- /usr/bin/env
  capspawn help run
)";

void PrintHelp(FILE* out) {
  fputs(kHelpHead, out);
  for (const Command& c : kCommands) {
    fprintf(out, "  %-14s %s%s\n", c.name, c.summary, c.run != nullptr ? "" : " (not built)");
  }
  fputs(kHelpTail, out);
}

int Usage(const std::string& message) {
  fprintf(stderr, "capspawn: %s\n(see 'capspawn --help')\n", message.c_str());
  return kExitUsage;
}

const Command* Find(const char* name) {
  for (const Command& c : kCommands) {
    if (strcmp(c.name, name) == 0) return &c;
  }
  return nullptr;
}

// Runs COMMAND with argv[0] == its name.
int Dispatch(int argc, char** argv) {
  const Command* command = Find(argv[0]);
  if (command == nullptr) return Usage(std::string("unknown command '") + argv[0] + "'");
  if (command->run == nullptr) {
    fprintf(stderr, "capspawn: '%s' is not built\n", command->name);
    return kExitUsage;
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
  if (argc > 2) return Usage("help takes at most one COMMAND");
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
        printf("capspawn %s\n", CAPSPAWN_VERSION);
        return 0;
      default: {
        // optopt: 0 for an unknown long option, the option's value for a long
        // option given an argument, the character for an unknown short one.
        std::string element = argv[optind - 1];
        element = element.substr(0, element.find('='));
        if (optopt == 0) return Usage("unknown option '" + element + "'");
        if (optopt == 'h' || optopt == 'V') {
          return Usage("option '" + element + "' takes no argument");
        }
        return Usage(std::string("unknown option '-") + static_cast<char>(optopt) + "'");
      }
    }
  }
  if (optind >= argc) {
    PrintHelp(stderr);
    return kExitUsage;
  }
  if (strcmp(argv[optind], "help") == 0) return Help(argc - optind, argv + optind);
  return Dispatch(argc - optind, argv + optind);
}
