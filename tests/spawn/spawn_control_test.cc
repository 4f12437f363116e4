// SPDX-License-Identifier: Apache-2.0
// SpawnControl: a spawned program runs with the argv it was given and its
// return code comes back through capspawn_process_wait (exit status or -signo).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

TEST(SpawnControl, ExitCodesComeBack) {
  for (int code : {0, 1, 42, 255}) {
    SCOPED_TRACE("exit " + std::to_string(code));
    ChildRun run =
        RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--exit", std::to_string(code)});
    ASSERT_EQ(run.status, CAPSPAWN_OK) << capspawn_status_string(run.status) << ": " << run.err;
    EXPECT_TRUE(run.report.complete) << run.output;
    EXPECT_EQ(run.return_code, code);
  }
}

TEST(SpawnControl, SignalDeathIsMinusSigno) {
  for (int sig : {SIGTERM, SIGUSR1, SIGKILL}) {
    SCOPED_TRACE("signal " + std::to_string(sig));
    ChildRun run =
        RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--signal", std::to_string(sig)});
    ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
    EXPECT_TRUE(run.report.complete);
    EXPECT_EQ(run.return_code, -sig);
  }
}

TEST(SpawnControl, PlainSpawnFunction) {
  const char* argv[] = {ChildPath(), "--report-fd", "-1", "--exit", "43", nullptr};
  int process = -1;
  ASSERT_EQ(capspawn_spawn(-1, CAPSPAWN_CLONE_ALL, ChildPath(), argv, &process), CAPSPAWN_OK);
  ProcessFd owner(process);
  EXPECT_GE(process, 0);
  EXPECT_EQ(Wait(process), 43);
}

TEST(SpawnControl, ArgvArrivesExactly) {
  Strings argv = {
      "not-the-path",    "", "two words", "line\nbreak", "tab\there", "h\xc3\xa9llo", "back\\slash",
      "--unknown-option"};
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), argv);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argc, static_cast<int>(argv.size()));
  EXPECT_EQ(run.report.argv, argv);
  EXPECT_EQ(run.return_code, 0);
}

TEST(SpawnControl, ManyArguments) {
  Strings argv = {ChildPath()};
  for (int i = 0; i < 2000; ++i) argv.push_back("arg" + std::to_string(i));
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), argv);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.argv, argv);
}

TEST(SpawnControl, ProcessHandleIsThePidfdOfOurChild) {
  Pipe report = MakePipe();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {TransferFd(report.write.release(), 1)});
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  ASSERT_EQ(s.raw_process_out, s.process.get());
  pid_t pid = PidOfPidfd(s.process.get());
  Report r = ParseReport(ReadAll(report.read.get()));
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(pid, r.pid);
  EXPECT_EQ(r.ppid, getpid());
  // The handle itself must not leak into later spawns.
  EXPECT_TRUE(fcntl(s.process.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_EQ(Wait(s.process.get()), 0);
}

TEST(SpawnControl, KillRunningProcess) {
  Pipe report = MakePipe();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--sleep"}, {},
                    {TransferFd(report.write.release(), 1)});
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  // The report arrives (and its fd closes) before the child sleeps.
  ASSERT_TRUE(ParseReport(ReadAll(report.read.get())).complete);
  EXPECT_EQ(capspawn_process_kill(s.process.get()), CAPSPAWN_OK);
  EXPECT_EQ(Wait(s.process.get()), -SIGKILL);
  // Killing what is already dead (and reaped) is fine.
  EXPECT_EQ(capspawn_process_kill(s.process.get()), CAPSPAWN_OK);
}

// Fuchsia's SpawnNested: a spawned program spawns in turn.
TEST(SpawnControl, NestedSpawn) {
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--spawn", ChildPath(), "43"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_TRUE(run.report.complete);
  EXPECT_EQ(run.return_code, 43);
}

TEST(SpawnControl, DynamicChildRuns) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, DynChildPath(), {DynChildPath(), "--exit", "7"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.return_code, 7);
}

}  // namespace
}  // namespace capspawn_test
