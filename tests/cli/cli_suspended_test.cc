// SPDX-License-Identifier: Apache-2.0
// `capspawn run --suspended` where its output goes (capturing it never waits
// on the stopped child), `--start-deadline`, and `capspawn ps --suspended`.
// The test is the subreaper of what capspawn leaves behind, and reaps it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace capspawn::cli_test {
namespace {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

char State(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

pid_t ParentOf(pid_t pid) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("\nPPid:");
  return at == std::string::npos ? -1 : static_cast<pid_t>(atoi(&status[at + 6]));
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Waits (up to `seconds`) until the process behind `pidfd` has exited.
bool Exits(int pidfd, double seconds) {
  pollfd p = {pidfd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(seconds * 1000)) == 1;
}

// Reaps what was reparented to the test (it is the subreaper).
void ReapOrphans() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

class Suspended : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char dir[] = "/tmp/capspawn-suspended-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    for (pid_t pid : created_) kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ReapOrphans();
    std::system(("rm -rf " + dir_).c_str());
  }

  // capspawn with its stdout on a pipe, read to EOF as $(...) does. Fails
  // the test if EOF does not come within 10 s (someone still holds the pipe).
  std::string Capture(const std::vector<std::string>& args, int* exit_code,
                      const CliOptions& options = {}) {
    int pipe_fds[2];
    EXPECT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    int err = MemFile();
    pid_t pid = StartCli(args, options, pipe_fds[1], err);
    close(pipe_fds[1]);
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p = {pipe_fds[0], POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) {
        ADD_FAILURE() << "capturing capspawn's stdout did not reach EOF";
        break;
      }
      ssize_t n = read(pipe_fds[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    err_ = ReadAll(err);
    close(err);
    return out;
  }

  json StartData(const std::string& line) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    if (j.contains("pid")) created_.push_back(j["pid"].get<pid_t>());
    return j;
  }

  std::string dir_;
  std::string err_;
  std::vector<pid_t> created_;
};

TEST_F(Suspended, CapturingTheStartDataDoesNotWaitForTheChild) {
  const std::string report = dir_ + "/stdout";
  int code = -1;
  // The shell's own fd 1, read before anything redirects it.
  std::string out = Capture({"run", "--suspended", "--", "/bin/sh", "-c",
                             "x=$(readlink /proc/$$/fd/1); echo \"$x\" > " + report},
                            &code);
  ASSERT_EQ(code, 0) << err_;
  json j = StartData(out);
  ASSERT_TRUE(j.contains("pid")) << out;
  const pid_t pid = j["pid"];
  EXPECT_EQ(State(pid), 'T');
  // Addresses are hex strings, numbers are numbers (docs/cli.md, JSON).
  for (const char* field : {"entry", "stack", "base", "vdso_base"}) {
    ASSERT_TRUE(j[field].is_string()) << field;
    EXPECT_EQ(j[field].get<std::string>().rfind("0x", 0), 0u) << field;
  }
  EXPECT_TRUE(j["thread"].is_number());
  int pidfd = PidfdOpen(pid);
  ASSERT_GE(pidfd, 0);
  CliResult start = RunCli({"start", std::to_string(pid)});
  EXPECT_EQ(start.exit_code, 0) << start.err;
  EXPECT_EQ(start.out, "started process " + std::to_string(pid) + "\n");
  EXPECT_TRUE(Exits(pidfd, 10));
  close(pidfd);
  // Its stdout was not capspawn's: /dev/null by default.
  EXPECT_EQ(ReadFile(report), "/dev/null\n");
}

TEST_F(Suspended, AnExplicitFd1GivesTheChildCapspawnsStdout) {
  const std::string file = dir_ + "/data.json";
  // The start data in a file; the child's fd 1 is capspawn's stdout (--fd 1).
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  int err = MemFile();
  pid_t cli = StartCli(
      {"run", "--suspended", "--start-data", file, "--fd", "1", "--", "/bin/echo", "started"}, {},
      pipe_fds[1], err);
  close(pipe_fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(cli, &status, 0), cli);
  ASSERT_EQ(WEXITSTATUS(status), 0) << ReadAll(err);
  close(err);
  json j = StartData(ReadFile(file));
  ASSERT_TRUE(j.contains("pid"));
  EXPECT_EQ(ReadFile(file).back(), '\n');
  const pid_t pid = j["pid"];
  // The stopped child holds the pipe (as asked): nothing yet, no EOF either.
  pollfd p = {pipe_fds[0], POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 200), 0);
  ASSERT_EQ(RunCli({"start", "-q", std::to_string(pid)}).out, "");
  std::string out;
  char buf[256];
  ssize_t n;
  while (poll(&p, 1, 10000) == 1 && (n = read(pipe_fds[0], buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  EXPECT_EQ(out, "started\n");
}

TEST_F(Suspended, StartDataFd) {
  int data[2];
  ASSERT_EQ(pipe2(data, O_CLOEXEC), 0);
  CliOptions options;
  options.fds = {{3, data[1]}};
  CliResult r =
      RunCli({"run", "--suspended", "--start-data-fd", "3", "--", "/bin/echo", "hi"}, options);
  close(data[1]);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string line;
  char buf[512];
  ssize_t n;
  while ((n = read(data[0], buf, sizeof buf)) > 0) line.append(buf, static_cast<size_t>(n));
  close(data[0]);
  json j = StartData(line);
  ASSERT_TRUE(j.contains("pid")) << line;
  EXPECT_EQ(r.out, "");
  // Not on fd 1: the child shares capspawn's stdout, as --clone=all says.
  const pid_t pid = j["pid"];
  char link[256] = "";
  ssize_t len = readlink(("/proc/" + std::to_string(pid) + "/fd/1").c_str(), link, sizeof link - 1);
  ASSERT_GT(len, 0);
  EXPECT_EQ(std::string(link, static_cast<size_t>(len)).rfind("/memfd:cli_test", 0), 0u) << link;
}

TEST_F(Suspended, StartOptionsNeedSuspended) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "--start-data-fd", "1", "--", "/bin/true"},
        {"run", "--start-deadline", "5", "--", "/bin/true"},
        {"run", "--suspended", "--start-data-fd", "1", "--start-data", "/tmp/x", "--", "/bin/true"},
        {"run", "--suspended", "--start-deadline", "0", "--", "/bin/true"}}) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << args[1] << r.err;
    EXPECT_EQ(r.err.rfind("capspawn: USAGE: run: ", 0), 0u) << r.err;
  }
  CliResult r = RunCli({"run", "--suspended", "--start-data-fd", "9", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err, "capspawn: BAD_HANDLE: --start-data-fd 9: fd 9 is not open\n");
}

TEST_F(Suspended, TheDeadlineKillsAProcessNobodyStarted) {
  int code = -1;
  std::string out =
      Capture({"run", "--suspended", "--start-deadline", "0.5", "--", "/bin/sleep", "100"}, &code);
  ASSERT_EQ(code, 0) << err_;
  json j = StartData(out);
  const pid_t pid = j["pid"];
  int pidfd = PidfdOpen(pid);
  ASSERT_GE(pidfd, 0);
  EXPECT_EQ(State(pid), 'T');
  EXPECT_TRUE(Exits(pidfd, 10)) << "killed at the deadline";
  close(pidfd);
  // The helper (the process's parent) reaped it.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(kill(pid, 0), -1);
}

// The helper that watches the deadline keeps none of capspawn's fds: a pipe
// capspawn had (and did not hand over) reaches EOF when capspawn exits.
TEST_F(Suspended, TheDeadlineWatcherHoldsNoFdOfCapspawns) {
  int held[2];
  ASSERT_EQ(pipe2(held, O_CLOEXEC), 0);
  CliOptions options;
  options.fds = {{7, held[1]}};
  int code = -1;
  json j = StartData(Capture(
      {"run", "--suspended", "--start-deadline", "30", "--", "/bin/sleep", "100"}, &code, options));
  ASSERT_EQ(code, 0) << err_;
  close(held[1]);
  pollfd p = {held[0], POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1) << "the write end is still open somewhere";
  char c;
  EXPECT_EQ(read(held[0], &c, 1), 0) << "EOF";
  close(held[0]);
  EXPECT_EQ(State(j["pid"].get<pid_t>()), 'T') << "still waiting for its start";
}

TEST_F(Suspended, AStartBeforeTheDeadlineLetsItRun) {
  const std::string report = dir_ + "/ran";
  int code = -1;
  std::string out = Capture({"run", "--suspended", "--start-deadline", "30", "--", "/bin/sh", "-c",
                             "sleep 1; echo ran > " + report},
                            &code);
  ASSERT_EQ(code, 0) << err_;
  json j = StartData(out);
  const pid_t pid = j["pid"];
  const pid_t helper = ParentOf(pid);
  ASSERT_GT(helper, 1);
  int pidfd = PidfdOpen(pid), helper_fd = PidfdOpen(helper);
  ASSERT_GE(helper_fd, 0);
  ASSERT_EQ(RunCli({"start", std::to_string(pid)}).exit_code, 0);
  // The helper leaves as soon as the process runs, not at the deadline.
  EXPECT_TRUE(Exits(helper_fd, 10));
  EXPECT_TRUE(Exits(pidfd, 10));
  EXPECT_EQ(ReadFile(report), "ran\n") << "not killed: it ran to its end";
  close(pidfd);
  close(helper_fd);
}

TEST_F(Suspended, PsListsCreatedNeverStartedProcessesOnly) {
  int code = -1;
  json created = StartData(Capture({"run", "--suspended", "--", "/bin/sleep", "100"}, &code));
  ASSERT_EQ(code, 0) << err_;
  const pid_t pid = created["pid"];
  // An ordinary process stopped after it ran is not "created and never started".
  pid_t stopped = fork();
  if (stopped == 0) {
    execl("/bin/sleep", "sleep", "100", nullptr);
    _exit(127);
  }
  created_.push_back(stopped);
  for (int i = 0; i < 100 && State(stopped) != 'S'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(stopped, SIGSTOP);
  for (int i = 0; i < 100 && State(stopped) != 'T'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(State(stopped), 'T');

  CliResult r = RunCli({"ps", "--suspended", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json list = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << r.out;
  bool found = false;
  for (const json& p : list) {
    EXPECT_NE(p["pid"].get<pid_t>(), stopped) << "a process that ran is not listed";
    if (p["pid"].get<pid_t>() != pid) continue;
    found = true;
    EXPECT_EQ(p["entry"], created["entry"]);
    EXPECT_EQ(p["stack"], created["stack"]);
    EXPECT_EQ(p["name"], "sleep");
    EXPECT_EQ(p["exe"], "/usr/bin/sleep");
    EXPECT_EQ(p["uid"].get<uid_t>(), getuid());
  }
  EXPECT_TRUE(found) << r.out;
  r = RunCli({"ps", "--suspended"});
  EXPECT_NE(r.out.find(std::to_string(pid) + " "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind("    PID    PPID    UID      AGE COMMAND\n", 0), 0u) << r.out;

  // --older-than leaves out what is younger; --kill kills what is listed.
  r = RunCli({"ps", "--suspended", "--older-than", "86400", "--json"});
  EXPECT_EQ(r.out.find("\"pid\":" + std::to_string(pid) + ","), std::string::npos) << r.out;
  int pidfd = PidfdOpen(pid);
  // Only this test's process: other suspended processes on the machine are not ours.
  r = RunCli({"ps", "--suspended", "--kill", std::to_string(pid), std::to_string(stopped)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("killed process " + std::to_string(pid) + "\n"), std::string::npos) << r.out;
  EXPECT_TRUE(Exits(pidfd, 10));
  close(pidfd);
  EXPECT_EQ(State(stopped), 'T') << "--kill touched only the created-never-started";
  CliResult usage = RunCli({"ps"});
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
}  // namespace capspawn::cli_test
