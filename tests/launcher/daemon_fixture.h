// SPDX-License-Identifier: Apache-2.0
// A real capspawn-launcherd for a test: started on a socket in a fresh
// directory, checked alive, stopped (and required to exit cleanly) at the end.
#ifndef CAPSPAWN_TESTS_LAUNCHER_DAEMON_FIXTURE_H_
#define CAPSPAWN_TESTS_LAUNCHER_DAEMON_FIXTURE_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/launcher.h>

#include "test_util.h"

namespace capspawn_test {

class Launcherd {
 public:
  // Starts the daemon with these extra options; ASSERTs inside.
  void Start(const std::vector<std::string>& options = {});
  // Starts it again, after Kill() or Stop(), on the same socket path (the stale socket
  // file is still there) and the same directory; the log is appended to.
  void Restart(const std::vector<std::string>& options = {});
  // Variables added to the daemon's environment at its next (re)start.
  void SetExtraEnvironment(std::vector<std::string> env) { extra_env_ = std::move(env); }
  // SIGTERM; returns the daemon's wait status.
  int Stop();
  // SIGKILL, then reaps it; returns its wait status.
  int Kill();
  ~Launcherd();

  const std::string& socket() const { return socket_; }
  const std::string& dir() const { return dir_->path(); }
  bool Alive() const;
  pid_t pid() const { return pid_; }
  std::string Log() const;  // its stderr so far
  // A sanitizer's report in the log (a TSan build's daemon reports races
  // there and, without halt_on_error, goes on): empty if none.
  std::string SanitizerReport() const;

 private:
  void Exec(const std::vector<std::string>& options, bool append_log);
  int SignalAndReap(int signo);
  std::unique_ptr<TempDir> dir_;
  std::vector<std::string> extra_env_;
  std::string socket_;
  pid_t pid_ = -1;
};

// Fixture: one daemon per test, with the package root dir()/"packages".
class LauncherTest : public ::testing::Test {
 public:
  // A directory fd (O_PATH).
  capspawn::UniqueFd OpenDir(const std::string& path);
  // Sanitizer builds make spawn_child dynamic: it then needs the client's
  // filesystem (the name "/") to find its loader. Sends that name if so.
  void AddRootIfDynamic(capspawn::LauncherClient& client);

 protected:
  void SetUp() override;
  void TearDown() override;
  virtual std::vector<std::string> DaemonOptions() { return {}; }

  capspawn::LauncherClient Connect();
  // spawn_child's executable, opened for the launcher.
  capspawn::UniqueFd ChildExecutable();
  // Launches spawn_child with argv (argv[0] added), the report on a pipe at fd
  // 1, plus these handles and names; reads the report and waits.
  ChildRun RunThroughLauncher(capspawn::LauncherClient& client, const Strings& args,
                              std::vector<capspawn::LaunchHandleInfo> handles = {},
                              std::vector<capspawn::LaunchNameInfo> names = {},
                              capspawn::LaunchInfo info = {});
  // A package root with packages made by MakePackage.
  std::string packages() const { return daemon_.dir() + "/packages"; }
  // packages()/NAME/bin/BINARY with `content` (mode 0755), and lib/ if asked.
  void MakePackage(const std::string& name, const std::string& binary, const std::string& content,
                   bool with_lib = false);

  Launcherd daemon_;
};

// LauncherTest with CAPSPAWN_LAUNCHER naming its daemon, so that
// capspawn_spawn* and capspawn_create_without_starting go through it.
class ViaLauncherTest : public LauncherTest {
 protected:
  void SetUp() override;
  void TearDown() override;
};

// A field of /proc/PID/status ("PPid", "State", "Uid"), its value after the
// colon and blanks; "" if absent.
std::string StatusField(pid_t pid, const std::string& name);

}  // namespace capspawn_test

#endif  // CAPSPAWN_TESTS_LAUNCHER_DAEMON_FIXTURE_H_
