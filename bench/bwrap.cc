// SPDX-License-Identifier: Apache-2.0
#include "bwrap.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "wait_child.h"

namespace capspawn_bench {
namespace {

std::string FindInPath(const char* name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Spawns argv with stderr captured (up to 4 KiB) and waits.
std::string RunCapturingStderr(const std::string& exe, char* const* argv, std::string* stderr_out) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return std::string("pipe2: ") + std::strerror(errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDERR_FILENO);
  pid_t pid = -1;
  int err = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (err != 0) {
    close(pipefd[0]);
    return "posix_spawn " + exe + ": " + std::strerror(err);
  }
  char buf[512];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (stderr_out->size() < 4096) stderr_out->append(buf, static_cast<size_t>(n));
  }
  close(pipefd[0]);
  return WaitPid(pid);
}

}  // namespace

BwrapCommand::BwrapCommand(const std::vector<std::string>& ro_binds, const std::string& program)
    : bwrap_(FindInPath("bwrap")) {
  args_.push_back("bwrap");
  for (const std::string& dir : ro_binds) {
    args_.insert(args_.end(), {"--ro-bind", dir, dir});
  }
  args_.insert(args_.end(), {"--ro-bind", program, program, program});
  for (std::string& arg : args_) argv_.push_back(arg.data());
  argv_.push_back(nullptr);
}

std::string BwrapCommand::Unavailable() const {
  if (bwrap_.empty()) return "bwrap is not installed (not found in PATH)";
  std::string stderr_text;
  std::string error = RunCapturingStderr(bwrap_, argv_.data(), &stderr_text);
  if (error.empty()) return "";
  while (!stderr_text.empty() && stderr_text.back() == '\n') stderr_text.pop_back();
  return "bwrap cannot run here (" + error + ")" + (stderr_text.empty() ? "" : ": " + stderr_text);
}

std::string BwrapCommand::SpawnAndWait() const {
  pid_t pid = -1;
  int err = posix_spawn(&pid, bwrap_.c_str(), nullptr, nullptr, argv_.data(), environ);
  if (err != 0) return "posix_spawn " + bwrap_ + ": " + std::strerror(err);
  return WaitPid(pid);
}

}  // namespace capspawn_bench
