// SPDX-License-Identifier: Apache-2.0
// `capspawn job`'s subcommands and their getopt_long tables (options_job.cc),
// shared by the parser (cmd_job.cc) and the completions (options_table.cc).
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_JOB_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_JOB_H_

#include <getopt.h>

#include <string>
#include <vector>

namespace capspawn::cli {

// Values getopt_long returns for job options without a short form.
enum JobOptionId : int {
  kJobOptMemory = 1000,
  kJobOptPids,
  kJobOptCpu,
  kJobOptDeny,
  kJobOptTimeout,
  kJobOptCpuWeight
};

struct JobCommand {
  const char* name;                  // "create"
  const option* long_options;        // null-terminated
  const char* short_options;         // "hq"
  std::vector<std::string> choices;  // words allowed after JOB ("allow deny")
};

// Every `capspawn job` subcommand, in help order.
const std::vector<JobCommand>& JobCommands();
const JobCommand* FindJobCommand(const std::string& name);

}  // namespace capspawn::cli

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_JOB_H_
