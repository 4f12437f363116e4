// SPDX-License-Identifier: Apache-2.0
// capspawn-oci's commands. Each is called like a main() with argv[0] = the
// command's name, after the global options; getopt is fresh (optind = 0).
#ifndef CAPSPAWN_TOOLS_OCI_COMMANDS_H_
#define CAPSPAWN_TOOLS_OCI_COMMANDS_H_

#include <string>

namespace capspawn::oci {

inline constexpr int kExitFailure = 1;  // the command failed (runc's code)
inline constexpr int kExitUsage = 2;    // a wrong command line: nothing was done

struct Globals {
  std::string root;  // --root
  bool debug = false;
  bool rootless = false;  // not root: the container gets a user namespace
};

using CommandFn = int (*)(const Globals& g, int argc, char** argv);

int CmdCreate(const Globals& g, int argc, char** argv);
int CmdStart(const Globals& g, int argc, char** argv);
int CmdState(const Globals& g, int argc, char** argv);
int CmdKill(const Globals& g, int argc, char** argv);
int CmdDelete(const Globals& g, int argc, char** argv);
int CmdRun(const Globals& g, int argc, char** argv);
int CmdExec(const Globals& g, int argc, char** argv);
int CmdPs(const Globals& g, int argc, char** argv);
int CmdPause(const Globals& g, int argc, char** argv);
int CmdResume(const Globals& g, int argc, char** argv);
int CmdList(const Globals& g, int argc, char** argv);
int CmdFeatures(const Globals& g, int argc, char** argv);
int CmdSpec(const Globals& g, int argc, char** argv);

// "capspawn-oci: COMMAND: message" on stderr and kExitUsage.
int UsageError(const char* command, const std::string& message);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_COMMANDS_H_
