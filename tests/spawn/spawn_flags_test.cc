// SPDX-License-Identifier: Apache-2.0
// SpawnFlags: what each CAPSPAWN_CLONE_* bit shares with the child, and that
// nothing is shared without it.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

extern char** environ;

namespace capspawn_test {
namespace {

Strings ParentEnviron() {
  Strings out;
  for (char** e = environ; e && *e; ++e) out.push_back(*e);
  return out;
}

std::string ParentCgroup() {
  std::string s = ReadFileBytes("/proc/self/cgroup");
  size_t at = s.find("0::");
  if (at == std::string::npos) return "?";
  s = s.substr(at + 3);
  return s.substr(0, s.find('\n'));
}

void ExpectDevNull(const Report& r, int fd) {
  SCOPED_TRACE("fd " + std::to_string(fd));
  auto it = r.fds.find(fd);
  ASSERT_NE(it, r.fds.end()) << "not open";
  EXPECT_EQ(it->second.type, "chr");
  EXPECT_EQ(it->second.path, "/dev/null");
}

void ExpectSameFile(const Report& r, int child_fd, int parent_fd) {
  SCOPED_TRACE("child fd " + std::to_string(child_fd) + " vs parent fd " +
               std::to_string(parent_fd));
  auto it = r.fds.find(child_fd);
  ASSERT_NE(it, r.fds.end()) << "not open in the child";
  EXPECT_EQ(it->second.dev, FdDev(parent_fd));
  EXPECT_EQ(it->second.ino, FdIno(parent_fd));
}

TEST(SpawnFlags, NamespaceOnlySharesNothingElse) {
  ::setenv("CAPSPAWN_TEST_MARKER", "1", 1);
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_NAMESPACE, ChildPath(), {ChildPath(), "--report-fd", "7"}, {}, {}, 7);
  ::unsetenv("CAPSPAWN_TEST_MARKER");
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 7}));
  for (int fd : {0, 1, 2}) ExpectDevNull(run.report, fd);
  EXPECT_TRUE(run.report.env.empty());
  EXPECT_TRUE(run.report.handles.empty());
}

TEST(SpawnFlags, CloneStdio) {
  // Distinct, recognisable objects at the caller's 0, 1 and 2.
  Pipe in = MakePipe(), out = MakePipe(), err = MakePipe();
  Pipe report = MakePipe();
  Spawned s;
  std::string dev[3];
  uint64_t ino[3];
  {
    FdSwap s0(0, in.read.get()), s1(1, out.write.get()), s2(2, err.write.get());
    for (int fd = 0; fd < 3; ++fd) {
      dev[fd] = FdDev(fd);
      ino[fd] = FdIno(fd);
    }
    s = Spawn(kNsStdio, ChildPath(), {ChildPath(), "--report-fd", "5"}, {},
              {TransferFd(report.write.release(), 5)});
  }
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  Report r = ParseReport(ReadAll(report.read.get()));
  EXPECT_EQ(Wait(s.process.get()), 0);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.FdNumbers(), (std::vector<int>{0, 1, 2, 5}));
  for (int fd = 0; fd < 3; ++fd) {
    EXPECT_EQ(r.fds[fd].dev, dev[fd]) << fd;
    EXPECT_EQ(r.fds[fd].ino, ino[fd]) << fd;
    EXPECT_EQ(r.fds[fd].type, "fifo") << fd;
  }
}

// fdio: closed stdio fds are skipped without an error; Linux programs then get
// /dev/null there.
TEST(SpawnFlags, CloneStdioSkipsClosedFds) {
  Pipe report = MakePipe();
  Spawned s;
  {
    FdSwap closed0(0, -1), closed2(2, -1);
    s = Spawn(kNsStdio, ChildPath(), {ChildPath(), "--report-fd", "5"}, {},
              {TransferFd(report.write.release(), 5)});
    MoveAboveStdio(s.process);  // it may have taken the free 0 or 2
  }
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  Report r = ParseReport(ReadAll(report.read.get()));
  EXPECT_EQ(Wait(s.process.get()), 0);
  ASSERT_TRUE(r.complete);
  ExpectDevNull(r, 0);
  ExpectDevNull(r, 2);
  ExpectSameFile(r, 1, 1);
}

TEST(SpawnFlags, CloneEnviron) {
  ::setenv("CAPSPAWN_TEST_MARKER", "with spaces and = signs", 1);
  Strings parent = ParentEnviron();
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_ENVIRON, ChildPath(), {ChildPath()});
  ::unsetenv("CAPSPAWN_TEST_MARKER");
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, parent);
  EXPECT_EQ(run.report.Getenv("CAPSPAWN_TEST_MARKER"), "with spaces and = signs");
}

// CLONE_JOB with the default job hands nothing: the child is simply in the
// caller's cgroup.
TEST(SpawnFlags, CloneJobWithDefaultJob) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_JOB, ChildPath(),
                          {ChildPath(), "--handles", "3"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(run.report.HasEnvPrefix("LISTEN_"));
  EXPECT_EQ(run.report.handles[CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0)].fd, -1);
  EXPECT_EQ(run.report.cgroup, ParentCgroup());
}

// Linux has one system clock: the flag is accepted and hands nothing.
TEST(SpawnFlags, CloneUtcClockHasNoEffect) {
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_UTC_CLOCK, ChildPath(), {ChildPath()});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(run.report.env.empty());
}

TEST(SpawnFlags, DefaultLdsvcRunsDynamicChild) {
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_DEFAULT_LDSVC, DynChildPath(), {DynChildPath()});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(run.report.HasEnvPrefix("LISTEN_"));
}

TEST(SpawnFlags, CloneAllSharesStdioEnvironAndCgroup) {
  ::setenv("CAPSPAWN_TEST_MARKER", "all", 1);
  Strings parent = ParentEnviron();
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--report-fd", "9"}, {}, {}, 9);
  ::unsetenv("CAPSPAWN_TEST_MARKER");
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, parent);
  EXPECT_EQ(run.report.cgroup, ParentCgroup());
  for (int fd = 0; fd < 3; ++fd) {
    if (FdIsOpen(fd)) {
      ExpectSameFile(run.report, fd, fd);
    } else {
      ExpectDevNull(run.report, fd);
    }
  }
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 9}));
}

TEST(SpawnFlags, EachFlagWithNamespaceSucceeds) {
  for (uint32_t flag : {CAPSPAWN_CLONE_JOB, CAPSPAWN_DEFAULT_LDSVC, CAPSPAWN_CLONE_STDIO,
                        CAPSPAWN_CLONE_ENVIRON, CAPSPAWN_CLONE_UTC_CLOCK, CAPSPAWN_CLONE_ALL}) {
    SCOPED_TRACE(flag);
    ChildRun run =
        RunChild(CAPSPAWN_CLONE_NAMESPACE | flag, ChildPath(), {ChildPath(), "--exit", "56"});
    ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
    EXPECT_TRUE(run.report.complete);
    EXPECT_EQ(run.return_code, 56);
  }
}

// Without CLONE_NAMESPACE the child gets a private filesystem (what it
// contains is tests/namespace's business); what it is handed is the same.
// (An explicit environment: the caller's may carry sanitizer options that
// cannot work without /proc.)
TEST(SpawnFlags, WithoutNamespaceTheRestIsTheSame) {
  Strings env = {"CAPSPAWN_TEST_MARKER=no-ns"};
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_STDIO | CAPSPAWN_CLONE_ENVIRON | CAPSPAWN_DEFAULT_LDSVC, ChildPath(),
               {ChildPath(), "--report-fd", "5", "--exit", "51"}, env, {}, 5);
  if (run.status == CAPSPAWN_ERR_NOT_SUPPORTED && geteuid() != 0) {
    GTEST_SKIP() << "this host forbids unprivileged user namespaces: " << run.err;
  }
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.return_code, 51);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 5}));
  EXPECT_EQ(run.report.fds[5].type, "fifo");
  EXPECT_EQ(run.report.env, env);
}

// fdio's "flags none" case: a dynamic program with neither the caller's
// filesystem nor a loader cannot run, and says which interpreter it lacks.
TEST(SpawnFlags, DynamicProgramWithoutNamespaceNeedsALoader) {
  std::string elf = ReadFileBytes(DynChildPath());
  const std::string interp = "/lib64/ld-linux-x86-64.so.2";
  ASSERT_NE(elf.find(interp), std::string::npos);
  Spawned s = Spawn(CAPSPAWN_CLONE_STDIO, DynChildPath(), {DynChildPath()});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_NE(s.err.find(interp), std::string::npos) << s.err;
  EXPECT_EQ(s.raw_process_out, -1);
  EXPECT_FALSE(HasWaitableChild());

  ChildRun run = RunChild(CAPSPAWN_DEFAULT_LDSVC, DynChildPath(), {DynChildPath(), "--exit", "51"});
  if (run.status == CAPSPAWN_ERR_NOT_SUPPORTED && geteuid() != 0) {
    GTEST_SKIP() << "this host forbids unprivileged user namespaces: " << run.err;
  }
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.return_code, 51);
}

}  // namespace
}  // namespace capspawn_test
