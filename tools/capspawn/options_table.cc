// SPDX-License-Identifier: Apache-2.0
// The getopt_long tables of every subcommand but `run` (options.cc) and
// `launcherd` (tools/capspawn-launcherd/daemon.cc), and the list of them all.
#include "options_table.h"

#include <cstring>

#include "daemon.h"
#include "options.h"
#include "options_job.h"

namespace capspawn::cli {
namespace {

const option kStartOptions[] = {
    {"fd", required_argument, nullptr, 'f'},
    {"quiet", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

const option kResolveOptions[] = {
    {"launcher", required_argument, nullptr, 'l'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

const option kElfOptions[] = {
    {"help", no_argument, nullptr, 'h'},
    {"json", no_argument, nullptr, 'j'},
    {"handles", required_argument, nullptr, 'n'},
    {nullptr, 0, nullptr, 0},
};

const option kPsOptions[] = {
    {"suspended", no_argument, nullptr, 's'}, {"json", no_argument, nullptr, 'j'},
    {"kill", no_argument, nullptr, 'k'},      {"older-than", required_argument, nullptr, 'o'},
    {"help", no_argument, nullptr, 'h'},      {nullptr, 0, nullptr, 0},
};

const option kCompletionOptions[] = {
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

struct Hint {
  const char* command;  // nullptr: any command
  const char* option;
  const char* kind;
};

// Values that are not file names. Anything else completes file names, which
// is what a new option most likely takes.
constexpr Hint kHints[] = {
    {"run", "env", "text"},
    {"run", "unset-env", "text"},
    {"run", "name", "text"},
    {"run", "timeout", "text"},
    {"run", "job", "dir"},
    {"run", "ldsvc", "dir"},
    {"run", "dir", "dir"},
    {"run", "tmpfs", "text"},
    {"run", "fd", "text"},
    {"run", "transfer-fd", "text"},
    {"run", "handle", "text"},
    {"run", "start-data-fd", "text"},
    {"run", "start-deadline", "text"},
    {"run", "listen", "text"},
    {"run", "listen-name", "text"},
    {"run", "listen-backlog", "text"},
    {"run", "hostname", "text"},
    {"run", "join", "text"},
    {"run", "cap-add", "text"},
    {"run", "cap-drop", "text"},
    {"run", "rlimit", "text"},
    {"run", "uid", "text"},
    {"run", "gid", "text"},
    {"run", "groups", "text"},
    {"run", "uid-map", "text"},
    {"run", "gid-map", "text"},
    {"run", "chdir", "text"},
    {"run", "root", "dir"},
    {"run", "root-ro", "dir"},
    {"run", "mount", "text"},
    {"run", "mask", "text"},
    {"run", "ro-path", "text"},
    {"run", "devices", "text"},
    {"run", "sysctl", "text"},
    {"run", "oom-score-adj", "text"},
    {"run", "umask", "text"},
    {"start", "fd", "text"},
    {"elf", "handles", "text"},
    {"ps", "older-than", "text"},
    {"launcherd", "resolver-root", "dir"},
    {"launcherd", "mode", "text"},
    {"launcherd", "max-connections", "text"},
    {"launcherd", "ready-fd", "text"},
    {"launcherd", "max-launch-fds", "text"},
    {"launcherd", "max-launch-bytes", "text"},
    {nullptr, "memory", "text"},
    {nullptr, "pids", "text"},
    {nullptr, "cpu", "text"},
    {nullptr, "timeout", "text"},
};

std::vector<CommandOptions> Build() {
  std::vector<CommandOptions> all = {
      {"run", RunLongOptions(), RunShortOptions(), Operands::kCommand, {}},
      {"start", kStartOptions, "+qh", Operands::kPid, {}},
      {"ps", kPsOptions, "+h", Operands::kPid, {}},
      {"elf", kElfOptions, "+h", Operands::kFile, {}},
  };
  for (const JobCommand& j : JobCommands()) {
    all.push_back(
        {"job " + std::string(j.name), j.long_options, j.short_options, Operands::kJob, j.choices});
  }
  all.push_back({"resolve", kResolveOptions, "+h", Operands::kWord, {}});
  all.push_back(
      {"launcherd", launcher_internal::LauncherDaemonOptions(), "h", Operands::kNone, {}});
  all.push_back({"completion", kCompletionOptions, "+h", Operands::kWord, {"bash", "zsh"}});
  return all;
}

}  // namespace

const std::vector<CommandOptions>& AllCommandOptions() {
  static const std::vector<CommandOptions> all = Build();
  return all;
}

const CommandOptions* FindCommandOptions(const std::string& path) {
  for (const CommandOptions& c : AllCommandOptions()) {
    if (c.path == path) return &c;
  }
  return nullptr;
}

std::string GetoptError(const option* long_options, char* const* argv) {
  std::string element = argv[optind - 1];
  element = element.substr(0, element.find('='));
  if (optopt != 0) {
    for (const option* o = long_options; o->name != nullptr; ++o) {
      if (o->val != optopt) continue;
      return "option '" + element +
             (o->has_arg == no_argument ? "' takes no argument" : "' needs an argument");
    }
    if (optopt < 0x100) return std::string("unknown option '-") + static_cast<char>(optopt) + "'";
  }
  return "unknown option '" + element + "'";
}

std::string ValueKind(const std::string& command, const std::string& name) {
  if ((command == "run") && (name == "clone" || name == "no-clone")) {
    std::string words = "words:";
    for (const std::string& w : CloneWords()) words += w + " ";
    words.pop_back();
    return words;
  }
  for (const Hint& h : kHints) {
    if ((h.command == nullptr || command == h.command) && name == h.option) return h.kind;
  }
  return "file";
}

}  // namespace capspawn::cli
