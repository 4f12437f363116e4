// SPDX-License-Identifier: Apache-2.0
// SpawnLeaks: the child gets exactly the fds it was handed, however many
// inheritable fds its creator holds.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

// ~500 fds of many kinds, none close-on-exec.
class SpawnLeaks : public ::testing::Test {
 protected:
  void SetUp() override {
    rlimit rl;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ASSERT_GE(rl.rlim_cur, 700u) << "needs room for ~600 fds";
    for (int i = 0; i < 100; ++i) {
      int p[2];
      ASSERT_EQ(pipe(p), 0);
      Keep(p[0]);
      Keep(p[1]);
      int sv[2];
      ASSERT_EQ(socketpair(AF_UNIX, i % 2 ? SOCK_STREAM : SOCK_DGRAM, 0, sv), 0);
      Keep(sv[0]);
      Keep(sv[1]);
    }
    for (int i = 0; i < 40; ++i) Keep(open("/dev/null", O_RDWR));
    for (int i = 0; i < 20; ++i)
      Keep(open(dir_.WriteFile("f" + std::to_string(i), "x").c_str(), O_RDONLY));
    for (int i = 0; i < 10; ++i) Keep(eventfd(0, 0));
    for (int i = 0; i < 10; ++i) Keep(memfd_create("leak", 0));
    for (int i = 0; i < 5; ++i) Keep(open("/tmp", O_RDONLY | O_DIRECTORY));
    for (int i = 0; i < 5; ++i) Keep(open("/tmp", O_PATH));
    Keep(epoll_create1(0));
    Keep(socket(AF_INET, SOCK_STREAM, 0));
    // One high above the rest, as long-running programs have.
    Keep(fcntl(kept_.front(), F_DUPFD, 680));
    ASSERT_GE(kept_.size(), 490u);
  }
  void TearDown() override {
    for (int fd : kept_) close(fd);
  }
  void Keep(int fd) {
    ASSERT_GE(fd, 0);
    ASSERT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    kept_.push_back(fd);
  }

  TempDir dir_;
  std::vector<int> kept_;
};

TEST_F(SpawnLeaks, CloneAllChildSeesOnlyWhatItWasHanded) {
  int handed = kept_[7];
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {CloneFd(handed, 600)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 600}));
  EXPECT_EQ(run.report.fds[600].ino, FdIno(handed));
}

TEST_F(SpawnLeaks, NamespaceOnlyChildSeesOnlyWhatItWasHanded) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_NAMESPACE, ChildPath(), {ChildPath(), "--report-fd", "4"},
                          {}, {CloneFd(kept_[3], 3)}, 4);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(SpawnLeaks, TypedHandlesOnlyWhatWasHanded) {
  int dup_fd = dup(kept_[11]);
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                          {AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), dup_fd)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(SpawnLeaks, DynamicChildSeesOnlyWhatItWasHanded) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, DynChildPath(), {DynChildPath()});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2}));
}

// Repeated spawns neither keep nor lose fds in the caller.
TEST_F(SpawnLeaks, CallerFdCountIsStable) {
  int before = CountOpenFds();
  for (int i = 0; i < 20; ++i) {
    ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--report-fd", "-1"}, {},
                            {CloneFd(kept_[i], 10 + i)}, -1);
    ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
    EXPECT_EQ(run.return_code, 0);
  }
  EXPECT_EQ(CountOpenFds(), before);
  for (int fd : kept_) ASSERT_TRUE(FdIsOpen(fd)) << fd;
  for (int fd : kept_) ASSERT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC) << fd;
  EXPECT_FALSE(HasWaitableChild());
}

}  // namespace
}  // namespace capspawn_test
