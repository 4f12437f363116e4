// SPDX-License-Identifier: Apache-2.0
// capspawn_create_without_starting, and `capspawn run --suspended`, through
// the launcher (CAPSPAWN_LAUNCHER / --launcher): the daemon creates the
// process, stopped before its first instruction, and the caller starts it.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <capspawn/spawn.h>
#include <capspawn/start.h>

#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

// The process stays stopped: it is still 'T' after a while.
bool StaysStopped(pid_t pid) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return StatusField(pid, "State").rfind("T", 0) == 0;
}

class CreateViaLauncherTest : public ViaLauncherTest {};

TEST_F(CreateViaLauncherTest, TheDaemonCreatesItAndTheCallerStartsIt) {
  const std::string path = ChildPath();
  const char* argv[] = {path.c_str(), "--report-fd", "-1", "--exit", "42", nullptr};
  capspawn_start_data_t data = {};
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  ASSERT_EQ(
      capspawn_create_without_starting(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, path.c_str(),
                                       -1, argv, nullptr, 0, nullptr, &data, err),
      CAPSPAWN_OK)
      << err;
  capspawn::Process process{capspawn::UniqueFd(data.process)};
  capspawn::UniqueFd mem(data.root_vmar);
  const pid_t pid = process.pid();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(data.thread, pid);
  EXPECT_NE(data.entry, 0u);
  EXPECT_NE(data.stack, 0u);
  // Made by the daemon (the worker serving us, a child of it), not by us, and
  // waiting before its first instruction.
  EXPECT_EQ(StatusField(std::stoi(StatusField(pid, "PPid")), "PPid"),
            std::to_string(daemon_.pid()));
  EXPECT_TRUE(StaysStopped(pid)) << StatusField(pid, "State");
  // Its memory, read through root_vmar, holds the initial stack pointer's page.
  uint64_t word = 0;
  EXPECT_EQ(pread(mem.get(), &word, sizeof word, static_cast<off_t>(data.stack)),
            static_cast<ssize_t>(sizeof word));
  EXPECT_EQ(word, 5u) << "argc at the initial stack pointer";

  ASSERT_EQ(capspawn_start(process.pidfd().get()), CAPSPAWN_OK);
  capspawn::Result<int64_t> rc = process.Wait(10'000'000'000);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, 42);
  EXPECT_EQ(capspawn_start(process.pidfd().get()), CAPSPAWN_ERR_BAD_STATE);
}

TEST_F(CreateViaLauncherTest, FailuresComeBackWithTheDaemonsStatus) {
  const char* argv[] = {"x", nullptr};
  capspawn_start_data_t data = {};
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  // Checked in the client, as in-process.
  EXPECT_EQ(
      capspawn_create_without_starting(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL,
                                       "/nonexistent/x", -1, argv, nullptr, 0, nullptr, &data, err),
      CAPSPAWN_ERR_NOT_FOUND)
      << err;
  // Refused by the daemon: a name with a NUL cannot be sent, so a program
  // that is not executable (a directory's fd) is the daemon's answer.
  int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  capspawn_status_t st =
      capspawn_create_without_starting(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, nullptr, dir,
                                       argv, nullptr, 0, nullptr, &data, err);
  EXPECT_NE(st, CAPSPAWN_OK);
  EXPECT_NE(std::string(err), "");
  EXPECT_EQ(fcntl(dir, F_GETFD), -1) << "the executable fd is consumed";
}

TEST_F(CreateViaLauncherTest, TheCliRunsSuspendedThroughTheLauncher) {
  unsetenv("CAPSPAWN_LAUNCHER");  // the option names it
  const std::string command = std::string(CAPSPAWN_TEST_CLI) +
                              " run --suspended --no-clone=stdio --launcher " + daemon_.socket() +
                              " -- " + ChildPath() + " --report-fd -1 --exit 3 2>&1";
  FILE* p = popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  size_t at = out.find("\"pid\":");
  ASSERT_NE(at, std::string::npos) << out;
  const pid_t pid = static_cast<pid_t>(std::atoi(out.c_str() + at + 6));
  ASSERT_GT(pid, 0) << out;
  // The daemon's: its worker's, a child of it.
  EXPECT_EQ(StatusField(std::stoi(StatusField(pid, "PPid")), "PPid"),
            std::to_string(daemon_.pid()));
  EXPECT_TRUE(StaysStopped(pid));
  capspawn::Process process{capspawn::UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)))};
  ASSERT_TRUE(process.pidfd().valid());
  const std::string start = std::string(CAPSPAWN_TEST_CLI) + " start " + std::to_string(pid);
  ASSERT_EQ(std::system(start.c_str()), 0);
  capspawn::Result<int64_t> rc = process.Wait(10'000'000'000);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, 3);
}

}  // namespace
}  // namespace capspawn_test
