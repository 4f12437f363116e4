// SpawnErrors: each failure is a status plus a message naming what failed, and
// leaves no process and no fd behind.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <string>

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

TEST(SpawnErrors, PathIsDirectory) {
  TempDir dir;
  ExpectSpawnFails(dir.path(), CAPSPAWN_ERR_BAD_HANDLE, dir.path());
}

TEST(SpawnErrors, PathIsCharDevice) {
  ExpectSpawnFails("/dev/null", CAPSPAWN_ERR_BAD_HANDLE, "/dev/null");
}

// Opening a FIFO for reading would block until a writer comes: spawn must not.
TEST(SpawnErrors, PathIsFifo) {
  TempDir dir;
  std::string fifo = dir.Path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0755), 0);
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

TEST(SpawnErrors, NeitherElfNorScript) {
  TempDir dir;
  std::string path = dir.WriteFile("text", "hello, I am not a program\n");
  ExpectSpawnFails(path, CAPSPAWN_ERR_NOT_SUPPORTED, path);
}

TEST(SpawnErrors, EmptyFile) {
  TempDir dir;
  std::string path = dir.WriteFile("empty", "");
  int fds_before = CountOpenFds();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, path, {path});
  EXPECT_NE(s.status, CAPSPAWN_OK);
  EXPECT_NE(s.err.find(path), std::string::npos) << s.err;
  EXPECT_EQ(CountOpenFds(), fds_before);
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnErrors, NonexistentPathIsNamed) {
  ExpectSpawnFails("/bogus/path", CAPSPAWN_ERR_NOT_FOUND, "/bogus/path");
}

TEST(SpawnErrors, BadCloneFd) {
  for (int bad : {-1, 987}) {
    SCOPED_TRACE(bad);
    ASSERT_FALSE(FdIsOpen(987));
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {CloneFd(bad, 10)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_BAD_HANDLE) << s.err;
    EXPECT_NE(s.err.find(std::to_string(bad)), std::string::npos) << s.err;
    EXPECT_EQ(s.raw_process_out, -1);
    EXPECT_FALSE(HasWaitableChild());
  }
}

TEST(SpawnErrors, BadTransferFd) {
  for (int bad : {-1, 987}) {
    SCOPED_TRACE(bad);
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {TransferFd(bad, 10)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_BAD_HANDLE) << s.err;
    EXPECT_NE(s.err.find(std::to_string(bad)), std::string::npos) << s.err;
    EXPECT_FALSE(HasWaitableChild());
  }
}

TEST(SpawnErrors, BadActionFdNamesTheActionIndex) {
  Pipe p = MakePipe();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {CloneFd(p.read.get(), 10), CloneFd(p.read.get(), 11), CloneFd(987, 12)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_BAD_HANDLE) << s.err;
  EXPECT_NE(s.err.find("987"), std::string::npos) << s.err;
  EXPECT_TRUE(std::regex_search(s.err, std::regex("action[^0-9]{0,3}2\\b"))) << s.err;
  EXPECT_TRUE(FdIsOpen(p.read.get())) << "CLONE_FD must not close the caller's fd";
}

// Without CLONE_NAMESPACE (or with namespace actions) spawn refuses for now,
// rather than silently sharing the caller's filesystem.
TEST(SpawnErrors, NamespacesNotSupportedYet) {
  for (uint32_t flags :
       {0u, CAPSPAWN_CLONE_STDIO, CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_NAMESPACE}) {
    SCOPED_TRACE(flags);
    Pipe p = MakePipe();
    int transferred = p.write.release();
    Spawned s = Spawn(flags, ChildPath(), {ChildPath()}, {}, {TransferFd(transferred, 1)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_NOT_SUPPORTED) << s.err;
    EXPECT_FALSE(s.err.empty());
    EXPECT_FALSE(FdIsOpen(transferred));
    EXPECT_FALSE(HasWaitableChild());
  }
  {
    UniqueFd dir(open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    int handle = dir.release();
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                      {AddNsEntry("/data", handle)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_NOT_SUPPORTED) << s.err;
    EXPECT_FALSE(FdIsOpen(handle)) << "the namespace entry's handle is consumed";
    EXPECT_FALSE(HasWaitableChild());
  }
  {
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {CloneDir("/tmp")});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_NOT_SUPPORTED) << s.err;
    EXPECT_FALSE(HasWaitableChild());
  }
}

}  // namespace
}  // namespace capspawn_test
