// SPDX-License-Identifier: Apache-2.0
// SpawnActionsFd: CLONE_FD and TRANSFER_FD place the caller's fds at the
// targets asked for — and only those — with fdio's rules for ranges,
// repeated targets, stdio, and consuming transferred fds.
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

void ExpectSameFile(const Report& r, int child_fd, int parent_fd) {
  SCOPED_TRACE("child fd " + std::to_string(child_fd));
  auto it = r.fds.find(child_fd);
  ASSERT_NE(it, r.fds.end()) << "not open in the child";
  EXPECT_EQ(it->second.dev, FdDev(parent_fd));
  EXPECT_EQ(it->second.ino, FdIno(parent_fd));
}

TEST(SpawnActionsFd, CloneFdKeepsTheCallersFd) {
  Pipe data = MakePipe();
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--write-fd", "21", "through-21"}, {},
               {CloneFd(data.write.get(), 21)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.return_code, 0);
  ExpectSameFile(run.report, 21, data.write.get());
  EXPECT_TRUE(FdIsOpen(data.write.get()));
  // The caller's fd flags are untouched.
  EXPECT_TRUE(fcntl(data.write.get(), F_GETFD) & FD_CLOEXEC);
  data.write.reset();
  EXPECT_EQ(ReadAll(data.read.get()), "through-21");
}

TEST(SpawnActionsFd, TransferFdClosesTheCallersFd) {
  Pipe data = MakePipe();
  UniqueFd keep_identity(dup(data.write.get()));  // to compare inodes after the transfer
  int transferred = data.write.release();
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--write-fd", "21", "moved"}, {},
               {TransferFd(transferred, 21)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  ExpectSameFile(run.report, 21, keep_identity.get());
  keep_identity.reset();
  // Only the child held a write end: EOF comes when it exits.
  EXPECT_EQ(ReadAll(data.read.get()), "moved");
}

TEST(SpawnActionsFd, TransferredFdIsClosedRightAfterSuccess) {
  Pipe data = MakePipe();
  int transferred = data.write.release();
  Pipe report = MakePipe();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {TransferFd(transferred, 21), TransferFd(report.write.release(), 1)});
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  EXPECT_FALSE(FdIsOpen(transferred));
  ReadAll(report.read.get());
  EXPECT_EQ(Wait(s.process.get()), 0);
}

// fdio's clone-and-transfer case: one fd cloned to 21 and transferred to 22.
TEST(SpawnActionsFd, CloneThenTransferTheSameFd) {
  Pipe data = MakePipe();
  UniqueFd identity(dup(data.write.get()));
  int fd = data.write.release();
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                          {CloneFd(fd, 21), TransferFd(fd, 22)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_FALSE(FdIsOpen(fd));
  ExpectSameFile(run.report, 21, identity.get());
  ExpectSameFile(run.report, 22, identity.get());
}

TEST(SpawnActionsFd, TransferConsumedWhateverFails) {
  struct Case {
    const char* what;
    uint32_t flags;
    const char* path;
    bool null_argv;
    bool bad_action_first;
    bool bad_action_last;
    bool unknown_action = false;
  };
  const Case cases[] = {
      {"later action fails", CAPSPAWN_CLONE_ALL, ChildPath(), false, false, true},
      {"earlier action fails", CAPSPAWN_CLONE_ALL, ChildPath(), false, true, false},
      {"path does not exist", CAPSPAWN_CLONE_ALL, "/bogus/path", false, false, false},
      {"argv is NULL", CAPSPAWN_CLONE_ALL, ChildPath(), true, false, false},
      {"flags invalid", 0x10000u | CAPSPAWN_CLONE_ALL, ChildPath(), false, false, false},
      {"unknown action", CAPSPAWN_CLONE_ALL, ChildPath(), false, false, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Pipe a = MakePipe(), b = MakePipe();
    int ta = a.write.release(), tb = b.write.release();
    std::vector<capspawn_action_t> actions;
    if (c.bad_action_first) actions.push_back(CloneFd(987, 30));
    actions.push_back(TransferFd(ta, 10));
    actions.push_back(TransferFd(tb, 11));
    if (c.bad_action_last) actions.push_back(CloneFd(987, 31));
    if (c.unknown_action) {
      capspawn_action_t bogus{};
      bogus.action = 77;
      actions.push_back(bogus);
    }
    const char* argv[] = {"x", nullptr};
    int process = -1;
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    capspawn_status_t st =
        capspawn_spawn_etc(-1, c.flags, c.path, c.null_argv ? nullptr : argv, nullptr,
                           actions.size(), actions.data(), &process, err);
    ProcessFd owner(st == CAPSPAWN_OK ? process : -1);
    EXPECT_NE(st, CAPSPAWN_OK);
    EXPECT_EQ(process, -1);
    EXPECT_FALSE(FdIsOpen(ta)) << "transferred fd still open after: " << err;
    EXPECT_FALSE(FdIsOpen(tb)) << "transferred fd still open after: " << err;
    EXPECT_FALSE(HasWaitableChild());
  }
}

// fdio: the first TRANSFER_FD takes the fd out of the table, so a second
// transfer (or a clone after it) finds no such fd: INVALID_ARGS.
TEST(SpawnActionsFd, TransferringOneFdTwiceIsInvalidArgs) {
  for (bool clone_second : {false, true}) {
    SCOPED_TRACE(clone_second);
    Pipe p = MakePipe();
    int fd = p.write.release();
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                      {TransferFd(fd, 10), clone_second ? CloneFd(fd, 11) : TransferFd(fd, 11)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
    EXPECT_NE(s.err.find("action 1"), std::string::npos) << s.err;
    EXPECT_FALSE(FdIsOpen(fd));
    EXPECT_FALSE(HasWaitableChild());
  }
}

TEST(SpawnActionsFd, TargetsOutsideTheTableAreOutOfRange) {
  for (int target : {-1, -100, 1024, 4096, INT_MAX}) {
    SCOPED_TRACE(target);
    Pipe p = MakePipe();
    Spawned clone =
        Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {CloneFd(p.read.get(), target)});
    EXPECT_EQ(clone.status, CAPSPAWN_ERR_OUT_OF_RANGE) << clone.err;
    EXPECT_TRUE(FdIsOpen(p.read.get()));
    int transferred = p.write.release();
    Spawned transfer = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                             {TransferFd(transferred, target)});
    EXPECT_EQ(transfer.status, CAPSPAWN_ERR_OUT_OF_RANGE) << transfer.err;
    EXPECT_FALSE(FdIsOpen(transferred));
  }
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnActionsFd, TargetsAtTheEdgesOfTheTable) {
  Pipe p = MakePipe();
  ChildRun run = RunChild(CAPSPAWN_CLONE_NAMESPACE, ChildPath(), {ChildPath()}, {},
                          {CloneFd(p.read.get(), 0), CloneFd(p.read.get(), 1023)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 1023}));
  ExpectSameFile(run.report, 0, p.read.get());
  ExpectSameFile(run.report, 1023, p.read.get());
}

TEST(SpawnActionsFd, RepeatedTargetAlreadyExists) {
  const uint32_t pa_fd_7 = CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 7);
  for (int combo = 0; combo < 4; ++combo) {
    SCOPED_TRACE(combo);
    Pipe a = MakePipe(), b = MakePipe();
    int ta = a.write.release(), tb = b.write.release();
    std::vector<capspawn_action_t> actions;
    switch (combo) {
      case 0:
        actions = {CloneFd(a.read.get(), 7), CloneFd(b.read.get(), 7)};
        break;
      case 1:
        actions = {CloneFd(a.read.get(), 7), TransferFd(ta, 7)};
        break;
      case 2:
        actions = {TransferFd(ta, 7), AddHandle(pa_fd_7, tb)};
        break;
      case 3:
        actions = {AddHandle(pa_fd_7, ta), AddHandle(pa_fd_7, tb)};
        break;
    }
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, actions);
    EXPECT_EQ(s.status, CAPSPAWN_ERR_ALREADY_EXISTS) << s.err;
    EXPECT_NE(s.err.find('7'), std::string::npos) << "message should name fd 7: " << s.err;
    if (combo >= 1) {
      EXPECT_FALSE(FdIsOpen(ta));
    }
    if (combo >= 2) {
      EXPECT_FALSE(FdIsOpen(tb));
    }
    if (combo < 2) close(tb);
    if (combo < 1) close(ta);
    EXPECT_FALSE(HasWaitableChild());
  }
}

// With CLONE_STDIO, an action that sets fd 0, 1 or 2 wins; the others still
// come from the caller.
TEST(SpawnActionsFd, CloneStdioSkipsFdsAnActionSet) {
  Pipe in = MakePipe(), err = MakePipe(), action0 = MakePipe(), report = MakePipe();
  Spawned s;
  std::string dev2;
  uint64_t ino2 = 0;
  {
    FdSwap s0(0, in.read.get()), s2(2, err.write.get());
    dev2 = FdDev(2);
    ino2 = FdIno(2);
    s = Spawn(kNsStdio, ChildPath(), {ChildPath()}, {},
              {CloneFd(action0.read.get(), 0), TransferFd(report.write.release(), 1)});
  }
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  Report r = ParseReport(ReadAll(report.read.get()));
  EXPECT_EQ(Wait(s.process.get()), 0);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.FdNumbers(), (std::vector<int>{0, 1, 2}));
  ExpectSameFile(r, 0, action0.read.get());
  EXPECT_EQ(r.fds[2].dev, dev2);
  EXPECT_EQ(r.fds[2].ino, ino2);
}

TEST(SpawnActionsFd, MissingStdioIsDevNull) {
  Pipe p = MakePipe();
  ChildRun run = RunChild(CAPSPAWN_CLONE_NAMESPACE, ChildPath(), {ChildPath()}, {},
                          {CloneFd(p.read.get(), 12)}, 1);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 12}));
  for (int fd : {0, 2}) {
    EXPECT_EQ(run.report.fds[fd].type, "chr") << fd;
    EXPECT_EQ(run.report.fds[fd].path, "/dev/null") << fd;
  }
  EXPECT_EQ(run.report.fds[1].type, "fifo");
}

// Sources that are themselves targets of other actions (a swap, and stdio
// moved up) must not clobber each other.
TEST(SpawnActionsFd, SwappedSourcesAndTargets) {
  Pipe a = MakePipe(), b = MakePipe();
  UniqueFd fa(fcntl(a.write.get(), F_DUPFD_CLOEXEC, 40));
  UniqueFd fb(fcntl(b.write.get(), F_DUPFD_CLOEXEC, 41));
  ASSERT_EQ(fa.get(), 40);
  ASSERT_EQ(fb.get(), 41);
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_STDIO, ChildPath(), {ChildPath()}, {},
               {CloneFd(40, 41), CloneFd(41, 40), CloneFd(2, 9), CloneFd(40, 3)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 3, 9, 40, 41}));
  ExpectSameFile(run.report, 41, 40);
  ExpectSameFile(run.report, 40, 41);
  ExpectSameFile(run.report, 3, 40);
  if (FdIsOpen(2)) ExpectSameFile(run.report, 9, 2);
}

// The file status flags travel with the open file (they are shared); the
// child's fds are not close-on-exec (they survived exec).
TEST(SpawnActionsFd, FlagsOfTheOpenFileAreKept) {
  Pipe p = MakePipe();
  ASSERT_EQ(fcntl(p.write.get(), F_SETFL, O_NONBLOCK), 0);
  UniqueFd ro(open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd wo(open("/dev/null", O_WRONLY | O_APPEND | O_CLOEXEC));
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                          {CloneFd(p.write.get(), 5), CloneFd(ro.get(), 6), CloneFd(wo.get(), 7)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_TRUE(run.report.fds[5].flags & O_NONBLOCK);
  EXPECT_EQ(run.report.fds[6].flags & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(run.report.fds[7].flags & O_ACCMODE, O_WRONLY);
  EXPECT_TRUE(run.report.fds[7].flags & O_APPEND);
  for (const auto& [fd, info] : run.report.fds) EXPECT_FALSE(info.cloexec) << fd;
}

TEST(SpawnActionsFd, ManyActions) {
  Pipe p = MakePipe();
  std::vector<capspawn_action_t> actions;
  std::vector<int> want = {0, 1, 2};
  for (int target = 3; target < 603; target += 2) {
    actions.push_back(CloneFd(p.read.get(), target));
    want.push_back(target);
  }
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, actions);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), want);
}

}  // namespace
}  // namespace capspawn_test
