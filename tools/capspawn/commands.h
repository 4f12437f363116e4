// SPDX-License-Identifier: Apache-2.0
// The subcommands of the `capspawn` tool. Each is called like a main():
// argv[0] is the subcommand's name ("run"), the return value is the exit code,
// and getopt's state is fresh (optind = 0) when it starts.
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_COMMANDS_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_COMMANDS_H_

#include <capspawn/start.h>

#include <functional>
#include <string>
#include <vector>

// capspawn run [OPTIONS] [--] PROGRAM [ARGS...]   (cmd_run.cc)
int CmdRun(int argc, char** argv);

// capspawn elf FILE   (cmd_elf.cc)
int CmdElf(int argc, char** argv);

// capspawn job create|list|ps|kill|freeze|thaw|limit|policy|destroy   (cmd_job.cc)
int CmdJob(int argc, char** argv);

// capspawn resolve NAME   (cmd_resolve.cc)
int CmdResolve(int argc, char** argv);

// capspawn launcherd [OPTIONS]   (cmd_launcherd.cc)
int CmdLauncherd(int argc, char** argv);

// capspawn start PID | --fd N   (cmd_start.cc)
int CmdStart(int argc, char** argv);

// capspawn ps --suspended   (cmd_ps.cc)
int CmdPs(int argc, char** argv);

// capspawn completion bash|zsh   (cmd_completion.cc)
int CmdCompletion(int argc, char** argv);

namespace capspawn::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

// Every command, in help order (commands.cc); `help` is not among them.
const std::vector<Command>& Commands();

// What `capspawn run --suspended` writes where (cmd_start.cc).
struct SuspendedOutput {
  int start_data_fd = 1;           // where the start data goes (capspawn's own fd)
  std::string start_data_file;     // or this file, created (replaced) for it
  int64_t start_deadline_ns = -1;  // > 0: kill the process if not started by then
};

// `capspawn run --suspended` (cmd_start.cc): runs `create` (the
// capspawn_create_without_starting call; it returns the status and sets
// *message on failure) in a session of its own, so the stopped process
// outlives capspawn, and writes its start data as JSON. Returns the exit code.
int RunSuspended(
    const std::function<capspawn_status_t(capspawn_start_data_t*, std::string*)>& create,
    const SuspendedOutput& output);

}  // namespace capspawn::cli

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_COMMANDS_H_
