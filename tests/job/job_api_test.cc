// SPDX-License-Identifier: Apache-2.0
// Job objects: the default job, child jobs, listing, names and the error statuses.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <capspawn/spawn.h>

#include "job/cgroup_fs.h"
#include "job_test_util.h"

namespace capspawn::jobtest {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(JobDefault, IsTheCallersOwnCgroup) {
  int job = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  capspawn_status_t s = capspawn_job_default(&job, err);
  if (s == CAPSPAWN_ERR_NOT_SUPPORTED) GTEST_SKIP() << "no cgroup v2 here: " << err;
  ASSERT_EQ(s, CAPSPAWN_OK) << err;
  UniqueFd owned(job);
  // Our own pid is listed in the default job's processes.
  pid_t pids[4096];
  size_t actual = 0, available = 0;
  ASSERT_EQ(capspawn_job_get_processes(job, pids, 4096, &actual, &available, err), CAPSPAWN_OK)
      << err;
  EXPECT_LE(actual, available);
  EXPECT_NE(std::find(pids, pids + actual, getpid()), pids + actual);
  uint32_t action = 99;
  ASSERT_EQ(capspawn_job_get_policy(job, CAPSPAWN_JOB_POL_NEW_PROCESS, &action, err), CAPSPAWN_OK);
  EXPECT_EQ(action, CAPSPAWN_JOB_POL_ACTION_ALLOW);
}

TEST_F(JobTest, ChildJobsAreListedAndOpenable) {
  Result<Job> a = root().CreateChild("alpha");
  ASSERT_OK(a);
  Result<Job> b = root().CreateChild();  // a generated name
  ASSERT_OK(b);
  Result<Job> aa = a->CreateChild("inner");
  ASSERT_OK(aa);
  Result<std::vector<std::string>> children = root().Children();
  ASSERT_OK(children);
  ASSERT_EQ(children->size(), 2u);
  EXPECT_EQ((*children)[0], "alpha");
  EXPECT_NE((*children)[1], "procs");  // the leaf is not a child job
  Result<Job> again = root().OpenChild("alpha");
  ASSERT_OK(again);
  Result<std::vector<std::string>> inner = again->Children();
  ASSERT_OK(inner);
  EXPECT_EQ(*inner, std::vector<std::string>{"inner"});
  EXPECT_EQ(root().OpenChild("nope").status(), CAPSPAWN_ERR_NOT_FOUND);

  // The C view: NUL-separated names, whole names only.
  char names[64];
  size_t actual = 0, available = 0;
  ASSERT_EQ(capspawn_job_get_children(root().fd().get(), names, sizeof names, &actual, &available,
                                      nullptr),
            CAPSPAWN_OK);
  EXPECT_EQ(available, 2u);
  EXPECT_EQ(actual, 2u);
  EXPECT_STREQ(names, "alpha");
  ASSERT_EQ(capspawn_job_get_children(root().fd().get(), names, 3, &actual, &available, nullptr),
            CAPSPAWN_OK);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(available, 2u);
}

TEST_F(JobTest, NamesAreChecked) {
  ASSERT_OK(root().CreateChild("taken"));
  EXPECT_EQ(root().CreateChild("taken").status(), CAPSPAWN_ERR_ALREADY_EXISTS);
  for (const char* bad : {"procs", "a/b", "..", "a.b", "cgroup.procs", "x y"}) {
    Result<Job> r = root().CreateChild(bad);
    EXPECT_EQ(r.status(), CAPSPAWN_ERR_INVALID_ARGS) << bad;
  }
  EXPECT_EQ(root().CreateChild(std::string(65, 'a')).status(), CAPSPAWN_ERR_INVALID_ARGS);
  int out = -1;
  EXPECT_EQ(capspawn_job_create(root().fd().get(), "", &out, nullptr), CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(capspawn_job_create(root().fd().get(), "x", nullptr, nullptr),
            CAPSPAWN_ERR_INVALID_ARGS);
}

TEST_F(JobTest, ProcessesCoexistWithChildJobs) {
  // cgroup v2's "no internal processes" rule never shows: a job with processes gets
  // child jobs, and a job with child jobs gets processes.
  Pipe report = MakePipe();
  Result<Process> first =
      SpawnHelper(root().fd().get(), {"pause", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(first);
  ProcessGuard g1{std::move(*first)};
  Result<Job> child = root().CreateChild("child");
  ASSERT_OK(child);
  Result<Process> second =
      SpawnHelper(child->fd().get(), {"pause", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(second);
  ProcessGuard g2{std::move(*second)};
  std::vector<pid_t> pids = ReadPids(report.read.get(), 2);
  Result<std::vector<pid_t>> all = root().Processes();
  ASSERT_OK(all);
  std::sort(pids.begin(), pids.end());
  std::sort(all->begin(), all->end());
  EXPECT_EQ(*all, pids);
  Result<std::vector<pid_t>> only_child = child->Processes();
  ASSERT_OK(only_child);
  ASSERT_EQ(only_child->size(), 1u);
  Result<JobInfo> info = root().Info();
  ASSERT_OK(info);
  EXPECT_TRUE(info->is_capspawn_job);
  EXPECT_TRUE(info->populated);
  EXPECT_FALSE(info->killed);
  EXPECT_EQ(info->path, root_path());
}

TEST_F(JobTest, NotAJobIsWrongTypeAndClosedFdIsBadHandle) {
  UniqueFd tmp(open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(tmp.valid());
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  int out = -1;
  EXPECT_EQ(capspawn_job_create(tmp.get(), "x", &out, err), CAPSPAWN_ERR_WRONG_TYPE);
  EXPECT_TRUE(Contains(err, "/tmp")) << err;
  EXPECT_EQ(capspawn_job_kill(tmp.get(), 0, nullptr), CAPSPAWN_ERR_WRONG_TYPE);
  UniqueFd procs_file(openat(root().fd().get(), "cgroup.procs", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(procs_file.valid());
  EXPECT_EQ(capspawn_job_freeze(procs_file.get(), 0, nullptr), CAPSPAWN_ERR_WRONG_TYPE);

  int closed = dup(0);
  close(closed);
  EXPECT_EQ(capspawn_job_create(closed, "x", &out, nullptr), CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_EQ(capspawn_job_kill(-1, 0, nullptr), CAPSPAWN_ERR_BAD_HANDLE);

  // The spawn path checks the same way.
  Result<Process> p = SpawnHelper(tmp.get(), {"echo", "0", "1"});
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_WRONG_TYPE) << (p.ok() ? "" : p.error().message());
  p = SpawnHelper(closed, {"echo", "0", "1"});
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_BAD_HANDLE);
  // A plain cgroup is a job, but not one capspawn keeps a policy for.
  EXPECT_EQ(capspawn_job_destroy(tmp.get(), 0, nullptr), CAPSPAWN_ERR_WRONG_TYPE);
}

TEST_F(JobTest, DestroyedJobIsBadState) {
  Result<Job> child = root().CreateChild("doomed");
  ASSERT_OK(child);
  ASSERT_OK(child->CreateChild("grandchild"));
  Result<std::string> path = child->Path();
  ASSERT_OK(path);
  ASSERT_OK(child->Destroy(kLongNs));
  struct stat st;
  EXPECT_NE(stat(path->c_str(), &st), 0);
  Result<Process> p = SpawnHelper(child->fd().get(), {"echo", "0", "1"});
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_BAD_STATE);
  EXPECT_EQ(child->CreateChild("x").status(), CAPSPAWN_ERR_BAD_STATE);
  EXPECT_EQ(child->Destroy(kLongNs).status(), CAPSPAWN_ERR_BAD_STATE);
}

TEST_F(JobTest, UnwritableParentIsAccessDeniedAndExplainsDelegation) {
  // A cgroup this user may not write: as root, the test's own job seen by nobody;
  // as a delegatee, the first ancestor outside the delegated subtree.
  if (geteuid() == 0) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(10);
      char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
      int out = -1;
      capspawn_status_t s = capspawn_job_create(root().fd().get(), "x", &out, err);
      if (s != CAPSPAWN_ERR_ACCESS_DENIED) _exit(11);
      if (!Contains(err, root_path()) || !Contains(err, "chown")) _exit(12);
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10: setuid failed, 11: wrong status, 12: message";
    return;
  }
  Result<Job> def = Job::Default();
  ASSERT_OK(def);
  UniqueFd dir(dup(def->fd().get()));
  for (;;) {
    Result<UniqueFd> up = job_internal::OpenParent(dir.get());
    ASSERT_OK(up);
    if (!up->valid()) GTEST_SKIP() << "every cgroup up to the top is writable by this user";
    dir = std::move(*up);
    if (faccessat(dir.get(), ".", W_OK, AT_EACCESS) != 0) break;
  }
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  int out = -1;
  EXPECT_EQ(capspawn_job_create(dir.get(), "capspawn-denied", &out, err),
            CAPSPAWN_ERR_ACCESS_DENIED);
  EXPECT_TRUE(Contains(err, "chown")) << err;
}

TEST(JobErrors, NoCgroup2MountIsNotSupported_Root) {
  if (geteuid() != 0) GTEST_SKIP() << "hiding the cgroup2 mount needs root (umount)";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // In a private mount namespace, unmount every cgroup2 mount.
    if (unshare(CLONE_NEWNS) != 0) _exit(10);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(11);
    for (int i = 0; i < 16; ++i) {
      Result<Job> j = Job::Default();
      if (!j.ok()) {
        char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
        int out = -1;
        capspawn_status_t s = capspawn_job_default(&out, err);
        _exit(s == CAPSPAWN_ERR_NOT_SUPPORTED && Contains(err, "cgroup2") ? 0 : 12);
      }
      Result<std::string> p = j->Path();
      if (!p.ok()) _exit(13);
      // Walk up to the mount point and detach it.
      std::string mp = *p;
      for (;;) {
        size_t slash = mp.rfind('/');
        if (umount2(mp.c_str(), MNT_DETACH) == 0) break;
        if (slash == 0 || slash == std::string::npos) _exit(14);
        mp.resize(slash);
      }
    }
    _exit(15);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace capspawn::jobtest
