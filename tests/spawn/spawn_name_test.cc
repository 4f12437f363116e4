// SPDX-License-Identifier: Apache-2.0
// SpawnActionsSetName: the process name /proc/PID/comm shows. Linux sets comm
// at exec from the executable file's name (15 bytes); SET_NAME (the last one
// wins) replaces it before the program's first instruction (docs/spawn.md).
// Each expectation is its own TEST so the documented semantics can be
// followed one by one.
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

struct Named {
  capspawn_status_t status = CAPSPAWN_ERR_INTERNAL;
  std::string err;
  std::string comm_seen_by_parent;  // /proc/PID/comm while the child is alive
  Report report;                    // comm_seen by the child itself
};

// Spawns `path`, waits until it runs (its exec, and so the kernel's naming,
// is complete), reads /proc/PID/comm while it waits on a gate, then lets it
// report.
Named SpawnAndLookAtName(const std::string& path, const Strings& argv,
                         std::vector<capspawn_action_t> actions) {
  Named n;
  Pipe gate = MakePipe(), report = MakePipe(), ready = MakePipe();
  Strings full = argv;
  full.insert(full.end(), {"--ready-fd", "7", "--wait-fd", "8"});
  actions.push_back(TransferFd(ready.write.release(), 7));
  actions.push_back(TransferFd(gate.read.release(), 8));
  actions.push_back(TransferFd(report.write.release(), 1));
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, path, full, {}, actions);
  n.status = s.status;
  n.err = s.err;
  if (s.status != CAPSPAWN_OK) return n;
  EXPECT_EQ(ReadAll(ready.read.get()), "R");
  n.comm_seen_by_parent = CommOf(PidOfPidfd(s.process.get()));
  gate.write.reset();
  n.report = ParseReport(ReadAll(report.read.get()));
  EXPECT_EQ(Wait(s.process.get()), 0);
  return n;
}

TEST(SpawnActionsSetName, DefaultNameIsTheExecutablesFileName) {
  TempDir dir;
  std::string path = dir.CopyFile(ChildPath(), "spawn_child_with_a_long_name");
  Named n = SpawnAndLookAtName(path, {"argv0-is-not-the-name"}, {});
  ASSERT_EQ(n.status, CAPSPAWN_OK) << n.err;
  EXPECT_EQ(n.comm_seen_by_parent, "spawn_child_wit");
  EXPECT_EQ(n.report.comm, "spawn_child_wit");
}

TEST(SpawnActionsSetName, LastNameWins) {
  Named n = SpawnAndLookAtName(ChildPath(), {ChildPath()},
                               {SetName("proc-name-0"), SetName("proc-name-1")});
  ASSERT_EQ(n.status, CAPSPAWN_OK) << n.err;
  EXPECT_EQ(n.comm_seen_by_parent, "proc-name-1");
  EXPECT_EQ(n.report.comm, "proc-name-1");
}

TEST(SpawnActionsSetName, LongNameKeepsItsFirst15Bytes) {
  Named n = SpawnAndLookAtName(ChildPath(), {ChildPath()}, {SetName("a-rather-long-process-name")});
  ASSERT_EQ(n.status, CAPSPAWN_OK) << n.err;
  EXPECT_EQ(n.comm_seen_by_parent, CommOfName("a-rather-long-process-name"));
  EXPECT_EQ(n.report.comm, "a-rather-long-p");
}

// Over the Launcher protocol's 32 bytes: in-process as through the launcher
// (spawn.via_launcher), whose client keeps the first 31 as fdio does.
TEST(SpawnActionsSetName, ANameOverThirtyTwoBytesKeepsItsFirst15Bytes) {
  const std::string name = "forty-byte-name-" + std::string(24, 'z');
  ASSERT_EQ(name.size(), 40u);
  Named n = SpawnAndLookAtName(ChildPath(), {ChildPath()}, {SetName(name.c_str())});
  ASSERT_EQ(n.status, CAPSPAWN_OK) << n.err;
  EXPECT_EQ(n.report.comm, "forty-byte-name");
}

// The name is in place when the call returns (docs/spawn.md): no waiting.
TEST(SpawnActionsSetName, NameIsSetWhenSpawnReturns) {
  Pipe gate = MakePipe();
  Spawned s =
      Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--report-fd", "-1", "--wait-fd", "8"},
            {}, {SetName("early-name"), TransferFd(gate.read.release(), 8)});
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  EXPECT_EQ(CommOf(PidOfPidfd(s.process.get())), "early-name");
  gate.write.reset();
  EXPECT_EQ(Wait(s.process.get()), 0);
}

// A name that is also the file name, and the dynamic program.
TEST(SpawnActionsSetName, DynamicProgramIsNamedToo) {
  Named n = SpawnAndLookAtName(DynChildPath(), {DynChildPath()}, {SetName("dyn-named")});
  ASSERT_EQ(n.status, CAPSPAWN_OK) << n.err;
  EXPECT_EQ(n.comm_seen_by_parent, "dyn-named");
  EXPECT_EQ(n.report.comm, "dyn-named");
  EXPECT_TRUE(n.report.complete);
}

// The name goes to whatever finally runs: the interpreter of a #! script.
TEST(SpawnActionsSetName, ScriptIsNamedToo) {
  TempDir dir;
  std::string script = dir.WriteFile("script", "#!" + std::string(ChildPath()) + "\n");
  Named n = SpawnAndLookAtName(script, {script}, {SetName("script-named")});
  ASSERT_EQ(n.status, CAPSPAWN_OK) << n.err;
  EXPECT_EQ(n.comm_seen_by_parent, "script-named");
  EXPECT_EQ(n.report.comm, "script-named");
}

// Every SET_NAME is validated, not only the last.
TEST(SpawnActionsSetName, EveryNameIsValidated) {
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {SetName(nullptr), SetName("fine")});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_EQ(s.raw_process_out, -1);
}

TEST(SpawnActionsSetName, NameDoesNotChangeArgv) {
  Named n = SpawnAndLookAtName(ChildPath(), {"my-argv0", "x"}, {SetName("other-name")});
  ASSERT_EQ(n.status, CAPSPAWN_OK) << n.err;
  ASSERT_TRUE(n.report.complete);
  EXPECT_EQ(n.report.argv, (Strings{"my-argv0", "x", "--ready-fd", "7", "--wait-fd", "8"}));
}

TEST(SpawnActionsSetName, NullNameIsInvalidArgs) {
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {SetName("fine"), SetName(nullptr)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_EQ(s.raw_process_out, -1);
  EXPECT_FALSE(HasWaitableChild());
}

}  // namespace
}  // namespace capspawn_test
