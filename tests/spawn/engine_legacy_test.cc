// SPDX-License-Identifier: Apache-2.0
// The engine's fallback for hosts without clone3 (ENOSYS) or that refuse it
// (EPERM from a container's seccomp profile): legacy clone(), handlers reset
// by the child, the job joined through cgroup.procs before exec.
#include <capspawn/job.h>
#include <capspawn/spawn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "engine/launch.h"
#include "test_util.h"

namespace {

using namespace capspawn_test;
using capspawn::engine::SetForceLegacyCloneForTesting;

class LegacyClone : public ::testing::Test {
 protected:
  void SetUp() override { SetForceLegacyCloneForTesting(true); }
  void TearDown() override { SetForceLegacyCloneForTesting(false); }
};

TEST_F(LegacyClone, ChildGetsExactlyWhatItIsHanded) {
  // (The child also resets the parent's signal handlers, since legacy clone
  // has no CLONE_CLEAR_SIGHAND; that guards only the moment before exec,
  // which resets handlers anyway, so no test can observe it afterwards.)
  Pipe extra = MakePipe();
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "a", "b"}, Strings{"K=V"},
                          {CloneFd(extra.read.get(), 7)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 0);
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), "a", "b"}));
  EXPECT_EQ(run.report.env, (Strings{"K=V"}));
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 7}));
}

TEST_F(LegacyClone, ExecFailureIsReportedAndReaped) {
  int before = CountOpenFds();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, "/nonexistent/program", {"x"});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_NOT_FOUND) << s.err;
  EXPECT_EQ(CountOpenFds(), before);
  EXPECT_FALSE(HasWaitableChild());
}

TEST_F(LegacyClone, ChildJoinsItsJobBeforeExec) {
  int parent = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  ASSERT_EQ(capspawn_job_default(&parent, err), CAPSPAWN_OK) << err;
  std::string name = "legacy-test-" + std::to_string(getpid());
  int job = -1;
  capspawn_status_t st = capspawn_job_create(parent, name.c_str(), &job, err);
  close(parent);
  if (st == CAPSPAWN_ERR_ACCESS_DENIED || st == CAPSPAWN_ERR_NOT_SUPPORTED) {
    GTEST_SKIP() << "cannot create a job here: " << err;
  }
  ASSERT_EQ(st, CAPSPAWN_OK) << err;
  Pipe report = MakePipe();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {TransferFd(report.write.release(), 1)}, job);
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  std::string out = ReadAll(report.read.get());
  EXPECT_EQ(Wait(s.process.get()), 0);
  Report r = ParseReport(out);
  ASSERT_TRUE(r.complete) << out;
  EXPECT_NE(r.cgroup.find("/" + name + "/"), std::string::npos) << r.cgroup;
  EXPECT_EQ(capspawn_job_destroy(job, -1, err), CAPSPAWN_OK) << err;
  close(job);
}

}  // namespace
