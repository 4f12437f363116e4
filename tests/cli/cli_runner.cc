// SPDX-License-Identifier: Apache-2.0
// Starts capspawn with posix_spawn (not with capspawn itself: the tool under
// test must not also be the harness).
#include "cli_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

extern char** environ;

namespace capspawn::cli_test {

// CAPSPAWN_TEST_CLI overrides the build's binary: the packaging stage runs
// these tests against the installed /usr/bin/capspawn.
const char* CliPath() {
  const char* installed = getenv("CAPSPAWN_TEST_CLI");
  return installed != nullptr && *installed != '\0' ? installed : CAPSPAWN_CLI_PATH;
}

int MemFile() {
  int fd = memfd_create("cli_test", MFD_CLOEXEC);
  if (fd < 0) abort();
  return fd;
}

std::string ReadAll(int fd) {
  std::string data;
  char buf[4096];
  off_t offset = 0;
  ssize_t n;
  while ((n = pread(fd, buf, sizeof(buf), offset)) > 0) {
    data.append(buf, n);
    offset += n;
  }
  return data;
}

pid_t StartCli(const std::vector<std::string>& args, const CliOptions& options, int out_fd,
               int err_fd) {
  std::vector<std::string> argv_strings = {CliPath()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), options.env.begin(), options.env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  for (const auto& [target, source] : options.fds) {
    posix_spawn_file_actions_adddup2(&actions, source, target);
  }
  for (int fd : options.closed) posix_spawn_file_actions_addclose(&actions, fd);
  pid_t pid = -1;
  int err = posix_spawn(&pid, CliPath(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  return pid;
}

CliResult RunCli(const std::vector<std::string>& args, const CliOptions& options) {
  int out = MemFile();
  int err = MemFile();
  CliResult result;
  pid_t pid = StartCli(args, options, out, err);
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid) {
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  result.out = ReadAll(out);
  result.err = ReadAll(err);
  close(out);
  close(err);
  return result;
}

}  // namespace capspawn::cli_test
