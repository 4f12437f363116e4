// The subcommands of the `capspawn` tool. Each is called like a main():
// argv[0] is the subcommand's name ("run"), the return value is the exit code,
// and getopt's state is fresh (optind = 0) when it starts.
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_COMMANDS_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_COMMANDS_H_

#include <capspawn/start.h>

#include <functional>
#include <string>

// capspawn run [OPTIONS] [--] PROGRAM [ARGS...]   (cmd_run.cc)
int CmdRun(int argc, char** argv);

// capspawn elf FILE   (cmd_elf.cc; compiled in only when that file exists:
// CAPSPAWN_CLI_HAVE_ELF is then defined)
int CmdElf(int argc, char** argv);

// capspawn job create|list|ps|kill|freeze|thaw|limit|policy|destroy   (cmd_job.cc;
// compiled in only when that file exists: CAPSPAWN_CLI_HAVE_JOB is then defined)
int CmdJob(int argc, char** argv);

// capspawn resolve NAME   (cmd_resolve.cc; CAPSPAWN_CLI_HAVE_RESOLVE)
int CmdResolve(int argc, char** argv);

// capspawn launcherd [OPTIONS]   (cmd_launcherd.cc; CAPSPAWN_CLI_HAVE_LAUNCHERD)
int CmdLauncherd(int argc, char** argv);
// capspawn start PID | --fd N   (cmd_start.cc; CAPSPAWN_CLI_HAVE_START)
int CmdStart(int argc, char** argv);

// `capspawn run --suspended` (cmd_start.cc): runs `create` (the
// capspawn_create_without_starting call; it returns the status and sets
// *message on failure) in a session of its own, so the stopped process
// outlives capspawn, and prints its start data as JSON. Returns the exit code.
int RunSuspended(
    const std::function<capspawn_status_t(capspawn_start_data_t*, std::string*)>& create,
    bool quiet);

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_COMMANDS_H_
