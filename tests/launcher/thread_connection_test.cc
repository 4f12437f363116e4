// SPDX-License-Identifier: Apache-2.0
// capspawn_spawn* through CAPSPAWN_LAUNCHER keep one launcher connection per
// thread between spawns (src/launcher/spawn_via_launcher.cc). These tests
// check that it is reused, closed with its thread, replaced after a daemon
// restart, after fork and after a change of credentials.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include <capspawn/spawn.h>

#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

using capspawn::UniqueFd;

// Inodes of the sockets this process holds.
std::set<std::string> Sockets() {
  std::set<std::string> out;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char target[128];
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::string(target).rfind("socket:", 0) == 0) out.insert(target);
  }
  closedir(d);
  return out;
}

class ThreadConnectionTest : public ViaLauncherTest {
 public:
  // spawn_child exiting with `code`, through the launcher; its return code,
  // or a negative status.
  static int64_t SpawnAndWait(int code) {
    std::string path = ChildPath();
    std::string c = std::to_string(code);
    const char* argv[] = {path.c_str(), "--report-fd", "-1", "--exit", c.c_str(), nullptr};
    int pidfd = -1;
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    capspawn_status_t st = capspawn_spawn_etc(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL,
                                              path.c_str(), argv, nullptr, 0, nullptr, &pidfd, err);
    if (st != CAPSPAWN_OK) {
      ADD_FAILURE() << capspawn_status_string(st) << ": " << err;
      return st;
    }
    int64_t rc = INT64_MIN;
    EXPECT_EQ(capspawn_process_wait(pidfd, -1, &rc), CAPSPAWN_OK);
    close(pidfd);
    return rc;
  }
};

TEST_F(ThreadConnectionTest, OneConnectionServesManySpawns) {
  std::set<std::string> before = Sockets();
  ASSERT_EQ(SpawnAndWait(3), 3);
  std::set<std::string> after_first = Sockets();
  // One new socket: the connection (one this thread kept for an earlier
  // test's daemon was replaced, as its path differs).
  size_t fresh = 0;
  for (const std::string& s : after_first) fresh += before.count(s) == 0;
  ASSERT_EQ(fresh, 1u);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(SpawnAndWait(i), i);
  EXPECT_EQ(Sockets(), after_first);
}

TEST_F(ThreadConnectionTest, ItClosesWithItsThread) {
  ASSERT_EQ(SpawnAndWait(0), 0);  // this thread's own connection
  std::set<std::string> before = Sockets();
  size_t inside = 0;
  std::thread t([&] {
    EXPECT_EQ(SpawnAndWait(5), 5);
    inside = Sockets().size();
  });
  t.join();
  EXPECT_EQ(inside, before.size() + 1);  // the thread had its own
  EXPECT_EQ(Sockets(), before);          // and it went with the thread
}

TEST_F(ThreadConnectionTest, ADaemonRestartedOnTheSamePathServesTheNextSpawn) {
  ASSERT_EQ(SpawnAndWait(1), 1);
  std::set<std::string> old_connection = Sockets();
  ASSERT_EQ(daemon_.Stop(), 0);
  // Restarted on the same path, as a supervisor would. The kept connection is
  // dead: the spawn goes over a new one, whole.
  ASSERT_NO_FATAL_FAILURE(daemon_.Restart());
  EXPECT_EQ(SpawnAndWait(2), 2);
  EXPECT_NE(Sockets(), old_connection);
  EXPECT_EQ(SpawnAndWait(4), 4);
}

TEST_F(ThreadConnectionTest, AForkedChildDoesNotShareItsParentsConnection) {
  std::set<std::string> before = Sockets();
  ASSERT_EQ(SpawnAndWait(0), 0);
  std::set<std::string> parent = Sockets();
  std::set<std::string> connection;
  for (const std::string& s : parent) {
    if (!before.count(s)) connection.insert(s);
  }
  ASSERT_EQ(connection.size(), 1u);
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The inherited connection must be left alone: a spawn here makes its own.
    bool ok = SpawnAndWait(6) == 6;
    std::set<std::string> mine = Sockets();
    // As many sockets as the parent, but not its connection.
    bool own = mine.size() == parent.size() && mine.count(*connection.begin()) == 0;
    char verdict = ok && own ? 'y' : 'n';
    (void)!write(report[1], &verdict, 1);
    _exit(0);
  }
  close(report[1]);
  char verdict = 0;
  ASSERT_EQ(read(report[0], &verdict, 1), 1);
  close(report[0]);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(verdict, 'y') << "the child reused or kept its parent's connection";
  // The parent's connection still works.
  EXPECT_EQ(SpawnAndWait(8), 8);
  EXPECT_EQ(Sockets(), parent);
}

// The daemon acts with the credentials recorded at connect: a caller that
// changed its effective uid must not be served over its old connection.
TEST_F(ThreadConnectionTest, AChangedUidGetsANewConnectionAndItsOwnIdentity) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to change uid";
  ASSERT_EQ(SpawnAndWait(0), 0);  // a connection made as root
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // A single-threaded child: change the uid, then spawn a sleeper and read
    // whose it is. (The fork alone would replace the connection too, so make
    // one here first, as root.)
    std::string path = ChildPath();
    const char* sleep_argv[] = {path.c_str(), "--report-fd", "-1", "--sleep", nullptr};
    int first = -1;
    if (capspawn_spawn(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, path.c_str(), sleep_argv,
                       &first) != CAPSPAWN_OK) {
      _exit(10);
    }
    capspawn_process_kill(first);
    close(first);
    prctl(PR_SET_DUMPABLE, 1);
    if (setresgid(65534, 65534, 0) != 0 || setresuid(65534, 65534, 0) != 0) _exit(11);
    prctl(PR_SET_DUMPABLE, 1);
    int pidfd = -1;
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    capspawn_status_t st =
        capspawn_spawn_etc(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, path.c_str(), sleep_argv,
                           nullptr, 0, nullptr, &pidfd, err);
    if (st != CAPSPAWN_OK) {
      std::string why = std::string("spawn as nobody: ") + capspawn_status_string(st) + ": " + err;
      (void)!write(report[1], why.data(), why.size());
      _exit(12);
    }
    capspawn::Process p{UniqueFd(pidfd)};
    const std::string uid_line = StatusField(p.pid(), "Uid");
    (void)p.Kill();
    (void)!write(report[1], uid_line.data(), uid_line.size());
    _exit(0);
  }
  close(report[1]);
  char buf[256] = {};
  ssize_t n = read(report[0], buf, sizeof buf - 1);
  close(report[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child status " << status << ": " << std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  ASSERT_GT(n, 0);
  // Real, effective, saved, fs: all 65534, none 0.
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "65534\t65534\t65534\t65534");
}

}  // namespace
}  // namespace capspawn_test
