// SPDX-License-Identifier: Apache-2.0
// `capspawn run` end to end: the real binary spawns real programs.
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "cli_runner.h"

namespace capspawn::cli_test {
namespace {

const char kMark[] = "CAPSPAWN_CLI_TEST_MARK=present";

// The lines of `env` output, sorted, so a comparison ignores order.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

bool HasLine(const std::string& text, const std::string& line) {
  auto lines = Lines(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// ---- exit codes ----------------------------------------------------------

TEST(CliRun, ExitCodeZero) {
  CliResult r = RunCli({"run", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(CliRun, ExitCodePassedThrough) {
  CliResult r = RunCli({"run", "--", "/bin/sh", "-c", "exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  r = RunCli({"run", "--", "/bin/sh", "-c", "exit 255"});
  EXPECT_EQ(r.exit_code, 255) << r.err;
}

TEST(CliRun, KilledBySignalIs128PlusN) {
  CliResult r = RunCli({"run", "--", "/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  r = RunCli({"run", "--", "/bin/sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  EXPECT_EQ(r.err, "");  // a child's death is not capspawn's failure
}

TEST(CliRun, ProgramIsLookedUpInPath) {
  CliResult r = RunCli({"run", "--", "sh", "-c", "exit 7"}, {.env = {"PATH=/usr/bin:/bin"}});
  EXPECT_EQ(r.exit_code, 7) << r.err;
}

TEST(CliRun, MissingProgramIsNotFound) {
  CliResult r = RunCli({"run", "--", "capspawn-no-such-program"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("capspawn: NOT_FOUND: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("capspawn-no-such-program"), std::string::npos) << r.err;
  r = RunCli({"run", "--", "/nonexistent/capspawn-no-such-program"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
}

TEST(CliRun, ArgumentsAfterProgramAreTheProgramsOwn) {
  // No "--": options end at PROGRAM, so --help and --env belong to echo.
  CliResult r = RunCli({"run", "/bin/echo", "--help", "--env", "X=1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "--help --env X=1\n");
}

TEST(CliRun, QuietSilencesFailureButKeepsStatus) {
  CliResult r = RunCli({"run", "--quiet", "--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err, "");
}

// ---- environment -----------------------------------------------------------

TEST(CliRunEnv, DefaultIsCallersEnvironment) {
  CliResult r = RunCli({"run", "--", "/usr/bin/env"}, {.env = {kMark}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(HasLine(r.out, kMark)) << r.out;
}

TEST(CliRunEnv, EnvAddsToCallersEnvironment) {
  CliResult r = RunCli({"run", "--env", "FOO=bar baz", "-e", "EMPTY=", "--", "/usr/bin/env"},
                       {.env = {kMark}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(HasLine(r.out, "FOO=bar baz")) << r.out;
  EXPECT_TRUE(HasLine(r.out, "EMPTY=")) << r.out;
  EXPECT_TRUE(HasLine(r.out, kMark)) << r.out;
}

TEST(CliRunEnv, EnvReplacesAVariable) {
  CliResult r = RunCli({"run", "--env", "CAPSPAWN_CLI_TEST_MARK=changed", "--", "/usr/bin/env"},
                       {.env = {kMark}});
  EXPECT_TRUE(HasLine(r.out, "CAPSPAWN_CLI_TEST_MARK=changed")) << r.out;
  EXPECT_FALSE(HasLine(r.out, kMark)) << r.out;
}

TEST(CliRunEnv, ClearEnvLeavesOnlyLaterVariables) {
  CliResult r = RunCli({"run", "--env", "A=1", "--clear-env", "--env", "B=2", "--", "/usr/bin/env"},
                       {.env = {kMark}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "B=2\n");
}

TEST(CliRunEnv, UnsetEnvRemovesOnlyThatVariable) {
  CliResult r = RunCli({"run", "--unset-env", "CAPSPAWN_CLI_TEST_MARK", "--", "/usr/bin/env"},
                       {.env = {kMark, "CAPSPAWN_CLI_TEST_OTHER=kept"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(HasLine(r.out, kMark)) << r.out;
  EXPECT_TRUE(HasLine(r.out, "CAPSPAWN_CLI_TEST_OTHER=kept")) << r.out;
}

TEST(CliRunEnv, NoCloneEnvironGivesNoVariables) {
  CliResult r = RunCli({"run", "--no-clone=environ", "--", "/usr/bin/env"}, {.env = {kMark}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(CliRunEnv, NoCloneEnvironWithEnvStartsEmpty) {
  CliResult r =
      RunCli({"run", "--no-clone=environ", "--env", "A=1", "--", "/usr/bin/env"}, {.env = {kMark}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "A=1\n");
}

TEST(CliRunEnv, EnvFileSetsEachLine) {
  int file = MemFile();
  const std::string content = "# a comment\n\nFILE_A=1\nFILE_B=two words\nB=from-file\n";
  ASSERT_EQ(write(file, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  CliResult r = RunCli({"run", "--clear-env", "--env", "B=before", "--env-file", "/proc/self/fd/9",
                        "--env", "C=after", "--", "/usr/bin/env"},
                       {.fds = {{9, file}}});
  close(file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out),
            (std::vector<std::string>{"B=from-file", "C=after", "FILE_A=1", "FILE_B=two words"}));
}

TEST(CliRunEnv, EnvFileErrorsNameTheFile) {
  CliResult r = RunCli({"run", "--env-file", "/nonexistent/app.env", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/app.env"), std::string::npos) << r.err;

  int file = MemFile();
  const std::string content = "OK=1\nnot an assignment\n";
  ASSERT_EQ(write(file, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  r = RunCli({"run", "--env-file", "/proc/self/fd/9", "--", "/bin/true"}, {.fds = {{9, file}}});
  close(file);
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("INVALID_ARGS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/proc/self/fd/9:2:"), std::string::npos) << r.err;
}

// ---- flags -------------------------------------------------------------------

TEST(CliRunFlags, NoCloneStdioSilencesTheChild) {
  CliResult r =
      RunCli({"run", "--no-clone=stdio", "--", "/bin/sh", "-c", "echo out; echo err >&2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST(CliRunFlags, FdActionBeatsMissingStdio) {
  CliResult r = RunCli(
      {"run", "--no-clone=stdio", "--fd", "1", "--", "/bin/sh", "-c", "echo out; echo err >&2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliRunFlags, RepeatedCloneOptionsAddUp) {
  // The first --clone replaces "all": without environ the child has no variables.
  CliResult r = RunCli({"run", "--clone=stdio,namespace", "--", "/usr/bin/env"}, {.env = {kMark}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = RunCli({"run", "--clone=stdio", "--clone=namespace,environ", "--", "/usr/bin/env"},
             {.env = {kMark}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(HasLine(r.out, kMark)) << r.out;
}

// ---- fds -----------------------------------------------------------------------

TEST(CliRunFd, CloneFdReachesTheChild) {
  int file = MemFile();
  CliResult r =
      RunCli({"run", "--fd", "5=7", "--", "/bin/sh", "-c", "echo hi >&5"}, {.fds = {{7, file}}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(file), "hi\n");
  close(file);
}

TEST(CliRunFd, CloneFdWithoutSourceKeepsTheNumber) {
  int file = MemFile();
  CliResult r =
      RunCli({"run", "--fd", "6", "--", "/bin/sh", "-c", "echo six >&6"}, {.fds = {{6, file}}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(file), "six\n");
  close(file);
}

TEST(CliRunFd, TransferFdReachesTheChild) {
  int file = MemFile();
  CliResult r = RunCli({"run", "--transfer-fd", "5=7", "--", "/bin/sh", "-c", "echo moved >&5"},
                       {.fds = {{7, file}}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(file), "moved\n");
  close(file);
}

TEST(CliRunFd, ChildSeesOnlyWhatItIsHanded) {
  // capspawn holds fd 9 and its own internal fds; the child gets 0-2 and 5.
  int file = MemFile();
  CliResult r =
      RunCli({"run", "--fd", "5=1", "--", "/bin/sh", "-c", "ls /proc/$$/fd"}, {.fds = {{9, file}}});
  close(file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out), (std::vector<std::string>{"0", "1", "2", "5"})) << r.out;
}

TEST(CliRunFd, ClosedStdioStaysEmptyInTheChild) {
  // capspawn opens fds of its own (its signal pipe, directories); with its fds
  // 0 and 1 closed they would take those numbers and reach the child as stdio.
  CliResult r = RunCli({"run", "--", "/bin/sh", "-c",
                        "echo \"$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1)\" >&2"},
                       {.closed = {0, 1}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "/dev/null /dev/null\n");
}

TEST(CliRunFd, ClosedSourceIsBadHandle) {
  for (const char* option : {"--fd", "--transfer-fd"}) {
    CliResult r = RunCli({"run", option, "5=987", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125) << option;
    EXPECT_NE(r.err.find("capspawn: BAD_HANDLE: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("987"), std::string::npos) << r.err;
  }
}

TEST(CliRunFd, LibraryRulesSurfaceWithTheirStatus) {
  CliResult r = RunCli({"run", "--fd", "2000=1", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("OUT_OF_RANGE"), std::string::npos) << r.err;
  r = RunCli({"run", "--fd", "5=1", "--fd", "5=2", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("ALREADY_EXISTS"), std::string::npos) << r.err;
  // The second action option, as typed, not the library's "action 1".
  EXPECT_EQ(r.err.rfind("capspawn: ALREADY_EXISTS: --fd 5=2: ", 0), 0u) << r.err;
}

// ---- typed handles -------------------------------------------------------------

// Runs a child that prints LISTEN_FDS, LISTEN_FDNAMES, whether LISTEN_PID is
// its own pid, and writes "data" to fd 3 (the first typed handle).
struct HandleRun {
  CliResult result;
  std::string written;
};
HandleRun RunWithHandle(const std::string& id) {
  int file = MemFile();
  HandleRun run;
  run.result = RunCli({"run", "--no-clone=job", "--handle", id + "=7", "--", "/bin/sh", "-c",
                       "echo \"$LISTEN_FDS $LISTEN_FDNAMES $([ \"$LISTEN_PID\" = $$ ] && echo "
                       "own-pid)\"; echo data >&3"},
                      {.fds = {{7, file}}});
  run.written = ReadAll(file);
  close(file);
  return run;
}

TEST(CliRunHandle, User0IsSeenThroughListenFdNames) {
  HandleRun run = RunWithHandle("user0.0");
  EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_EQ(run.result.out, "1 user0.0 own-pid\n");
  EXPECT_EQ(run.written, "data\n");
}

TEST(CliRunHandle, IdSpellings) {
  const std::pair<const char*, const char*> cases[] = {
      {"user0", "user0.0"},
      {"0xf0", "user0.0"},
      {"240", "user0.0"},
      {"user1.3", "user1.3"},
      {"0xf2.7", "user2.7"},
      {"0x000300f1", "user1.3"},
      {"directory_request", "directory_request.0"},
      {"0x1d.2", "vmo_component_config.2"},
  };
  for (const auto& [id, name] : cases) {
    HandleRun run = RunWithHandle(id);
    EXPECT_EQ(run.result.exit_code, 0) << id << ": " << run.result.err;
    EXPECT_EQ(run.result.out, std::string("1 ") + name + " own-pid\n") << id;
    EXPECT_EQ(run.written, "data\n") << id;
  }
}

TEST(CliRunHandle, FdTypeLandsAtItsNumber) {
  int file = MemFile();
  CliResult r = RunCli({"run", "--handle", "fd.5=7", "--", "/bin/sh", "-c",
                        "echo \"[$LISTEN_FDNAMES]\"; echo five >&5"},
                       {.fds = {{7, file}}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[]\n");
  EXPECT_EQ(ReadAll(file), "five\n");
  close(file);
}

TEST(CliRunHandle, HandingACopyKeepsCapspawnsFd) {
  // ADD_HANDLE consumes its fd and the library refuses one fd consumed twice;
  // capspawn hands a copy each time, so one fd can back several handles.
  int file = MemFile();
  CliResult r = RunCli({"run", "--no-clone=job", "--handle", "user0=7", "--handle", "user1=7",
                        "--transfer-fd", "6=7", "--", "/bin/sh", "-c",
                        "echo \"$LISTEN_FDNAMES\"; echo a >&3; echo b >&4; echo c >&6"},
                       {.fds = {{7, file}}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "user0.0:user1.0\n");
  EXPECT_EQ(ReadAll(file), "a\nb\nc\n");
  close(file);
}

TEST(CliRunHandle, BadHandles) {
  CliResult r = RunCli({"run", "--handle", "user0=987", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("BAD_HANDLE"), std::string::npos) << r.err;
  r = RunCli({"run", "--handle", "0x100=1", "--", "/bin/true"});  // reserved bits
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("INVALID_ARGS"), std::string::npos) << r.err;
}

// ---- program, directories, job ---------------------------------------------------

TEST(CliRunVmo, SpawnsTheOpenedFile) {
  CliResult r = RunCli({"run", "--vmo", "--", "/bin/sh", "-c", "exit 4"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  r = RunCli({"run", "--vmo", "--", "sh", "-c", "exit 5"}, {.env = {"PATH=/usr/bin:/bin"}});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  r = RunCli({"run", "--vmo", "--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/program"), std::string::npos) << r.err;
}

TEST(CliRunNs, MissingDirectoryIsNamed) {
  CliResult r = RunCli({"run", "--ns", "/data=/nonexistent/dir", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/dir"), std::string::npos) << r.err;
}

TEST(CliRunJob, MissingOrClosedJob) {
  CliResult r = RunCli({"run", "--job", "/nonexistent/cgroup", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
  r = RunCli({"run", "--job", "/proc", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("WRONG_TYPE"), std::string::npos) << r.err;
  r = RunCli({"run", "--job", "987", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("BAD_HANDLE"), std::string::npos) << r.err;
}

// The cgroup2 directory this test runs in.
std::string OwnCgroupDir() {
  std::string mount;
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line);
    std::string skip;
    fields >> skip >> skip >> skip >> skip >> mount;
    break;
  }
  std::ifstream cgroup("/proc/self/cgroup");
  for (std::string line; std::getline(cgroup, line);) {
    if (line.rfind("0::", 0) == 0 && !mount.empty()) return mount + line.substr(3);
  }
  return "";
}

TEST(CliRunJob, SpawnsIntoTheJob) {
  std::string own = OwnCgroupDir();
  if (own.empty()) GTEST_SKIP() << "no cgroup2 mount";
  if (own.back() != '/') own += '/';
  std::string job = own + "capspawn-cli-test-" + std::to_string(getpid());
  if (mkdir(job.c_str(), 0755) != 0) {
    GTEST_SKIP() << "cannot create a cgroup under " << own << ": " << strerror(errno)
                 << " (needs root or a delegated subtree)";
  }
  std::string relative = job.substr(job.find("capspawn-cli-test-"));
  CliResult by_path = RunCli({"run", "--job", job, "--", "/bin/cat", "/proc/self/cgroup"});
  int dir = open(job.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CliResult by_fd =
      RunCli({"run", "--job", "9", "--", "/bin/cat", "/proc/self/cgroup"}, {.fds = {{9, dir}}});
  // A bare name is relative to the default job, as in `capspawn job`.
  CliResult by_name = RunCli({"run", "--job", relative, "--", "/bin/cat", "/proc/self/cgroup"});
  close(dir);
  rmdir(job.c_str());
  EXPECT_EQ(by_path.exit_code, 0) << by_path.err;
  EXPECT_NE(by_path.out.find("0::/"), std::string::npos) << by_path.out;
  EXPECT_NE(by_path.out.find(relative + "\n"), std::string::npos) << by_path.out;
  EXPECT_EQ(by_fd.exit_code, 0) << by_fd.err;
  EXPECT_NE(by_fd.out.find(relative + "\n"), std::string::npos) << by_fd.out;
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_NE(by_name.out.find(relative + "\n"), std::string::npos) << by_name.out;
}

// ---- waiting: pid, timeout, signals ------------------------------------------------

TEST(CliRunWait, PrintPidNamesTheChild) {
  CliResult r = RunCli({"run", "--print-pid", "--", "/bin/sh", "-c", "echo $$"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "capspawn: pid " + r.out);
}

TEST(CliRunWait, TimeoutKillsTheChild) {
  CliResult r = RunCli({"run", "--timeout", "0.2", "--print-pid", "--", "/bin/sleep", "1000"});
  EXPECT_EQ(r.exit_code, 124) << r.err;
  EXPECT_NE(r.err.find("TIMED_OUT"), std::string::npos) << r.err;
  int pid = 0;
  ASSERT_EQ(sscanf(r.err.c_str(), "capspawn: pid %d", &pid), 1) << r.err;
  // capspawn waited for the killed child before exiting: it is gone.
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(CliRunWait, TimeoutNotReachedKeepsTheChildsCode) {
  CliResult r = RunCli({"run", "--timeout", "600", "--", "/bin/sh", "-c", "exit 6"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
}

TEST(CliRunWait, SignalsToCapspawnReachTheChild) {
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  int out = MemFile(), err = MemFile();
  // The timeout only bounds a broken build; it never fires when forwarding works.
  pid_t pid = StartCli({"run", "--timeout", "120", "--fd", "5=7", "--", "/bin/sh", "-c",
                        "echo ready >&5; exec /bin/sleep 1000"},
                       {.fds = {{7, ready[1]}}}, out, err);
  ASSERT_GT(pid, 0);
  close(ready[1]);
  char buf[6] = {};
  ASSERT_EQ(read(ready[0], buf, sizeof(buf)), 6);  // the child runs
  close(ready[0]);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "capspawn itself died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << ReadAll(err);
  close(out);
  close(err);
}

}  // namespace
}  // namespace capspawn::cli_test

namespace capspawn::cli_test {
namespace {

// The namespace presets bwrap users expect, together (docs/cli.md).
TEST(CliRunNamespace, PresetsBuildTheChildsFilesystem) {
  if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "/bin/busybox is not installed";
  char bin[PATH_MAX];
  ASSERT_NE(realpath("/bin/busybox", bin), nullptr);
  std::string bin_dir(bin);
  bin_dir.resize(bin_dir.rfind('/'));
  char tmpl[] = "/tmp/capspawn-cli-ns-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  CliResult r = RunCli({"run", "--clone=stdio", "--ro-ns", "/bb=" + bin_dir, "--ns", "/d=" + dir,
                        "--tmpfs", "/tmp", "--proc", "--dev-minimal", "/bin/busybox", "sh", "-c",
                        "ls /; echo x > /tmp/f && cat /tmp/f; echo hi > /dev/null && echo devok; "
                        "ls /dev; ls /proc/self/status; echo $$; touch /d/w && echo rw; "
                        "touch /bb/x 2>/dev/null || echo ro"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "bb\nd\ndev\nproc\ntmp\nx\ndevok\nnull\nurandom\nzero\n/proc/self/status\n1\nrw\nro\n");
  struct stat st;
  EXPECT_EQ(stat((dir + "/w").c_str(), &st), 0) << "a --ns entry writes to the directory itself";
  unlink((dir + "/w").c_str());
  rmdir(dir.c_str());
}

TEST(CliRunNamespace, LdsvcRunsADynamicProgram) {
  const char* libdir = "/usr/lib/x86_64-linux-gnu";
  if (access("/usr/bin/python3", X_OK) != 0 || access(libdir, F_OK) != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 and " << libdir;
  }
  CliResult r =
      RunCli({"run", "--clone=stdio", "--ro-ns", "/usr=/usr", "--ldsvc", libdir, "/usr/bin/python3",
              "-S", "-c", "import os; print(sorted(os.listdir('/')))"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "['lib', 'lib64', 'usr']\n");

  // Without a loader: INVALID_ARGS naming the interpreter, before any process exists.
  r = RunCli({"run", "--clone=stdio", "--ro-ns", "/usr=/usr", "/usr/bin/python3", "-c", "1"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("INVALID_ARGS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ld-linux"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace capspawn::cli_test
