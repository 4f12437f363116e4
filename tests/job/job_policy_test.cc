// SPDX-License-Identifier: Apache-2.0
// The new-process policy: DENY stops fork/vfork/clone (EPERM) and clone3 (ENOSYS) but not
// threads, child jobs inherit it, it only gets stricter, and it is stored with the job.
#include <sys/wait.h>
#include <unistd.h>

#include <capspawn/spawn.h>

#include "job_test_util.h"

namespace capspawn::jobtest {
namespace {

constexpr char kDenied[] =
    "fork=EPERM\nvfork=EPERM\nclone=EPERM\nclone3=ENOSYS\nthread=ok\nposix_spawn=EPERM\n";
constexpr char kAllowed[] = "fork=ok\nvfork=ok\nclone=ok\nclone3=ok\nthread=ok\nposix_spawn=ok\n";

// What the helper's own attempts to create processes and threads give, in `job`.
std::string PolicyReport(int job) {
  Pipe report = MakePipe();
  Result<Process> p = SpawnHelper(job, {"policy", "10"}, {{report.write.get(), 10}});
  if (!p.ok()) return "spawn failed: " + Describe(p.error());
  report.write.reset();
  std::string text = ReadAll(report.read.get());
  Result<int64_t> rc = p->Wait(kLongNs);
  if (!rc.ok() || *rc != 0) return text + "exit: " + std::to_string(rc.ok() ? *rc : -999);
  return text;
}

// Runs python3 forking in `job`; returns its exit code and stderr.
std::pair<int64_t, std::string> PythonFork(int job) {
  Pipe err = MakePipe();
  const char* argv[] = {"/usr/bin/python3", "-c",
                        "import os\npid = os.fork()\nif pid == 0: os._exit(0)\nos.waitpid(pid, 0)",
                        nullptr};
  capspawn_action_t a = {};
  a.action = CAPSPAWN_ACTION_CLONE_FD;
  a.fd.local_fd = err.write.get();
  a.fd.target_fd = 2;
  int process = -1;
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t s = capspawn_spawn_etc(job, CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_JOB, argv[0],
                                           argv, nullptr, 1, &a, &process, msg);
  if (s != CAPSPAWN_OK) return {-1000, msg};
  err.write.reset();
  Process p{UniqueFd(process)};
  std::string text = ReadAll(err.read.get());
  Result<int64_t> rc = p.Wait(kLongNs);
  return {rc.ok() ? *rc : -2000, text};
}

TEST_F(JobTest, AllowJobCreatesProcesses) {
  EXPECT_EQ(PolicyReport(root().fd().get()), kAllowed);
  auto [rc, err] = PythonFork(root().fd().get());
  EXPECT_EQ(rc, 0) << err;
}

TEST_F(JobTest, DenyJobCannotCreateProcessesButCanRunThreads) {
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  ASSERT_EQ(capspawn_job_set_policy(root().fd().get(), CAPSPAWN_JOB_POL_NEW_PROCESS,
                                    CAPSPAWN_JOB_POL_ACTION_DENY, msg),
            CAPSPAWN_OK)
      << msg;
  EXPECT_EQ(PolicyReport(root().fd().get()), kDenied);
  auto [rc, err] = PythonFork(root().fd().get());
  EXPECT_EQ(rc, 1) << err;
  EXPECT_NE(err.find("PermissionError"), std::string::npos) << err;
}

TEST_F(JobTest, DenyedProcessCannotSpawnThroughCapspawnEither) {
  ASSERT_OK(root().SetNewProcessPolicy(NewProcessPolicy::kDeny));
  Pipe report = MakePipe();
  Pipe pids = MakePipe();
  Result<Process> p =
      SpawnHelper(root().fd().get(), {"subjob", "10", "11", HelperPath()},
                  {{report.write.get(), 10}, {pids.write.get(), 11}}, CAPSPAWN_CLONE_ALL);
  ASSERT_OK(p);
  std::string line = ReadLines(report.read.get(), 1);
  // Creating the sub-job works (it inherits DENY); creating a process in it does not.
  EXPECT_EQ(line.rfind("create=0 spawn=", 0), 0u) << line;
  EXPECT_EQ(line.find("spawn=0\n"), std::string::npos) << line;
  Result<Job> sub = root().OpenChild("sub");
  ASSERT_OK(sub);
  Result<NewProcessPolicy> policy = sub->GetNewProcessPolicy();
  ASSERT_OK(policy);
  EXPECT_EQ(*policy, NewProcessPolicy::kDeny);
  ASSERT_OK(root().Kill(kLongNs));
  ASSERT_OK(p->Wait(kLongNs));
}

TEST_F(JobTest, ChildJobsInheritDenyAndCannotLoosenIt) {
  ASSERT_OK(root().SetNewProcessPolicy(NewProcessPolicy::kDeny));
  Result<Job> child = root().CreateChild("child");
  ASSERT_OK(child);
  Result<Job> grandchild = child->CreateChild("grandchild");
  ASSERT_OK(grandchild);
  for (Job* j : {&*child, &*grandchild}) {
    uint32_t action = 99;
    ASSERT_EQ(
        capspawn_job_get_policy(j->fd().get(), CAPSPAWN_JOB_POL_NEW_PROCESS, &action, nullptr),
        CAPSPAWN_OK);
    EXPECT_EQ(action, CAPSPAWN_JOB_POL_ACTION_DENY);
    char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH];
    EXPECT_EQ(capspawn_job_set_policy(j->fd().get(), CAPSPAWN_JOB_POL_NEW_PROCESS,
                                      CAPSPAWN_JOB_POL_ACTION_ALLOW, msg),
              CAPSPAWN_ERR_ACCESS_DENIED);
    EXPECT_NE(std::string(msg).find("stricter"), std::string::npos) << msg;
    // Setting what is already there is fine.
    EXPECT_TRUE(j->SetNewProcessPolicy(NewProcessPolicy::kDeny).ok());
  }
  EXPECT_EQ(PolicyReport(grandchild->fd().get()), kDenied);
  EXPECT_EQ(root().SetNewProcessPolicy(NewProcessPolicy::kAllow).status(),
            CAPSPAWN_ERR_ACCESS_DENIED);
}

TEST_F(JobTest, PolicyIsSetBeforeTheJobHasProcessesOrChildren) {
  Result<Job> busy = root().CreateChild("busy");
  ASSERT_OK(busy);
  Pipe report = MakePipe();
  Result<Process> p = SpawnHelper(busy->fd().get(), {"pause", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(p);
  ProcessGuard guard{std::move(*p)};
  ASSERT_EQ(ReadPids(report.read.get(), 1).size(), 1u);
  EXPECT_EQ(busy->SetNewProcessPolicy(NewProcessPolicy::kDeny).status(), CAPSPAWN_ERR_BAD_STATE);
  // root has a child job.
  EXPECT_EQ(root().SetNewProcessPolicy(NewProcessPolicy::kDeny).status(), CAPSPAWN_ERR_BAD_STATE);
  uint32_t action = 0;
  EXPECT_EQ(capspawn_job_set_policy(root().fd().get(), 3 /* not NEW_PROCESS */,
                                    CAPSPAWN_JOB_POL_ACTION_DENY, nullptr),
            CAPSPAWN_ERR_NOT_SUPPORTED);
  EXPECT_EQ(capspawn_job_set_policy(root().fd().get(), CAPSPAWN_JOB_POL_NEW_PROCESS, 7, nullptr),
            CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(capspawn_job_get_policy(root().fd().get(), 3, &action, nullptr),
            CAPSPAWN_ERR_NOT_SUPPORTED);
}

TEST_F(JobTest, PolicyOutlivesTheProcessThatSetIt) {
  Result<Job> child = root().CreateChild("kept");
  ASSERT_OK(child);
  Result<std::string> path = child->Path();
  ASSERT_OK(path);
  // Another process sets the policy and exits.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int job = -1;
    if (capspawn_job_open(path->c_str(), &job, nullptr) != CAPSPAWN_OK) _exit(10);
    _exit(capspawn_job_set_policy(job, CAPSPAWN_JOB_POL_NEW_PROCESS, CAPSPAWN_JOB_POL_ACTION_DENY,
                                  nullptr) == CAPSPAWN_OK
              ? 0
              : 11);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // A fresh handle, opened by path, sees it and enforces it.
  Result<Job> reopened = Job::Open(*path);
  ASSERT_OK(reopened);
  Result<NewProcessPolicy> policy = reopened->GetNewProcessPolicy();
  ASSERT_OK(policy);
  EXPECT_EQ(*policy, NewProcessPolicy::kDeny);
  EXPECT_EQ(PolicyReport(reopened->fd().get()), kDenied);
}

}  // namespace
}  // namespace capspawn::jobtest
