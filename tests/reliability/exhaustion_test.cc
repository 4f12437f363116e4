// SPDX-License-Identifier: Apache-2.0
// Exhaustion: inputs at and past capspawn's and Linux's limits either work or
// fail with the documented status, and never crash or leave anything behind.
// (1,000 namespace entries: tests/namespace; the launcher's limits: tests/launcher.)
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/processargs.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

// Nothing survives: no child, and no fd beyond the `baseline` the test held.
class Exhaustion : public ::testing::Test {
 protected:
  void ExpectNothingLeft(int baseline) {
    EXPECT_TRUE(LiveChildren().empty());
    EXPECT_FALSE(HasWaitableChild());
    EXPECT_EQ(CountOpenFds(), baseline);
  }
};

TEST_F(Exhaustion, TenThousandArguments) {
  const int fds = CountOpenFds();
  Strings argv = {ChildPath()};
  for (int i = 0; i < 10000; ++i) argv.push_back("arg-" + std::to_string(i));
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), argv);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.argv, argv);
  ExpectNothingLeft(fds);
}

TEST_F(Exhaustion, TenThousandEnvironmentEntries) {
  Strings env;
  for (int i = 0; i < 10000; ++i)
    env.push_back("VAR_" + std::to_string(i) + "=" + std::to_string(i));
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, env);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, env);
}

// One string over the kernel's MAX_ARG_STRLEN (32 pages): exec says E2BIG,
// which is OUT_OF_RANGE, and the half-made child is gone.
TEST_F(Exhaustion, ArgumentOverTheKernelLimitIsOutOfRange) {
  const int fds = CountOpenFds();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), std::string(200 * 1024, 'x')});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_OUT_OF_RANGE) << s.err;
  EXPECT_NE(s.err.find("exec"), std::string::npos) << s.err;
  EXPECT_EQ(s.raw_process_out, -1);
  ExpectNothingLeft(fds);
}

// Many strings whose sum exceeds what exec accepts (a quarter of the stack
// limit, at least 32 pages): OUT_OF_RANGE too.
TEST_F(Exhaustion, ArgumentsOverArgMaxAreOutOfRange) {
  rlimit stack;
  ASSERT_EQ(getrlimit(RLIMIT_STACK, &stack), 0);
  size_t budget = stack.rlim_cur == RLIM_INFINITY ? 6u << 20 : stack.rlim_cur / 4;
  if (budget > (256u << 20)) GTEST_SKIP() << "stack limit too large to exceed ARG_MAX cheaply";
  const int fds = CountOpenFds();
  Strings argv = {ChildPath()};
  const std::string chunk(100 * 1024, 'a');
  for (size_t total = 0; total <= budget; total += chunk.size() + 1) argv.push_back(chunk);
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), argv);
  EXPECT_EQ(s.status, CAPSPAWN_ERR_OUT_OF_RANGE) << s.err;
  ExpectNothingLeft(fds);
}

// 1,000 fds handed over, each at its own target: all arrive, nothing else.
TEST_F(Exhaustion, OneThousandFdsHandedOver) {
  rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < 1100) GTEST_SKIP() << "RLIMIT_NOFILE " << rl.rlim_cur << " < 1100";
  Pipe p = MakePipe();
  const int fds = CountOpenFds();
  std::vector<capspawn_action_t> actions;
  std::vector<int> want = {0, 1, 2};
  for (int target = 3; target < 1003; ++target) {
    actions.push_back(AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, target), dup(p.read.get())));
    want.push_back(target);
  }
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, actions);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), want);
  ExpectNothingLeft(fds);
}

// Typed handles occupy fds 3...: 1,021 reach fd 1023, the last one allowed;
// one more is OUT_OF_RANGE, and every handle is consumed either way.
TEST_F(Exhaustion, TypedHandlesUpToTheLastFd) {
  rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < 1100) GTEST_SKIP() << "RLIMIT_NOFILE " << rl.rlim_cur << " < 1100";
  Pipe p = MakePipe();
  const int fds = CountOpenFds();
  auto typed = [&](int n) {
    std::vector<capspawn_action_t> actions;
    for (int i = 0; i < n; ++i)
      actions.push_back(AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, i), dup(p.read.get())));
    return actions;
  };
  // The child takes the first, a middle and the last handle by id.
  const uint32_t first = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0);
  const uint32_t middle = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 500);
  const uint32_t last = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1020);
  char ids[64];
  snprintf(ids, sizeof ids, "%x,%x,%x", first, middle, last);
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", ids}, {}, typed(1021));
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  ASSERT_EQ(run.report.handles.size(), 3u);
  EXPECT_EQ(run.report.handles[first].fd, 3);
  EXPECT_EQ(run.report.handles[middle].fd, 3 + 500);
  EXPECT_EQ(run.report.handles[last].fd, 1023);
  EXPECT_EQ(run.report.FdNumbers().back(), 1023);
  EXPECT_EQ(run.report.Getenv("LISTEN_FDS"), "1021");

  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, typed(1022));
  EXPECT_EQ(s.status, CAPSPAWN_ERR_OUT_OF_RANGE) << s.err;
  ExpectNothingLeft(fds);
}

// Paths at the limits: a path of PATH_MAX bytes cannot be opened (BAD_PATH);
// a long but valid one works.
TEST_F(Exhaustion, PathLengths) {
  TempDir dir;
  const int fds = CountOpenFds();
  std::string deep = dir.path();
  while (deep.size() < 3000) {
    deep += "/" + std::string(200, 'd');
    ASSERT_EQ(mkdir(deep.c_str(), 0755), 0);
  }
  std::string program = deep + "/child";
  ASSERT_FALSE(dir.CopyFile(ChildPath(), "child").empty());
  ASSERT_EQ(rename(dir.Path("child").c_str(), program.c_str()), 0);
  Spawned ok = Spawn(CAPSPAWN_CLONE_ALL, program, {program});
  ASSERT_EQ(ok.status, CAPSPAWN_OK) << ok.err;
  EXPECT_EQ(Wait(ok.process.get()), 0);
  ok.process.reset();

  std::string too_long = deep + "/" + std::string(PATH_MAX, 'x');
  Spawned bad = Spawn(CAPSPAWN_CLONE_ALL, too_long, {"x"});
  EXPECT_EQ(bad.status, CAPSPAWN_ERR_BAD_PATH) << bad.err;
  std::string long_component = dir.path() + "/" + std::string(NAME_MAX + 1, 'c');
  bad = Spawn(CAPSPAWN_CLONE_ALL, long_component, {"x"});
  EXPECT_EQ(bad.status, CAPSPAWN_ERR_BAD_PATH) << bad.err;
  ExpectNothingLeft(fds);
  // TempDir cannot remove what it did not create at this depth alone.
  std::string d = deep;
  unlink(program.c_str());
  while (d.size() > dir.path().size()) {
    rmdir(d.c_str());
    d.resize(d.rfind('/'));
  }
}

// Names at their limits: SET_NAME keeps 15 bytes of a 1 MiB name; a #! line
// at its limit is covered by SpawnShebang.
TEST_F(Exhaustion, HugeName) {
  std::string name(1 << 20, 'n');
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {SetName(name.c_str())});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.comm, std::string(15, 'n'));
}

// Actions by the thousand, each consumed: 5,000 CLONE_FDs onto 1,000 targets
// fail with ALREADY_EXISTS quickly and leave nothing.
TEST_F(Exhaustion, ManyRepeatedTargets) {
  Pipe p = MakePipe();
  const int fds = CountOpenFds();
  std::vector<capspawn_action_t> actions;
  for (int i = 0; i < 5000; ++i) actions.push_back(CloneFd(p.read.get(), 3 + i % 1000));
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, actions);
  EXPECT_EQ(s.status, CAPSPAWN_ERR_ALREADY_EXISTS) << s.err;
  EXPECT_NE(s.err.find("1000"), std::string::npos) << s.err;  // the first repeated action
  ExpectNothingLeft(fds);
}

}  // namespace
}  // namespace capspawn_test
