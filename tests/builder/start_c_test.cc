// SPDX-License-Identifier: Apache-2.0
// capspawn_create_without_starting / capspawn_start (C API), and the CLI's
// `capspawn run --suspended` / `capspawn start`.
#include <capspawn/start.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "builder_util.h"

namespace capspawn_test {
namespace {

struct Created {
  capspawn_status_t status = CAPSPAWN_ERR_INTERNAL;
  std::string err;
  capspawn_start_data_t data = {-1, -1, -1, 0, 0, 0, 0};
};

Created Create(uint32_t flags, const char* path, int exe_fd, const Strings& args,
               std::vector<capspawn_action_t> actions = {}, const Env& env = {}) {
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  if (env) {
    for (const std::string& e : *env) envp.push_back(e.c_str());
  }
  envp.push_back(nullptr);
  Created c;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  c.status = capspawn_create_without_starting(-1, flags, path, exe_fd, argv.data(),
                                              env ? envp.data() : nullptr, actions.size(),
                                              actions.data(), &c.data, err);
  c.err = err;
  return c;
}

// Closes the fds a successful create handed back; kills the process if the
// test did not start it (so no test leaves a stopped child behind).
class StartDataFds {
 public:
  explicit StartDataFds(const capspawn_start_data_t& d) : process_(d.process), vmar_(d.root_vmar) {}
  ~StartDataFds() {
    if (process_.valid()) {
      syscall(SYS_pidfd_send_signal, process_.get(), SIGKILL, nullptr, 0);
      siginfo_t info;
      waitid(static_cast<idtype_t>(3 /* P_PIDFD */), static_cast<id_t>(process_.get()), &info,
             WEXITED);
    }
  }
  int process() const { return process_.get(); }
  UniqueFd take_process() { return std::move(process_); }

 private:
  UniqueFd process_, vmar_;
};

TEST(CreateWithoutStarting, ByPathThenStart) {
  Pipe p = MakePipe();
  Created c = Create(CAPSPAWN_CLONE_ALL, TargetPath(Target::kStatic), -1,
                     {"pb_target", "marker", "3", "started"},
                     {TransferFd(p.write.release(), 3), SetName("suspended-c")});
  ASSERT_EQ(c.status, CAPSPAWN_OK) << c.err;
  StartDataFds fds(c.data);
  ASSERT_GE(c.data.process, 0);
  ASSERT_GE(c.data.root_vmar, 0);
  const pid_t pid = c.data.thread;
  ASSERT_GT(pid, 0);
  EXPECT_EQ(PidOfPidfd(c.data.process), pid);
  EXPECT_EQ(StateOf(pid), 'T');
  EXPECT_EQ(CommOf(pid), "suspended-c");
  std::map<uint64_t, uint64_t> auxv = ReadAuxv(pid);
  EXPECT_EQ(c.data.entry, auxv[AT_ENTRY]);
  EXPECT_EQ(c.data.vdso_base, auxv[AT_SYSINFO_EHDR]);
  EXPECT_NE(c.data.base, 0u);
  std::string why;
  std::optional<Regs> regs = PeekRegisters(pid, &why);
  ASSERT_TRUE(regs) << why;
  EXPECT_EQ(regs->pc, c.data.entry);
  EXPECT_EQ(regs->sp, c.data.stack);
  EXPECT_FALSE(Readable(p.read.get()));
  EXPECT_EQ(SettledStateOf(pid), 'T') << "still stopped after the look";

  EXPECT_EQ(capspawn_start(c.data.process), CAPSPAWN_OK);
  EXPECT_EQ(ReadAll(p.read.get()), "started");
  EXPECT_EQ(Wait(c.data.process), 0);
  UniqueFd done = fds.take_process();
}

TEST(CreateWithoutStarting, ByFdWithDynamicProgramAndDefaultLoader) {
  UniqueFd exe = OpenExecutable(TargetPath(Target::kDynamic));
  ASSERT_TRUE(exe);
  Created c = Create(CAPSPAWN_DEFAULT_LDSVC, nullptr, exe.release(), {"pb_target"});
  ASSERT_EQ(c.status, CAPSPAWN_OK) << c.err;
  StartDataFds fds(c.data);
  std::map<uint64_t, uint64_t> auxv = ReadAuxv(c.data.thread);
  EXPECT_NE(auxv[AT_BASE], 0u);
  EXPECT_EQ(c.data.base, auxv[AT_BASE]);
  EXPECT_NE(c.data.entry, auxv[AT_ENTRY]) << "a dynamic program starts in its linker";
  EXPECT_EQ(capspawn_start(c.data.process), CAPSPAWN_OK);
  EXPECT_EQ(Wait(c.data.process), 0);
  UniqueFd done = fds.take_process();
}

TEST(CreateWithoutStarting, SameFlagsAndActionsAsSpawn) {
  // CLONE_ENVIRON off with an explicit environment, a fd action, argv: as spawn.
  Pipe p = MakePipe();
  Created c = Create(CAPSPAWN_CLONE_NAMESPACE, ChildPath(), -1, {"spawn_child", "x"},
                     {TransferFd(p.write.release(), 1)}, Strings{"ONLY=1"});
  if (!ChildIsStatic() && c.status != CAPSPAWN_OK) FAIL() << c.err;
  ASSERT_EQ(c.status, CAPSPAWN_OK) << c.err;
  StartDataFds fds(c.data);
  EXPECT_EQ(capspawn_start(c.data.process), CAPSPAWN_OK);
  Report r = ParseReport(ReadAll(p.read.get()));
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.argv, (Strings{"spawn_child", "x"}));
  EXPECT_EQ(r.env, (Strings{"ONLY=1"}));
  EXPECT_EQ(r.FdNumbers(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(Wait(c.data.process), 0);
  UniqueFd done = fds.take_process();
}

TEST(CreateWithoutStarting, ErrorsConsumeHandlesAndLeaveNothing) {
  const int before = CountOpenFdsBesidesNsCache();
  {
    Pipe p = MakePipe();
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    const char* argv[] = {"pb_target", nullptr};
    capspawn_action_t a = TransferFd(p.write.release(), 3);
    EXPECT_EQ(capspawn_create_without_starting(-1, CAPSPAWN_CLONE_ALL, TargetPath(Target::kStatic),
                                               -1, argv, nullptr, 1, &a, nullptr, err),
              CAPSPAWN_ERR_INVALID_ARGS);
    EXPECT_STRNE(err, "");
    EXPECT_FALSE(FdIsOpen(a.fd.local_fd)) << "consumed";
  }
  {
    int exe = open(TargetPath(Target::kStatic), O_RDONLY | O_CLOEXEC);
    Created c = Create(CAPSPAWN_CLONE_ALL, TargetPath(Target::kStatic), exe, {"pb_target"});
    EXPECT_EQ(c.status, CAPSPAWN_ERR_INVALID_ARGS) << "path and fd";
    EXPECT_FALSE(FdIsOpen(exe));
  }
  {
    Created c = Create(CAPSPAWN_CLONE_ALL, nullptr, -1, {"pb_target"});
    EXPECT_EQ(c.status, CAPSPAWN_ERR_BAD_HANDLE);
  }
  {
    Created c = Create(CAPSPAWN_CLONE_ALL, "/nonexistent/program", -1, {"x"});
    EXPECT_EQ(c.status, CAPSPAWN_ERR_NOT_FOUND) << c.err;
    EXPECT_NE(c.err.find("/nonexistent/program"), std::string::npos);
  }
  {
    // Dynamic, no loader, no CLONE_NAMESPACE: INVALID_ARGS before any process.
    Created c = Create(0, TargetPath(Target::kDynamic), -1, {"x"});
    EXPECT_EQ(c.status, CAPSPAWN_ERR_INVALID_ARGS) << c.err;
  }
  {
    // A loader without the dynamic linker: found before any process exists,
    // the message naming the interpreter; NOT_FOUND reported as fdio does.
    TempDir empty;
    capspawn_action_t loader = AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0),
                                         OpenDirectory(empty.path()).release());
    Created c = Create(0, TargetPath(Target::kDynamic), -1, {"x"}, {loader});
    EXPECT_EQ(c.status, CAPSPAWN_ERR_INTERNAL) << c.err;
    EXPECT_NE(c.err.find("dynamic linker"), std::string::npos) << c.err;
    EXPECT_NE(c.err.find("ld-linux"), std::string::npos) << c.err;
  }
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
  EXPECT_EQ(CountOpenFdsBesidesNsCache(), before);
}

TEST(CapspawnStart, RefusesWhatIsNotAStoppedProcess) {
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(capspawn_start(null.get()), CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_EQ(capspawn_start(-1), CAPSPAWN_ERR_BAD_HANDLE);

  // A running process.
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, TargetPath(Target::kStatic), {"pb_target", "sleep"});
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  for (int i = 0; i < 200 && StateOf(PidOfPidfd(s.process.get())) != 'S'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(capspawn_start(s.process.get()), CAPSPAWN_ERR_BAD_STATE);
  // Started twice: the second finds it running (or gone).
  Created c = Create(CAPSPAWN_CLONE_ALL, TargetPath(Target::kStatic), -1, {"pb_target", "sleep"});
  ASSERT_EQ(c.status, CAPSPAWN_OK) << c.err;
  StartDataFds fds(c.data);
  EXPECT_EQ(capspawn_start(c.data.process), CAPSPAWN_OK);
  for (int i = 0; i < 200 && StateOf(c.data.thread) != 'S'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(capspawn_start(c.data.process), CAPSPAWN_ERR_BAD_STATE);
  // An exited one.
  EXPECT_EQ(capspawn_process_kill(c.data.process), CAPSPAWN_OK);
  EXPECT_EQ(Wait(c.data.process), -SIGKILL);
  EXPECT_EQ(capspawn_start(c.data.process), CAPSPAWN_ERR_BAD_STATE);
}

// ---- CLI -----------------------------------------------------------------

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

// Runs capspawn with args; `own_group`: in a process group of its own, as a
// job-control shell starts commands.
CliRun RunCapspawn(const Strings& args, bool own_group = false) {
  Pipe out = MakePipe(), err = MakePipe();
  pid_t pid = fork();
  if (pid == 0) {
    if (own_group) setpgid(0, 0);
    dup2(out.write.get(), 1);
    dup2(err.write.get(), 2);
    std::vector<char*> argv;
    std::string path = CAPSPAWN_CLI_PATH;
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  out.write.reset();
  err.write.reset();
  CliRun r;
  r.out = ReadAll(out.read.get());
  r.err = ReadAll(err.read.get());
  int st = 0;
  waitpid(pid, &st, 0);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

pid_t JsonPid(const std::string& json) {
  const std::string key = "\"pid\":";
  size_t at = json.find(key);
  if (at == std::string::npos) return -1;
  return static_cast<pid_t>(std::strtol(json.c_str() + at + key.size(), nullptr, 10));
}

bool WaitForFile(const std::string& path) {
  for (int i = 0; i < 500; ++i) {
    if (access(path.c_str(), F_OK) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class CliSuspended : public ::testing::TestWithParam<bool> {};

TEST_P(CliSuspended, RunSuspendedThenStart) {
  TempDir dir;
  const std::string marker = dir.Path("marker");
  CliRun run = RunCapspawn({"run", "--suspended", "--no-clone=stdio", "--",
                            TargetPath(Target::kStatic), "create", marker},
                           GetParam());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  const pid_t pid = JsonPid(run.out);
  ASSERT_GT(pid, 0) << run.out;
  for (const char* key : {"\"thread\":", "\"process\":", "\"root_vmar\":", "\"entry\":\"0x",
                          "\"stack\":\"0x", "\"base\":\"0x", "\"vdso_base\":\"0x"}) {
    EXPECT_NE(run.out.find(key), std::string::npos) << key << " in " << run.out;
  }
  EXPECT_EQ(run.out.back(), '\n');
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << "one JSON object on one line";
  // capspawn has exited; the process waits, and has not run.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(StateOf(pid), 'T');
  EXPECT_NE(access(marker.c_str(), F_OK), 0);
  char entry[40];
  std::snprintf(entry, sizeof entry, "\"entry\":\"0x%lx\"",
                static_cast<unsigned long>(ReadAuxv(pid)[AT_ENTRY]));
  EXPECT_NE(run.out.find(entry), std::string::npos) << run.out;

  CliRun start = RunCapspawn({"start", std::to_string(pid)});
  EXPECT_EQ(start.exit_code, 0) << start.err;
  EXPECT_TRUE(WaitForFile(marker)) << "the started process ran";
  // Not ours to reap: it was capspawn's child. Starting it again fails once it is gone.
}

INSTANTIATE_TEST_SUITE_P(ProcessGroup, CliSuspended, ::testing::Values(false, true),
                         [](const auto& info) {
                           return std::string(info.param ? "OwnGroupAsFromAShell" : "SharedGroup");
                         });

TEST(CliStart, Errors) {
  CliRun r = RunCapspawn({"start"});
  EXPECT_EQ(r.exit_code, 2);
  r = RunCapspawn({"start", "abc"});
  EXPECT_EQ(r.exit_code, 2);
  r = RunCapspawn({"start", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Usage: capspawn start"), std::string::npos);

  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, TargetPath(Target::kStatic), {"pb_target", "sleep"});
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  const pid_t pid = PidOfPidfd(s.process.get());
  for (int i = 0; i < 200 && StateOf(pid) != 'S'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r = RunCapspawn({"start", std::to_string(pid)});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err, "capspawn: BAD_STATE: process " + std::to_string(pid) +
                       " is not stopped (running, or exited)\n");
  EXPECT_EQ(capspawn_process_kill(s.process.get()), CAPSPAWN_OK);
  EXPECT_EQ(Wait(s.process.get()), -SIGKILL);

  // A pid that cannot exist (above pid_max's ceiling).
  r = RunCapspawn({"start", "2147483647"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err.rfind("capspawn: NOT_FOUND: process 2147483647", 0), 0u) << r.err;
}

TEST(CliSuspendedErrors, FailureIsReportedAndNothingIsLeft) {
  CliRun r = RunCapspawn({"run", "--suspended", "--", "/nonexistent/x"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err.rfind("capspawn: NOT_FOUND: ", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace capspawn_test
