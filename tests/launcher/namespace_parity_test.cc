// SPDX-License-Identifier: Apache-2.0
// Namespace entries of every kind through the launcher, with what they mean
// in-process: a read-only entry refuses writes (EROFS), tmpfs, proc and a
// minimal /dev are made in the child. (The whole namespace suite also runs
// through a daemon: the namespace.via_launcher test.)
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <capspawn/launcher.h>
#include <capspawn/spawn.h>

#include "attack_util.h"
#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

constexpr uint32_t kPrivate = CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_NAMESPACE;

capspawn_action_t Ns(uint32_t action, const char* prefix, int fd = -1) {
  capspawn_action_t a{};
  a.action = action;
  if (fd >= 0) {
    a.ns.prefix = prefix;
    a.ns.handle = fd;
  } else {
    a.dir.prefix = prefix;
  }
  return a;
}

int OpenDirFd(const std::string& p) { return open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); }

// ns_probe with these expectations and actions; its exit status (0: all held).
int Probe(const Strings& expectations, const std::vector<capspawn_action_t>& actions,
          std::string* err) {
  Strings argv = {"ns_probe"};
  argv.insert(argv.end(), expectations.begin(), expectations.end());
  std::vector<capspawn_action_t> all = actions;
  all.push_back(CloneFd(2, 2));
  Spawned s = Spawn(kPrivate, CAPSPAWN_TEST_NS_PROBE, argv, Strings{}, all);
  if (s.status != CAPSPAWN_OK) {
    *err = std::string(capspawn_status_string(s.status)) + ": " + s.err;
    return -1;
  }
  return static_cast<int>(Wait(s.process.get()));
}

TEST_F(ViaLauncherTest, AReadOnlyEntryRefusesWrites) {
  TempDir ro, rw;
  std::string err;
  int rc = Probe({"r:/ro/x", "e:/ro", "w:/rw/y"},
                 {Ns(CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY, "/ro", OpenDirFd(ro.path())),
                  Ns(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/rw", OpenDirFd(rw.path()))},
                 &err);
  EXPECT_EQ(rc, 0) << err << "\n" << daemon_.Log();
  struct stat st;
  EXPECT_NE(stat(ro.Path("x").c_str(), &st), 0) << "written through a read-only entry";
  EXPECT_EQ(stat(rw.Path("y").c_str(), &st), 0);
}

TEST_F(ViaLauncherTest, TmpfsProcAndMinimalDevAreMadeInTheChild) {
  std::string err;
  int rc =
      Probe({"ls:/=dev,proc,tmp", "w:/tmp/x", "ls:/dev=null,urandom,zero", "w:/dev/null",
             "rd:/dev/zero", "r:/dev/new", "e:/proc/self/status", "pid:1"},
            {Ns(CAPSPAWN_ACTION_ADD_NS_TMPFS, "/tmp"), Ns(CAPSPAWN_ACTION_ADD_NS_PROC, "/proc"),
             Ns(CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL, "/dev")},
            &err);
  EXPECT_EQ(rc, 0) << err << "\n" << daemon_.Log();
}

// The CLI's --ro-ns through the launcher: the write fails with EROFS and
// nothing lands in the directory.
TEST_F(LauncherTest, CliReadOnlyNamespaceEntryThroughTheLauncher) {
  VarTmpDir data("cs-ro-");
  chmod(data.path().c_str(), 0777);
  Pipe out = MakePipe();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out.write.get(), 1);
    dup2(out.write.get(), 2);
    execl(CAPSPAWN_TEST_CLI, "capspawn", "run", "--launcher", daemon_.socket().c_str(), "--ro-ns",
          ("/data=" + data.path()).c_str(), "--", "/bin/sh", "-c", "echo x > /data/g",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  out.write.reset();
  std::string text = ReadAll(out.read.get());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status << " " << text;
  EXPECT_NE(text.find("Read-only file system"), std::string::npos) << text << daemon_.Log();
  struct stat st;
  EXPECT_NE(stat(data.Path("g").c_str(), &st), 0) << "the read-only entry was written";
}

}  // namespace
}  // namespace capspawn_test
