// SPDX-License-Identifier: Apache-2.0
// The job suite again, as `nobody` inside a cgroup subtree delegated to nobody: the way an
// unprivileged service manager (systemd Delegate=yes) hands cgroups to a user.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "job/cgroup_fs.h"
#include "job/job_tree.h"
#include "job_test_util.h"

namespace capspawn::jobtest {
namespace {

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Removes the delegated subtree however the test ends.
struct RemoveOnExit {
  std::string dir;
  ~RemoveOnExit() {
    Result<UniqueFd> d = job_internal::OpenCgroupDir(dir);
    if (!d.ok()) return;
    (void)job_internal::WriteControl(d->get(), "cgroup.kill", "1");
    (void)job_internal::WaitEvent(d->get(), "populated", 0, kLongNs);
    (void)job_internal::RemoveSubtree(d->get());
    EXPECT_EQ(rmdir(dir.c_str()), 0) << dir << ": " << strerror(errno);
  }
};

TEST(JobDelegated, SuitePassesAsNobodyInADelegatedSubtree_Root) {
  if (geteuid() != 0) GTEST_SKIP() << "delegating a subtree needs root";
  if (InDelegatedRun()) GTEST_SKIP() << "already the delegated run";
  const std::string setpriv = "/usr/bin/setpriv";
  if (access(setpriv.c_str(), X_OK) != 0) GTEST_SKIP() << "no " << setpriv;
  struct passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;

  Result<Job> def = Job::Default();
  if (def.status() == CAPSPAWN_ERR_NOT_SUPPORTED) GTEST_SKIP() << def.error().message();
  ASSERT_OK(def);
  Result<std::string> def_path = def->Path();
  ASSERT_OK(def_path);
  // The delegated subtree: a plain cgroup owned by nobody, as a delegator makes it.
  const std::string dir = *def_path + "/capspawn-delegated-" + std::to_string(getpid());
  if (mkdir(dir.c_str(), 0755) != 0 && errno == EROFS) {
    GTEST_SKIP() << "the cgroup2 file system is read-only here: " << dir;
  }
  struct stat made;
  ASSERT_EQ(stat(dir.c_str(), &made), 0) << dir << ": " << strerror(errno);
  RemoveOnExit cleanup{dir};
  for (const char* f : {"", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"}) {
    ASSERT_EQ(chown((dir + f).c_str(), uid, gid), 0) << dir << f;
  }

  Pipe out = MakePipe();
  const std::string exe = SelfExe();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Enter the subtree while still root, then become nobody.
    int procs = open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (procs < 0 || write(procs, "0", 1) != 1) _exit(120);
    dup2(out.write.get(), 1);
    dup2(out.write.get(), 2);
    setenv("CAPSPAWN_JOB_TEST_DELEGATED", "1", 1);
    const std::string uid_arg = "--reuid=" + std::to_string(uid);
    const std::string gid_arg = "--regid=" + std::to_string(gid);
    execl(setpriv.c_str(), "setpriv", uid_arg.c_str(), gid_arg.c_str(), "--clear-groups",
          exe.c_str(), "--gtest_filter=-JobDelegated.*", "--gtest_color=no",
          static_cast<char*>(nullptr));
    _exit(121);
  }
  out.write.reset();
  std::string text = ReadAll(out.read.get());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);

  // The unprivileged suite must have left nothing behind in its subtree.
  Result<UniqueFd> d = job_internal::OpenCgroupDir(dir);
  ASSERT_OK(d);
  Result<std::vector<std::string>> left = job_internal::SubCgroups(d->get());
  ASSERT_OK(left);
  EXPECT_TRUE(left->empty()) << "the unprivileged suite leaked cgroups under " << dir;

  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_NE(text.find("[  PASSED  ]"), std::string::npos) << text;
  // Only root-only tests may skip as the delegatee.
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("[  SKIPPED ]", 0) != 0 || line.find("listed below") != std::string::npos) {
      continue;
    }
    EXPECT_NE(line.find("_Root"), std::string::npos) << "skipped as nobody: " << line;
  }
}

}  // namespace
}  // namespace capspawn::jobtest
