// SPDX-License-Identifier: Apache-2.0
// The getopt_long tables of `capspawn job`'s subcommands.
#include "options_job.h"

namespace capspawn::cli {
namespace {

const option kCreate[] = {
    {"deny-new-process", no_argument, nullptr, kJobOptDeny},
    {"memory", required_argument, nullptr, kJobOptMemory},
    {"pids", required_argument, nullptr, kJobOptPids},
    {"cpu", required_argument, nullptr, kJobOptCpu},
    {"cpu-weight", required_argument, nullptr, kJobOptCpuWeight},
    {"quiet", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};
const option kList[] = {
    {"recursive", no_argument, nullptr, 'r'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};
const option kPs[] = {
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};
// kill, freeze, destroy.
const option kWithTimeout[] = {
    {"timeout", required_argument, nullptr, kJobOptTimeout},
    {"quiet", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};
// thaw, policy.
const option kPlain[] = {
    {"quiet", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};
const option kLimit[] = {
    {"memory", required_argument, nullptr, kJobOptMemory},
    {"pids", required_argument, nullptr, kJobOptPids},
    {"cpu", required_argument, nullptr, kJobOptCpu},
    {"cpu-weight", required_argument, nullptr, kJobOptCpuWeight},
    {"quiet", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

}  // namespace

const std::vector<JobCommand>& JobCommands() {
  static const std::vector<JobCommand> commands = {
      {"create", kCreate, "hq", {}},
      {"list", kList, "hr", {}},
      {"ps", kPs, "h", {}},
      {"kill", kWithTimeout, "hq", {}},
      {"freeze", kWithTimeout, "hq", {}},
      {"thaw", kPlain, "hq", {}},
      {"limit", kLimit, "hq", {}},
      {"policy", kPlain, "hq", {"allow", "deny"}},
      {"destroy", kWithTimeout, "hq", {}},
  };
  return commands;
}

const JobCommand* FindJobCommand(const std::string& name) {
  for (const JobCommand& c : JobCommands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace capspawn::cli
