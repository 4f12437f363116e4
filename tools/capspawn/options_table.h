// SPDX-License-Identifier: Apache-2.0
// Every subcommand's getopt_long table in one list. The parsers read their own
// table from here; `capspawn completion` and the tests read the whole list, so
// the completions and the checks cannot drift from what the parsers accept.
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_TABLE_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_TABLE_H_

#include <getopt.h>

#include <string>
#include <vector>

namespace capspawn::cli {

// What a command's operands (the words after its options) are, for completion.
enum class Operands {
  kNone,     // nothing
  kCommand,  // PROGRAM [ARGS...]: a command line of its own
  kFile,     // file names
  kJob,      // a job (a cgroup directory)
  kPid,      // a process id
  kWord,     // free text (a package name)
};

struct CommandOptions {
  std::string path;                  // "run", "job create"
  const option* long_options;        // null-terminated getopt_long table
  const char* short_options;         // getopt's string ("+:e:qh")
  Operands operands;                 // what follows the options
  std::vector<std::string> choices;  // words allowed as the first operand ("allow deny")
};

// Every command and subcommand with options, in help order. Commands with
// subcommands of their own ("job") list those as "job create", ...
const std::vector<CommandOptions>& AllCommandOptions();

// The table of one command path ("start", "job kill"); null when unknown.
const CommandOptions* FindCommandOptions(const std::string& path);

// How to complete the value of `--name` in `command`: "file" (the default),
// "dir", "command", "text" (no completion), or "words:a b c".
std::string ValueKind(const std::string& command, const std::string& name);

// The message for getopt_long's '?' or ':' answer, from optopt and optind:
// "unknown option '--x'", "option '--fd' needs an argument", "option
// '--json' takes no argument".
std::string GetoptError(const option* long_options, char* const* argv);

}  // namespace capspawn::cli

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_TABLE_H_
