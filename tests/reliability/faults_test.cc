// SPDX-License-Identifier: Apache-2.0
// Injected faults for the in-process API: the world changes under a spawn, or
// a resource runs out. Each fails with a clear status, or works, and leaves
// nothing behind. (The job at its pids.max: tests/job; the launcher: tests/launcher.)
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/launch.h"
#include "test_util.h"

namespace capspawn_test {
namespace {

void ExpectNothingLeft(int baseline_fds) {
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
  EXPECT_EQ(CountOpenFds(), baseline_fds);
}

// A handed directory removed after the caller opened it and before the spawn
// mounts it: the entry still names a directory (an empty, unlinked one). The
// spawn either binds it (the child sees an empty directory) or refuses with a
// message naming the entry; either way nothing is left.
TEST(Faults, EntryRemovedBeforeTheMount) {
  TempDir dir;
  const std::string victim = dir.Path("victim");
  ASSERT_EQ(mkdir(victim.c_str(), 0755), 0);
  // A namespace spawn that works first: the namespace cache keeps fds of its
  // own (docs/namespaces.md), which are not the failure's to release.
  Spawned warm = Spawn(CAPSPAWN_CLONE_STDIO, CAPSPAWN_TEST_NS_PROBE, {"ns_probe", "e:/data"}, {},
                       {AddNsEntry("/data", open(dir.path().c_str(), O_PATH | O_CLOEXEC))});
  ASSERT_EQ(warm.status, CAPSPAWN_OK) << warm.err;
  EXPECT_EQ(Wait(warm.process.get()), 0);
  warm.process.reset();
  const int fds = CountOpenFds();
  int handle = open(victim.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(handle, 0);
  ASSERT_EQ(rmdir(victim.c_str()), 0);
  Spawned run = Spawn(CAPSPAWN_CLONE_STDIO, CAPSPAWN_TEST_NS_PROBE,
                      {"ns_probe", "ls:/data=", "a:/tmp"}, {}, {AddNsEntry("/data", handle)});
  if (run.status == CAPSPAWN_OK) {
    EXPECT_EQ(Wait(run.process.get()), 0);
    run.process.reset();
  } else {
    EXPECT_NE(run.err.find("/data"), std::string::npos) << run.err;
    EXPECT_NE(run.status, CAPSPAWN_ERR_INTERNAL) << run.err;
  }
  printf("[ note     ] removed entry: %s %s\n", capspawn_status_string(run.status),
         run.err.c_str());
  ExpectNothingLeft(fds);
}

// The executable replaced on disk between the caller's open and the exec: the
// fd is what runs (no path is looked up again).
TEST(Faults, ExecutableReplacedAfterOpenRunsWhatWasOpened) {
  TempDir dir;
  const std::string program = dir.CopyFile(ChildPath(), "prog");
  int fd = open(program.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(unlink(program.c_str()), 0);
  dir.WriteFile("prog", "#!/bin/false\n");
  ChildRun run = RunChildVmo(CAPSPAWN_CLONE_ALL, fd, {"prog"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.return_code, 0);
}

// The caller at its fd limit: the spawn needs a pidfd and fails with
// NO_RESOURCES, naming the step; nothing is left; with room again it works.
TEST(Faults, CallerAtItsFdLimitIsNoResources) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // In a child process so the lowered limit cannot disturb other tests.
    const int before = CountOpenFds();
    rlimit rl{static_cast<rlim_t>(before + 8), static_cast<rlim_t>(before + 8)};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(10);
    std::vector<int> fill;
    for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fill.push_back(fd);
    const int full = CountOpenFds();
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()});
    if (s.status != CAPSPAWN_ERR_NO_RESOURCES) {
      fprintf(stderr, "at the limit: %s %s\n", capspawn_status_string(s.status), s.err.c_str());
      _exit(11);
    }
    if (CountOpenFds() != full || HasWaitableChild()) _exit(12);
    for (int fd : fill) close(fd);
    Spawned ok = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()});
    if (ok.status != CAPSPAWN_OK || Wait(ok.process.get()) != 0) _exit(13);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: setrlimit, 11: wrong status, 12: leak, 13: no recovery";
}

// A child killed before its exec (the engine's test hook makes it SIGKILL
// itself just before execveat): the spawn fails, naming the signal, and
// nothing is left; the next spawn works. Through clone3 and through the
// legacy clone() path.
TEST(Faults, AChildKilledBeforeItsExecIsAFailureAndLeavesNothing) {
  for (bool legacy : {false, true}) {
    SCOPED_TRACE(legacy ? "legacy clone()" : "clone3");
    capspawn::engine::SetForceLegacyCloneForTesting(legacy);
    const int before = CountOpenFds();
    capspawn::engine::SetKillChildBeforeExecForTesting(true);
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()});
    capspawn::engine::SetKillChildBeforeExecForTesting(false);
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INTERNAL) << s.err;
    EXPECT_NE(s.err.find("killed by signal 9"), std::string::npos) << s.err;
    EXPECT_NE(s.err.find("before its exec"), std::string::npos) << s.err;
    EXPECT_LT(s.process.get(), 0);
    ExpectNothingLeft(before);
    Spawned ok = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()});
    ASSERT_EQ(ok.status, CAPSPAWN_OK) << ok.err;
    EXPECT_EQ(Wait(ok.process.get()), 0);
  }
  capspawn::engine::SetForceLegacyCloneForTesting(false);
}

// A full /tmp (a 64 KiB tmpfs filled up, in a private mount namespace of a
// forked child): a spawn with a private namespace does not need to write
// anywhere, so it still works.
TEST(Faults, FullTmpDoesNotStopANamespaceSpawn) {
  // The handed directory lives outside /tmp, which the test covers.
  char tmpl[] = "/var/tmp/capspawn-full-tmp-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string data = tmpl;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() != 0) {
      uid_t uid = geteuid();
      gid_t gid = getegid();
      if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(20);
      char map[64];
      int f = open("/proc/self/setgroups", O_WRONLY);
      if (f < 0 || write(f, "deny", 4) != 4) _exit(21);
      close(f);
      snprintf(map, sizeof map, "%u %u 1", uid, uid);
      f = open("/proc/self/uid_map", O_WRONLY);
      if (f < 0 || write(f, map, strlen(map)) < 0) _exit(21);
      close(f);
      snprintf(map, sizeof map, "%u %u 1", gid, gid);
      f = open("/proc/self/gid_map", O_WRONLY);
      if (f < 0 || write(f, map, strlen(map)) < 0) _exit(21);
      close(f);
    } else if (unshare(CLONE_NEWNS) != 0) {
      _exit(20);
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(22);
    int handle = open(data.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (handle < 0) _exit(23);
    if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=64k") != 0) _exit(24);
    int fill = open("/tmp/fill", O_WRONLY | O_CREAT, 0600);
    char block[4096] = {};
    while (fill >= 0 && write(fill, block, sizeof block) > 0) {
    }
    if (fill < 0 || write(fill, block, sizeof block) >= 0 || errno != ENOSPC) _exit(25);
    Spawned run = Spawn(CAPSPAWN_CLONE_STDIO, CAPSPAWN_TEST_NS_PROBE,
                        {"ns_probe", "ls:/data=", "a:/tmp"}, {}, {AddNsEntry("/data", handle)});
    if (run.status != CAPSPAWN_OK || Wait(run.process.get()) != 0) {
      fprintf(stderr, "full /tmp: %s %s\n", capspawn_status_string(run.status), run.err.c_str());
      _exit(26);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  rmdir(data.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 20) GTEST_SKIP() << "cannot unshare a mount namespace here";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace capspawn_test
