// SPDX-License-Identifier: Apache-2.0
// Limits work where the controller is delegated, and say NOT_SUPPORTED (naming the
// controller) where it is not. Both outcomes are checked against the cgroup files.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "job/cgroup_fs.h"
#include "job_test_util.h"

namespace capspawn::jobtest {
namespace {

std::string ReadFile(int dir, const char* name) {
  Result<std::string> text = job_internal::ReadControl(dir, name);
  return text.ok() ? *text : "";
}

// Whether the cgroup tree lets `controller` reach `job` (the parent of the test root is
// a plain cgroup that capspawn does not change).
bool ControllerReaches(const Job& test_root, const char* controller) {
  return job_internal::HasWord(ReadFile(test_root.fd().get(), "cgroup.controllers"), controller);
}

struct LimitCase {
  JobLimit limit;
  const char* controller;
  const char* file;
  int64_t value;
  const char* expect;  // the file's content after setting `value`
};

TEST_F(JobTest, LimitsApplyWhereTheControllerIsDelegated) {
  Result<Job> child = root().CreateChild("limited");
  ASSERT_OK(child);
  for (const LimitCase& c :
       {LimitCase{JobLimit::kMemoryMax, "memory", "memory.max", 64 << 20, "67108864\n"},
        LimitCase{JobLimit::kPidsMax, "pids", "pids.max", 3, "3\n"},
        LimitCase{JobLimit::kCpuMax, "cpu", "cpu.max", 500, "50000 100000\n"},
        LimitCase{JobLimit::kCpuWeight, "cpu", "cpu.weight", 39, "39\n"}}) {
    for (Job* j : {&root(), &*child}) {
      Status s = j->SetLimit(c.limit, c.value);
      if (ControllerReaches(root(), c.controller)) {
        ASSERT_TRUE(s.ok()) << c.file << ": " << Describe(s.error());
        EXPECT_EQ(ReadFile(j->fd().get(), c.file), c.expect);
      } else {
        ASSERT_FALSE(s.ok()) << c.file;
        EXPECT_EQ(s.status(), CAPSPAWN_ERR_NOT_SUPPORTED) << Describe(s.error());
        EXPECT_NE(s.error().message().find(std::string("the ") + c.controller + " controller"),
                  std::string::npos)
            << s.error().message();
      }
    }
  }
}

TEST_F(JobTest, PidsLimitStopsForks) {
  if (!ControllerReaches(root(), "pids")) {
    EXPECT_EQ(root().SetLimit(JobLimit::kPidsMax, 3).status(), CAPSPAWN_ERR_NOT_SUPPORTED);
    // Not a skip: NOT_SUPPORTED is what this host must answer.
    printf("[ note     ] the pids controller is not delegated to %s: NOT_SUPPORTED checked\n",
           root_path().c_str());
    return;
  }
  ASSERT_OK(root().SetLimit(JobLimit::kPidsMax, 3));  // the helper and two children
  Pipe report = MakePipe();
  Result<Process> p =
      SpawnHelper(root().fd().get(), {"forks", "10", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(p);
  report.write.reset();
  EXPECT_EQ(ReadAll(report.read.get()), "forked=2\n");
  ASSERT_OK(p->Wait(kLongNs));
}

TEST_F(JobTest, MemoryLimitStopsAHog) {
  if (!ControllerReaches(root(), "memory")) {
    EXPECT_EQ(root().SetLimit(JobLimit::kMemoryMax, 1 << 24).status(), CAPSPAWN_ERR_NOT_SUPPORTED);
    printf("[ note     ] the memory controller is not delegated to %s: NOT_SUPPORTED checked\n",
           root_path().c_str());
    return;
  }
  ASSERT_OK(root().SetLimit(JobLimit::kMemoryMax, 32 << 20));
  // memory.swap.max too, if present, so the hog cannot page out.
  (void)job_internal::WriteControl(root().fd().get(), "memory.swap.max", "0");
  Result<Process> p = SpawnHelper(root().fd().get(), {"alloc", "256"});
  ASSERT_OK(p);
  Result<int64_t> rc = p->Wait(kLongNs);
  ASSERT_OK(rc);
  EXPECT_EQ(*rc, -9) << "the OOM killer should have stopped a 256 MiB hog at 32 MiB";
}

TEST_F(JobTest, LimitValuesAreChecked) {
  EXPECT_EQ(root().SetLimit(JobLimit::kMemoryMax, -5).status(), CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(root().SetLimit(JobLimit::kCpuMax, 5).status(), CAPSPAWN_ERR_OUT_OF_RANGE);
  EXPECT_EQ(root().SetLimit(JobLimit::kCpuWeight, 0).status(), CAPSPAWN_ERR_OUT_OF_RANGE);
  EXPECT_EQ(root().SetLimit(JobLimit::kCpuWeight, 10001).status(), CAPSPAWN_ERR_OUT_OF_RANGE);
  EXPECT_EQ(capspawn_job_set_limit(root().fd().get(), 99, 1, nullptr), CAPSPAWN_ERR_INVALID_ARGS);
  // The default job is a plain cgroup capspawn does not change: without the controller
  // it says so (and with it, this test leaves the caller's cgroup alone).
  Result<Job> def = Job::Default();
  ASSERT_OK(def);
  if (!ControllerReaches(*def, "pids")) {
    Status s = def->SetLimit(JobLimit::kPidsMax, 100000);
    EXPECT_EQ(s.status(), CAPSPAWN_ERR_NOT_SUPPORTED) << (s.ok() ? "" : s.error().message());
  }
}

// Fault: a job already at its pids.max. The spawn fails with NO_RESOURCES
// (clone3 into the cgroup says EAGAIN), and nothing is left behind.
TEST_F(JobTest, SpawnIntoAJobAtItsPidsMaxIsNoResources) {
  if (!ControllerReaches(root(), "pids")) {
    EXPECT_EQ(root().SetLimit(JobLimit::kPidsMax, 1).status(), CAPSPAWN_ERR_NOT_SUPPORTED);
    printf("[ note     ] the pids controller is not delegated to %s: NOT_SUPPORTED checked\n",
           root_path().c_str());
    return;
  }
  ASSERT_OK(root().SetLimit(JobLimit::kPidsMax, 1));
  Pipe report = MakePipe();
  Result<Process> first =
      SpawnHelper(root().fd().get(), {"pause", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(first);
  Result<Process> second =
      SpawnHelper(root().fd().get(), {"pause", "10"}, {{report.write.get(), 10}});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status(), CAPSPAWN_ERR_NO_RESOURCES) << Describe(second.error());
  EXPECT_NE(second.error().message().find("clone"), std::string::npos) << second.error().message();
  ASSERT_OK(first->Kill());
  ASSERT_OK(first->Wait(kLongNs));
  // Room again: the job serves the next spawn.
  Result<Process> third = SpawnHelper(root().fd().get(), {"alloc", "1"});
  ASSERT_OK(third);
  Result<int64_t> rc = third->Wait(kLongNs);
  ASSERT_OK(rc);
  EXPECT_EQ(*rc, 0);
}

}  // namespace
}  // namespace capspawn::jobtest
