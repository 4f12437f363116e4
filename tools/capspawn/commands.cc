// SPDX-License-Identifier: Apache-2.0
// The list of `capspawn` commands, shared by main.cc's help and dispatch and
// by `capspawn completion`.
#include "commands.h"

namespace capspawn::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"run", "spawn a program with exactly the capabilities given, and wait for it", CmdRun},
      {"start", "start a process created with 'run --suspended'", CmdStart},
      {"ps", "list processes created and never started ('ps --suspended')", CmdPs},
      {"elf", "print what capspawn sees in an ELF file", CmdElf},
      {"job", "manage jobs: create, list, ps, kill, freeze, thaw, limit, policy, destroy", CmdJob},
      {"resolve", "resolve a package name through the launcher's Resolver", CmdResolve},
      {"launcherd", "run the Launcher and Resolver service (capspawn-launcherd)", CmdLauncherd},
      {"completion", "print the bash or zsh completion script", CmdCompletion},
  };
  return commands;
}

}  // namespace capspawn::cli
