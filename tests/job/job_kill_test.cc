// SPDX-License-Identifier: Apache-2.0
// Killing a job: the whole tree goes, nothing outside it does, and the job stays dead.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <capspawn/spawn.h>

#include "job_test_util.h"

namespace capspawn::jobtest {
namespace {

std::vector<pid_t> Sorted(std::vector<pid_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(JobTest, KillWipesOutATreeWithDaemonsAndReportsEmpty) {
  Pipe report = MakePipe();
  Result<Process> main_process =
      SpawnHelper(root().fd().get(), {"tree", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(main_process);
  // The helper, a child, a child and its grandchild, a setsid'd double-forked daemon.
  std::vector<pid_t> pids = ReadPids(report.read.get(), 5);
  ASSERT_EQ(pids.size(), 5u);
  const pid_t main_pid = main_process->pid();
  ASSERT_NE(std::find(pids.begin(), pids.end(), main_pid), pids.end());
  Result<std::vector<pid_t>> listed = root().Processes();
  ASSERT_OK(listed);
  EXPECT_EQ(Sorted(*listed), Sorted(pids)) << "the daemon left its session, not its job";

  std::vector<UniqueFd> pidfds;
  for (pid_t pid : pids) {
    pidfds.push_back(OpenPidfd(pid));
    ASSERT_TRUE(pidfds.back().valid()) << pid;
    EXPECT_FALSE(Exited(pidfds.back().get(), 0)) << pid;
  }

  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  ASSERT_EQ(capspawn_job_kill(root().fd().get(), kLongNs, err), CAPSPAWN_OK) << err;

  // Kill returned once the job was empty: everyone is gone (or going: a task leaves its
  // cgroup just before it becomes a zombie).
  for (size_t i = 0; i < pids.size(); ++i) {
    EXPECT_TRUE(Exited(pidfds[i].get(), kLongMs)) << pids[i];
  }
  Result<int64_t> rc = main_process->Wait(kLongNs);
  ASSERT_OK(rc);
  EXPECT_EQ(*rc, -SIGKILL);
  ReapOrphans(pids, main_pid);
  Result<std::vector<pid_t>> after = root().Processes();
  ASSERT_OK(after);
  EXPECT_TRUE(after->empty());
  Result<JobInfo> info = root().Info();
  ASSERT_OK(info);
  EXPECT_FALSE(info->populated);
  EXPECT_TRUE(info->killed);
}

TEST_F(JobTest, KillNeverTouchesProcessesOutsideTheJob) {
  Result<Job> victim = root().CreateChild("victim");
  ASSERT_OK(victim);
  Result<Job> sibling = root().CreateChild("sibling");
  ASSERT_OK(sibling);

  // An outsider in a sibling job and one in the default job (the test's own cgroup),
  // each echoing bytes back: alive means it answers after the kill.
  struct Outsider {
    Pipe in, out;
    ProcessGuard guard;
  };
  Outsider in_sibling{MakePipe(), MakePipe(), {}};
  Outsider in_default{MakePipe(), MakePipe(), {}};
  for (auto [o, job] : {std::pair{&in_sibling, sibling->fd().get()}, std::pair{&in_default, -1}}) {
    Result<Process> p =
        SpawnHelper(job, {"echo", "10", "11"}, {{o->in.read.get(), 10}, {o->out.write.get(), 11}});
    ASSERT_OK(p);
    o->guard.process = std::move(*p);
    o->in.read.reset();
    o->out.write.reset();
    ASSERT_EQ(ReadPids(o->out.read.get(), 1).size(), 1u);
  }

  Pipe report = MakePipe();
  Result<Process> tree =
      SpawnHelper(victim->fd().get(), {"tree", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(tree);
  const pid_t tree_pid = tree->pid();
  std::vector<pid_t> pids = ReadPids(report.read.get(), 5);
  ASSERT_OK(victim->Kill(kLongNs));
  Result<int64_t> rc = tree->Wait(kLongNs);
  ASSERT_OK(rc);
  EXPECT_EQ(*rc, -SIGKILL);
  ReapOrphans(pids, tree_pid);

  for (Outsider* o : {&in_sibling, &in_default}) {
    ASSERT_EQ(write(o->in.write.get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(read(o->out.read.get(), &c, 1), 1) << "an outsider died with the job";
    EXPECT_EQ(c, 'x');
    EXPECT_FALSE(Exited(o->guard.process.pidfd().get(), 0));
  }
  Result<std::vector<pid_t>> left = sibling->Processes();
  ASSERT_OK(left);
  EXPECT_EQ(left->size(), 1u);
}

TEST_F(JobTest, KilledJobAndItsChildrenRefuseNewWork) {
  Result<Job> child = root().CreateChild("child");
  ASSERT_OK(child);
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  ASSERT_EQ(capspawn_job_kill(root().fd().get(), kLongNs, err), CAPSPAWN_OK) << err;
  for (Job* j : {&root(), &*child}) {
    Result<Process> p = SpawnHelper(j->fd().get(), {"echo", "0", "1"});
    EXPECT_EQ(p.status(), CAPSPAWN_ERR_BAD_STATE);
    EXPECT_EQ(j->CreateChild("more").status(), CAPSPAWN_ERR_BAD_STATE);
    EXPECT_EQ(j->Freeze(kLongNs).status(), CAPSPAWN_ERR_BAD_STATE);
    EXPECT_EQ(j->SetNewProcessPolicy(NewProcessPolicy::kDeny).status(), CAPSPAWN_ERR_BAD_STATE);
    EXPECT_EQ(j->SetLimit(JobLimit::kPidsMax, 10).status(), CAPSPAWN_ERR_BAD_STATE);
  }
  // Killing again is harmless.
  EXPECT_EQ(capspawn_job_kill(root().fd().get(), kLongNs, err), CAPSPAWN_OK) << err;
}

TEST_F(JobTest, CloneJobLetsTheChildMakeSubJobs) {
  Pipe report = MakePipe();
  Pipe pids = MakePipe();
  Result<Process> p =
      SpawnHelper(root().fd().get(), {"subjob", "10", "11", HelperPath()},
                  {{report.write.get(), 10}, {pids.write.get(), 11}}, 0xFFFFu /* CLONE_ALL */);
  ASSERT_OK(p);
  // The helper reports its statuses, the process it spawned into the sub-job its pid.
  std::string line = ReadLines(report.read.get(), 1);
  std::vector<pid_t> sub_pid = ReadPids(pids.read.get(), 1);
  EXPECT_EQ(line, "create=0 spawn=0\n");
  Result<Job> sub = root().OpenChild("sub");
  ASSERT_OK(sub);
  Result<std::vector<pid_t>> in_sub = sub->Processes();
  ASSERT_OK(in_sub);
  EXPECT_EQ(*in_sub, sub_pid);
  ASSERT_OK(root().Kill(kLongNs));
  ASSERT_OK(p->Wait(kLongNs));
  ReapOrphans(sub_pid, 0);
}

TEST_F(JobTest, KillsATreeOfAThousandProcesses) {
  constexpr int kCount = 1000;
  Pipe report = MakePipe();
  Result<Process> p = SpawnHelper(root().fd().get(), {"many", "10", std::to_string(kCount)},
                                  {{report.write.get(), 10}});
  ASSERT_OK(p);
  std::vector<pid_t> pids = ReadPids(report.read.get(), kCount);
  ASSERT_EQ(pids.size(), static_cast<size_t>(kCount));
  Result<std::vector<pid_t>> listed = root().Processes();
  ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), static_cast<size_t>(kCount));
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK(root().Kill(kLongNs));
  auto elapsed = std::chrono::steady_clock::now() - start;
  // Reported, not asserted: timing depends on the machine.
  printf("[ measured ] killing %d processes took %.2f ms\n", kCount,
         std::chrono::duration<double, std::milli>(elapsed).count());
  Result<std::vector<pid_t>> after = root().Processes();
  ASSERT_OK(after);
  EXPECT_TRUE(after->empty());
  ASSERT_OK(p->Wait(kLongNs));
  ReapOrphans(pids, pids[0]);
}

}  // namespace
}  // namespace capspawn::jobtest
