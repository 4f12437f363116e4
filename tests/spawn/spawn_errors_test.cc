// SPDX-License-Identifier: Apache-2.0
// SpawnErrors: each failure is a status plus a message naming what failed, and
// leaves no process and no fd behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <capspawn/job.h>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

// Spawns path expecting `want`; checks the message names `named` and that the
// failure left nothing behind.
void ExpectSpawnFails(const std::string& path, capspawn_status_t want, const std::string& named) {
  SCOPED_TRACE(path);
  int fds_before = CountOpenFds();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, path, {path});
  EXPECT_EQ(s.status, want) << capspawn_status_string(s.status) << ": " << s.err;
  EXPECT_EQ(s.raw_process_out, -1);
  EXPECT_NE(s.err.find(named), std::string::npos) << "message: " << s.err;
  EXPECT_EQ(CountOpenFds(), fds_before);
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
}

// Fuchsia's SpawnErrors: an ADD_NS_ENTRY or ADD_HANDLE action whose handle
// is ZX_HANDLE_INVALID is INVALID_ARGS (capspawn's invalid handle is -1),
// before anything is created. A closed fd is another answer: BAD_HANDLE.
TEST(SpawnErrors, InvalidHandleInActionsIsInvalidArgs) {
  capspawn_action_t ns = AddNsEntry("/foo/bar/baz", CAPSPAWN_INVALID_HANDLE);
  capspawn_action_t handle = AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), -1);
  for (const capspawn_action_t& a : {ns, handle}) {
    SCOPED_TRACE(a.action);
    int fds_before = CountOpenFds();
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {a});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS)
        << capspawn_status_string(s.status) << ": " << s.err;
    EXPECT_NE(s.err.find("-1"), std::string::npos) << s.err;
    EXPECT_NE(s.err.find("action 0"), std::string::npos) << s.err;
    EXPECT_EQ(CountOpenFds(), fds_before);
    EXPECT_FALSE(HasWaitableChild());
  }
  // A closed fd number in either action stays BAD_HANDLE.
  ASSERT_FALSE(FdIsOpen(777));
  for (const capspawn_action_t& a : {AddNsEntry("/foo", 777), AddHandle(CAPSPAWN_PA_USER0, 777)}) {
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {a});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_BAD_HANDLE) << s.err;
    EXPECT_NE(s.err.find("777"), std::string::npos) << s.err;
  }
}

TEST(SpawnErrors, PathIsDirectory) {
  TempDir dir;
  ExpectSpawnFails(dir.path(), CAPSPAWN_ERR_BAD_HANDLE, dir.path());
}

TEST(SpawnErrors, PathIsCharDevice) {
  ExpectSpawnFails("/dev/null", CAPSPAWN_ERR_BAD_HANDLE, "/dev/null");
}

// Opening a FIFO for reading would block until a writer comes: spawn must not.
// The spawn runs in a forked process so that a spawn that blocks fails this
// test instead of hanging the suite.
TEST(SpawnErrors, PathIsFifo) {
  TempDir dir;
  std::string fifo = dir.Path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0755), 0);
  Pipe result = MakePipe();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    {
      Spawned s = Spawn(CAPSPAWN_CLONE_ALL, fifo, {fifo});
      WriteAll(result.write.get(), std::to_string(s.status) + " " + s.err);
    }
    _exit(0);
  }
  result.write.reset();
  std::string line = ReadAll(result.read.get(), 20000);
  if (line.empty()) kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  ASSERT_FALSE(line.empty())
      << "spawn of a FIFO path blocked (opened it without O_NONBLOCK/O_PATH?)";
  EXPECT_EQ(line.substr(0, line.find(' ')), std::to_string(CAPSPAWN_ERR_BAD_HANDLE)) << line;
  EXPECT_NE(line.find(fifo), std::string::npos) << line;
}

// With a writer present the open does not block; the answer is the same.
TEST(SpawnErrors, PathIsFifoWithAWriter) {
  TempDir dir;
  std::string fifo = dir.Path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0755), 0);
  UniqueFd both(open(fifo.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(both);
  ExpectSpawnFails(fifo, CAPSPAWN_ERR_BAD_HANDLE, fifo);
}

TEST(SpawnErrors, PathIsSocket) {
  TempDir dir;
  std::string path = dir.Path("sock");
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  chmod(path.c_str(), 0755);
  ExpectSpawnFails(path, CAPSPAWN_ERR_BAD_HANDLE, path);
}

TEST(SpawnErrors, NoExecutePermission) {
  TempDir dir;
  std::string path = dir.CopyFile(ChildPath(), "not-executable", 0644);
  ExpectSpawnFails(path, CAPSPAWN_ERR_ACCESS_DENIED, path);
}

// docs/spawn.md: as Fuchsia, a file that cannot be loaded is NOT_FOUND.
// fdio_spawn_vmo: a file the launcher cannot load (ZX_ERR_NOT_FOUND from
// the ELF parser) is reported as ZX_ERR_INTERNAL, so that callers do not read
// it as "no such program".
TEST(SpawnErrors, NeitherElfNorScriptIsInternal) {
  TempDir dir;
  std::string path = dir.WriteFile("text", "hello, I am not a program\n");
  ExpectSpawnFails(path, CAPSPAWN_ERR_INTERNAL, path);
}

// docs/spawn.md: an execute-only file is opened O_PATH (and not pre-flighted).
TEST(SpawnErrors, ExecuteOnlyFileRuns) {
  TempDir dir;
  std::string path = dir.CopyFile(ChildPath(), "execute-only", 0711);
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, path, {path, "--exit", "8"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_TRUE(run.report.complete);
  EXPECT_EQ(run.return_code, 8);
}

// fdio.h: ZX_ERR_OUT_OF_RANGE "executable_vmo is smaller than the resolver
// prefix" (its read of the first line fails past the end of an empty file).
TEST(SpawnErrors, EmptyFileIsOutOfRange) {
  TempDir dir;
  std::string path = dir.WriteFile("empty", "");
  ExpectSpawnFails(path, CAPSPAWN_ERR_OUT_OF_RANGE, "empty");
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  Spawned s = SpawnVmo(CAPSPAWN_CLONE_ALL, fd.release(), {path});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_OUT_OF_RANGE) << s.err;
}

TEST(SpawnErrors, NonexistentPathIsNamed) {
  ExpectSpawnFails("/bogus/path", CAPSPAWN_ERR_NOT_FOUND, "/bogus/path");
}

// fdio_fd_clone / fdio_fd_transfer: "ZX_ERR_INVALID_ARGS: fd is not a valid
// file descriptor".
TEST(SpawnErrors, BadCloneFd) {
  for (int bad : {-1, 987}) {
    SCOPED_TRACE(bad);
    ASSERT_FALSE(FdIsOpen(987));
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {CloneFd(bad, 10)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
    EXPECT_NE(s.err.find(std::to_string(bad)), std::string::npos) << s.err;
    EXPECT_EQ(s.raw_process_out, -1);
    EXPECT_FALSE(HasWaitableChild());
  }
}

TEST(SpawnErrors, BadTransferFd) {
  for (int bad : {-1, 987}) {
    SCOPED_TRACE(bad);
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {TransferFd(bad, 10)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
    EXPECT_NE(s.err.find(std::to_string(bad)), std::string::npos) << s.err;
    EXPECT_FALSE(HasWaitableChild());
  }
}

TEST(SpawnErrors, BadActionFdNamesTheActionIndex) {
  Pipe p = MakePipe();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {CloneFd(p.read.get(), 10), CloneFd(p.read.get(), 11), CloneFd(987, 12)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_NE(s.err.find("987"), std::string::npos) << s.err;
  EXPECT_TRUE(NamesActionIndex(s.err, 2)) << s.err;
  EXPECT_TRUE(FdIsOpen(p.read.get())) << "CLONE_FD must not close the caller's fd";
}

// A namespace entry's handle is consumed even when the entry is refused
// (docs/namespaces.md: with CLONE_NAMESPACE the target must already exist).
TEST(SpawnErrors, RefusedNamespaceEntryIsConsumed) {
  UniqueFd dir(open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  int handle = dir.release();
  // A path that is not normalised: refused before anything is mounted.
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {AddNsEntry("/capspawn-test/../dir", handle)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_NE(s.err.find("mount /capspawn-test/../dir (action 0)"), std::string::npos) << s.err;
  EXPECT_FALSE(FdIsOpen(handle)) << "the namespace entry's handle is consumed";
  EXPECT_FALSE(HasWaitableChild());
}

// fdio: a CLONE_DIR prefix with a trailing '/' is rejected.
TEST(SpawnErrors, CloneDirWithTrailingSlash) {
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_NAMESPACE, ChildPath(), {ChildPath()}, {},
                    {CloneDir("/tmp/")});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_FALSE(HasWaitableChild());
}

}  // namespace
}  // namespace capspawn_test

namespace capspawn_test {
namespace {

// fdio's BinPaths: fdio removes ".." from a path's text, so
// "./pkg/foo/../bin/x" runs pkg/bin/x even when pkg/foo does not exist.
// capspawn opens the path as Linux does, the kernel walking ".." through the
// directory before it (docs/spawn.md says why): that directory must exist,
// and a symlink there is followed before "..".
TEST(SpawnPaths, BinPathsDotDotIsResolvedByTheKernel) {
  TempDir dir;
  ASSERT_EQ(mkdir(dir.Path("pkg").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.Path("pkg/bin").c_str(), 0755), 0);
  dir.CopyFile(ChildPath(), "pkg/bin/x", 0755);
  const std::string path = dir.Path("pkg/foo/../bin/x");

  Spawned missing = Spawn(CAPSPAWN_CLONE_ALL, path, {path});
  EXPECT_EQ(missing.status, CAPSPAWN_ERR_NOT_FOUND) << missing.err;
  EXPECT_NE(missing.err.find(path), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("\"..\" is resolved by the kernel"), std::string::npos) << missing.err;
  EXPECT_FALSE(HasWaitableChild());

  ASSERT_EQ(mkdir(dir.Path("pkg/foo").c_str(), 0755), 0);
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, path, {path, "--exit", "5"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 5);

  // pkg/foo a symlink to elsewhere/sub: ".." is elsewhere, where bin/x is
  // another program than the text suggests.
  ASSERT_EQ(rmdir(dir.Path("pkg/foo").c_str()), 0);
  ASSERT_EQ(mkdir(dir.Path("elsewhere").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.Path("elsewhere/sub").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.Path("elsewhere/bin").c_str(), 0755), 0);
  dir.WriteFile("elsewhere/bin/x", "#!/bin/sh\nexit 9\n", 0755);
  ASSERT_EQ(symlink(dir.Path("elsewhere/sub").c_str(), dir.Path("pkg/foo").c_str()), 0);
  Spawned other = Spawn(CAPSPAWN_CLONE_ALL, path, {path});
  ASSERT_EQ(other.status, CAPSPAWN_OK) << other.err;
  EXPECT_EQ(Wait(other.process.get()), 9);
}

// One rule for the error buffer of every entry point that takes one: the
// message of a failure, "" after a success (src/api/barrier.h).
TEST(ErrorBuffer, EmptyAfterSuccess) {
  const char* argv[] = {ChildPath(), nullptr};
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  std::strcpy(err, "stale");
  int process = -1;
  ASSERT_EQ(capspawn_spawn_etc(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, ChildPath(), argv,
                               nullptr, 0, nullptr, &process, err),
            CAPSPAWN_OK)
      << err;
  EXPECT_STREQ(err, "");
  EXPECT_EQ(Wait(process), 0);
  close(process);

  std::strcpy(err, "stale");
  int job = -1;
  ASSERT_EQ(capspawn_job_default(&job, err), CAPSPAWN_OK) << err;
  EXPECT_STREQ(err, "");
  close(job);

  std::strcpy(err, "stale");
  EXPECT_EQ(capspawn_spawn_etc(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, nullptr, argv, nullptr,
                               0, nullptr, &process, err),
            CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_STREQ(err, "path is NULL");
}

}  // namespace
}  // namespace capspawn_test
