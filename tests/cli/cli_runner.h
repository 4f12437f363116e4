// SPDX-License-Identifier: Apache-2.0
// Runs the built `capspawn` binary for real and collects what it did.
#ifndef CAPSPAWN_TESTS_CLI_CLI_RUNNER_H_
#define CAPSPAWN_TESTS_CLI_CLI_RUNNER_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace capspawn::cli_test {

struct CliResult {
  int exit_code = -1;  // the exit status, or 128 + N when signal N killed capspawn
  std::string out;     // everything capspawn (and its child) wrote to fd 1
  std::string err;     // ... and to fd 2
};

struct CliOptions {
  // {target, source}: the test's fd `source` becomes capspawn's fd `target`.
  std::vector<std::pair<int, int>> fds;
  // Variables added to the test's own environment for capspawn.
  std::vector<std::string> env;
  // capspawn's fds closed before it starts (after `fds` are placed).
  std::vector<int> closed;
};

// Path of the capspawn binary under test.
const char* CliPath();

// Starts capspawn with args (argv[0] is added); stdout and stderr go to
// memory files, stdin is /dev/null. Returns its pid.
pid_t StartCli(const std::vector<std::string>& args, const CliOptions& options, int out_fd,
               int err_fd);

// Runs capspawn to completion.
CliResult RunCli(const std::vector<std::string>& args, const CliOptions& options = {});

// An anonymous memory file (close-on-exec) and its whole content.
int MemFile();
std::string ReadAll(int fd);

}  // namespace capspawn::cli_test

#endif  // CAPSPAWN_TESTS_CLI_CLI_RUNNER_H_
