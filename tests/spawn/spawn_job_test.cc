// SPDX-License-Identifier: Apache-2.0
// SpawnJob: the job argument as fdio has it. job = -1 is zx_job_default(), and
// the fd capspawn_job_default() opens names the same job: both create the
// child in the caller's own cgroup, as root and as nobody, in-process and
// through the launcher. A job the caller may not use is ACCESS_DENIED naming
// the directory.
#include <capspawn/job.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

std::string OwnCgroup() {
  std::string s = ReadFileBytes("/proc/self/cgroup");
  size_t at = s.find("0::");
  if (at == std::string::npos) return "?";
  s = s.substr(at + 3);
  return s.substr(0, s.find('\n'));
}

UniqueFd DefaultJob() {
  int fd = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t st = capspawn_job_default(&fd, err);
  EXPECT_EQ(st, CAPSPAWN_OK) << err;
  return UniqueFd(fd);
}

// fdio: "If job is ZX_HANDLE_INVALID, then the process is spawned in
// zx_job_default()". The default job's own fd is the same job.
TEST(SpawnJob, DefaultJobSpelledTwoWays) {
  UniqueFd job = DefaultJob();
  ASSERT_TRUE(job);
  for (int j : {-1, job.get()}) {
    SCOPED_TRACE(j);
    Pipe p = MakePipe();
    Spawned s = Spawn(CAPSPAWN_CLONE_NAMESPACE, ChildPath(), {ChildPath()}, {},
                      {TransferFd(p.write.release(), 1)}, j);
    ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
    Report r = ParseReport(ReadAll(p.read.get()));
    EXPECT_EQ(Wait(s.process.get()), 0);
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.cgroup, OwnCgroup());
  }
  EXPECT_TRUE(FdIsOpen(job.get())) << "spawn borrows the job";
}

// With CLONE_JOB the job fd given is handed as PA_JOB_DEFAULT, the default
// job's too.
TEST(SpawnJob, DefaultJobFdIsHandedWithCloneJob) {
  UniqueFd job = DefaultJob();
  ASSERT_TRUE(job);
  Pipe p = MakePipe();
  Spawned s =
      Spawn(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_JOB, ChildPath(),
            {ChildPath(), "--handles", "3"}, {}, {TransferFd(p.write.release(), 1)}, job.get());
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  Report r = ParseReport(ReadAll(p.read.get()));
  EXPECT_EQ(Wait(s.process.get()), 0);
  const uint32_t id = CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0);
  EXPECT_EQ(r.handles[id].fd, 3);
  EXPECT_EQ(r.fds[3].ino, FdIno(job.get()));
}

// A cgroup directory the caller may not write: a fresh one made by root.
// As root the spawn runs in a forked child that became nobody.
struct ForeignCgroup {
  std::string path;
  ~ForeignCgroup() {
    if (!path.empty()) rmdir(path.c_str());
  }
};

// While alive, the CAPSPAWN_LAUNCHER socket (if any) and its directory may be
// reached by every user; their modes come back after.
class LauncherSocketOpenToAll {
 public:
  LauncherSocketOpenToAll() {
    const char* sock = getenv("CAPSPAWN_LAUNCHER");
    if (!sock) return;
    sock_ = sock;
    dir_ = sock_.substr(0, sock_.rfind('/'));
    struct stat st;
    if (stat(dir_.c_str(), &st) == 0) dir_mode_ = st.st_mode & 07777;
    if (stat(sock_.c_str(), &st) == 0) sock_mode_ = st.st_mode & 07777;
    chmod(dir_.c_str(), dir_mode_ | 0011);
    chmod(sock_.c_str(), 0666);
  }
  ~LauncherSocketOpenToAll() {
    if (sock_.empty()) return;
    chmod(sock_.c_str(), sock_mode_);
    chmod(dir_.c_str(), dir_mode_);
  }

 private:
  std::string sock_, dir_;
  mode_t dir_mode_ = 0700, sock_mode_ = 0600;
};

// fdio's SpawnErrors: a job handle without rights is ZX_ERR_ACCESS_DENIED.
// The Linux counterpart is a cgroup the caller may not move processes into.
TEST(SpawnErrors, JobWithNoRightsIsAccessDenied) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to make a cgroup that nobody may use (the run as root covers "
                    "it, spawning as nobody from a forked child)";
  }
  UniqueFd own = DefaultJob();
  ASSERT_TRUE(own);
  char path[4096];
  ssize_t n =
      readlink(("/proc/self/fd/" + std::to_string(own.get())).c_str(), path, sizeof path - 1);
  ASSERT_GT(n, 0);
  path[n] = '\0';
  ForeignCgroup cg;
  cg.path = std::string(path) + "/capspawn-norights-" + std::to_string(getpid());
  if (mkdir(cg.path.c_str(), 0755) != 0) {
    cg.path.clear();
    GTEST_SKIP() << "cannot create a cgroup here: " << std::strerror(errno);
  }
  UniqueFd job(open(cg.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(job);
  // Through a launcher, nobody must reach root's socket for the daemon to
  // give its answer (its check of the client's rights).
  LauncherSocketOpenToAll open_socket;
  Pipe result = MakePipe();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(2);
    }
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {}, job.get());
    WriteAll(result.write.get(), std::to_string(s.status) + " " + s.err);
    _exit(HasWaitableChild() ? 3 : 0);
  }
  result.write.reset();
  std::string line = ReadAll(result.read.get());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: could not become nobody; 3: a child was left";
  EXPECT_EQ(line.substr(0, line.find(' ')), std::to_string(CAPSPAWN_ERR_ACCESS_DENIED)) << line;
  EXPECT_NE(line.find(cg.path), std::string::npos) << "the message names the directory: " << line;
}

}  // namespace
}  // namespace capspawn_test
