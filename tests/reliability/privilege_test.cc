// SPDX-License-Identifier: Apache-2.0
// Privilege boundaries of the in-process API: a set-user-ID program gains
// nothing inside an unprivileged caller's private namespace.
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

// Runs `probe` as nobody (a forked child drops to uid/gid 65534) and returns
// its exit code, or a negative code for a failure before the spawn.
int RunAsNobody(const std::string& probe, const std::string& dir, bool private_ns) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(100);
    }
    // Changing uids made this process non-dumpable, which leaves its /proc
    // files (uid_map...) to root; an ordinary nobody process is dumpable.
    if (prctl(PR_SET_DUMPABLE, 1) != 0) _exit(102);
    uint32_t flags = CAPSPAWN_CLONE_ALL;
    std::vector<capspawn_action_t> actions;
    if (private_ns) {
      flags &= ~CAPSPAWN_CLONE_NAMESPACE;
      actions.push_back(AddNsEntry("/data", open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)));
    }
    Spawned s = Spawn(flags, probe, {"ids_probe"}, {}, actions);
    if (s.status != CAPSPAWN_OK) {
      fprintf(stderr, "spawn: %s %s\n", capspawn_status_string(s.status), s.err.c_str());
      _exit(101);
    }
    _exit(static_cast<int>(Wait(s.process.get())));
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -2;
  return WEXITSTATUS(status);
}

TEST(Privilege, SetuidGainsNothingInAnUnprivilegedNamespace) {
  if (geteuid() != 0) GTEST_SKIP() << "making a set-user-ID root program needs root";
  // Not under /tmp: it may be mounted nosuid.
  char tmpl[] = "/var/tmp/capspawn-setuid-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  const std::string probe = dir + "/ids_probe";
  {
    int in = open(CAPSPAWN_TEST_IDS_PROBE, O_RDONLY | O_CLOEXEC);
    int out = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    ASSERT_GE(in, 0);
    ASSERT_GE(out, 0);
    char buf[65536];
    for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;) ASSERT_EQ(write(out, buf, n), n);
    close(in);
    close(out);
  }
  ASSERT_EQ(chown(probe.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(probe.c_str(), 04755), 0);

  // The control: with the caller's own namespace the set-user-ID bit works,
  // so the probe can tell.
  const int shared = RunAsNobody(probe, dir, false);
  // In a private namespace (a user namespace for nobody) it gains nothing.
  const int isolated = RunAsNobody(probe, dir, true);
  unlink(probe.c_str());
  rmdir(dir.c_str());
  EXPECT_EQ(shared, 42) << "the set-user-ID control did not run as root (101: spawn failed)";
  EXPECT_EQ(isolated, 7) << "42: the probe ran as root; 101: spawn failed";
}

}  // namespace
}  // namespace capspawn_test
