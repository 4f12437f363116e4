// SPDX-License-Identifier: Apache-2.0
// One voice for every `capspawn` subcommand: the exit-code table, how errors,
// warnings and confirmations are printed, and the JSON style. docs/cli.md
// ("One voice") states the rules; these functions are the only way the
// subcommands print them.
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_VOICE_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_VOICE_H_

#include <cstdint>
#include <string>

#include <capspawn/status.h>

namespace capspawn::cli {

// Exit codes of capspawn itself. `run` exits with its child's code otherwise.
inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;            // a question answered no (elf: would not run)
inline constexpr int kExitUsage = 2;         // wrong command line: nothing was done
inline constexpr int kExitTimeout = 124;     // a --timeout ran out (run: the child was killed)
inline constexpr int kExitFailure = 125;     // capspawn failed: "capspawn: STATUS: message"
inline constexpr int kExitSignalBase = 128;  // run: signal N killed the child: 128 + N

// "NOT_FOUND" for CAPSPAWN_ERR_NOT_FOUND, "OK" for CAPSPAWN_OK, the number
// for a value without a name.
std::string StatusName(capspawn_status_t status);

// Whether messages other than usage errors are printed (--quiet turns them
// off for the rest of the process). Usage errors are always printed.
void SetQuiet(bool quiet);
bool Quiet();

// "capspawn: STATUS: message" on stderr (unless quiet).
void Report(capspawn_status_t status, const std::string& message);
// Report, then kExitFailure.
int Fail(capspawn_status_t status, const std::string& message);
// "capspawn: USAGE: COMMAND: message (see 'capspawn COMMAND --help')" on
// stderr; returns kExitUsage. COMMAND is the words typed ("job kill"), or
// empty for capspawn's own options.
int Usage(const std::string& command, const std::string& message);
// "capspawn: warning: message" on stderr (unless quiet).
void Warn(const std::string& message);
// A confirmation of what was done, one line on stdout (unless quiet):
// "VERB OBJECT", e.g. "killed job /sys/fs/cgroup/unified/build".
void Confirm(const std::string& verb, const std::string& object);

// JSON style: field names in snake_case; counts, sizes, pids and fds as
// numbers; addresses and ELF values that are addresses as "0x..." strings
// (lower-case hex, no padding); statuses as their short name ("NOT_FOUND").
std::string JsonAddress(uint64_t address);

}  // namespace capspawn::cli

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_VOICE_H_
