// SPDX-License-Identifier: Apache-2.0
// SpawnVmo: capspawn_spawn_vmo runs a program given as an fd (a memfd copy or
// an open file) and always consumes that fd.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace capspawn_test {
namespace {

// A memfd holding `bytes`, optionally sealed against change.
int MemfdWith(const std::string& bytes, bool seal, unsigned extra_flags = 0) {
  int fd = memfd_create("spawn-child-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING | extra_flags);
  if (fd < 0 && errno == EINVAL && extra_flags == 0) {
    fd = memfd_create("spawn-child-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  }
  if (fd < 0) return -1;
  if (!WriteAll(fd, bytes)) {
    close(fd);
    return -1;
  }
  if (seal) fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

// With MFD_EXEC where the kernel knows it (vm.memfd_noexec may default to noexec).
int ExecMemfd(const std::string& bytes, bool seal) {
  int fd = MemfdWith(bytes, seal, MFD_EXEC);
  if (fd < 0) fd = MemfdWith(bytes, seal);
  return fd;
}

TEST(SpawnVmo, SealedMemfdCopyRuns) {
  int fd = ExecMemfd(ReadFileBytes(ChildPath()), true);
  ASSERT_GE(fd, 0);
  ChildRun run = RunChildVmo(CAPSPAWN_CLONE_ALL, fd, {"vmo-child", "--exit", "43"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_FALSE(FdIsOpen(fd)) << "the executable fd is consumed";
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{"vmo-child", "--exit", "43"}));
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(run.return_code, 43);
}

TEST(SpawnVmo, UnsealedMemfdRuns) {
  int fd = ExecMemfd(ReadFileBytes(ChildPath()), false);
  ASSERT_GE(fd, 0);
  ChildRun run = RunChildVmo(CAPSPAWN_CLONE_ALL, fd, {"vmo-child"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_FALSE(FdIsOpen(fd));
  EXPECT_TRUE(run.report.complete);
  EXPECT_EQ(run.return_code, 0);
}

TEST(SpawnVmo, DynamicProgramFromMemfd) {
  int fd = ExecMemfd(ReadFileBytes(DynChildPath()), true);
  ASSERT_GE(fd, 0);
  ChildRun run = RunChildVmo(CAPSPAWN_CLONE_ALL, fd, {"dyn-vmo-child", "--exit", "5"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.return_code, 5);
}

TEST(SpawnVmo, OpenFileRuns) {
  int fd = open(ChildPath(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ChildRun run = RunChildVmo(CAPSPAWN_CLONE_ALL, fd, {"file-child", "--exit", "6"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_FALSE(FdIsOpen(fd));
  EXPECT_EQ(run.return_code, 6);
}

// The executable fd itself never reaches the child.
TEST(SpawnVmo, ExecutableFdIsNotHandedToTheChild) {
  int fd = ExecMemfd(ReadFileBytes(ChildPath()), true);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fcntl(fd, F_SETFD, 0), 0);  // even when inheritable
  ChildRun run =
      RunChildVmo(CAPSPAWN_CLONE_NAMESPACE, fd, {"vmo-child", "--report-fd", "4"}, {}, {}, 4);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 4}));
}

TEST(SpawnVmo, BadFdIsBadHandle) {
  ASSERT_FALSE(FdIsOpen(987));
  for (int bad : {-1, 987}) {
    Spawned s = SpawnVmo(CAPSPAWN_CLONE_ALL, bad, {"x"});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_BAD_HANDLE) << s.err;
    EXPECT_FALSE(s.err.empty());
    EXPECT_EQ(s.raw_process_out, -1);
  }
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnVmo, PipeIsWrongType) {
  Pipe p = MakePipe();
  int fd = p.read.release();
  Spawned s = SpawnVmo(CAPSPAWN_CLONE_ALL, fd, {"x"});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_WRONG_TYPE) << s.err;
  EXPECT_FALSE(FdIsOpen(fd)) << "consumed even on failure";
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnVmo, SocketIsWrongType) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd peer(sv[1]);
  Spawned s = SpawnVmo(CAPSPAWN_CLONE_ALL, sv[0], {"x"});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_WRONG_TYPE) << s.err;
  EXPECT_FALSE(FdIsOpen(sv[0]));
}

TEST(SpawnVmo, InvalidArgsStillConsumeTheFd) {
  int fd = ExecMemfd(ReadFileBytes(ChildPath()), true);
  ASSERT_GE(fd, 0);
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  EXPECT_EQ(
      capspawn_spawn_vmo(-1, CAPSPAWN_CLONE_ALL, fd, nullptr, nullptr, 0, nullptr, &process, err),
      CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_FALSE(FdIsOpen(fd));
  EXPECT_EQ(process, -1);
}

// fdio_spawn_vmo: the launcher's NOT_FOUND for a file it cannot load is
// remapped to INTERNAL ("callers could misinterpret this to mean the binary
// was not found").
TEST(SpawnVmo, NotAProgramIsInternal) {
  int fd = MemfdWith("just some text\n", true);
  ASSERT_GE(fd, 0);
  Spawned s = SpawnVmo(CAPSPAWN_CLONE_ALL, fd, {"x"});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INTERNAL) << s.err;
  EXPECT_NE(s.err.find("ELF"), std::string::npos) << s.err;
  EXPECT_FALSE(FdIsOpen(fd));
}

// fdio: an executable that may not be executed is ACCESS_DENIED.
TEST(SpawnVmo, NoExecMemfdIsAccessDenied) {
  int fd = memfd_create("noexec", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
  if (fd < 0) GTEST_SKIP() << "this kernel has no MFD_NOEXEC_SEAL";
  ASSERT_TRUE(WriteAll(fd, ReadFileBytes(ChildPath())));
  Spawned s = SpawnVmo(CAPSPAWN_CLONE_ALL, fd, {"x"});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_ACCESS_DENIED) << s.err;
  EXPECT_FALSE(FdIsOpen(fd));
  EXPECT_EQ(s.raw_process_out, -1);
  EXPECT_FALSE(HasWaitableChild());
}

// docs/spawn.md: for spawn_vmo the script "path" is argv[0].
TEST(SpawnVmo, ScriptInAMemfd) {
  int fd = MemfdWith("#!" + std::string(ChildPath()) + " one arg\n", true);
  ASSERT_GE(fd, 0);
  ChildRun run = RunChildVmo(CAPSPAWN_CLONE_ALL, fd, {"my-script", "x"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), "one arg", "my-script", "x"}));
  EXPECT_FALSE(FdIsOpen(fd));
}

// docs/spawn.md: a write-only fd cannot be read, so it cannot be loaded.
TEST(SpawnVmo, WriteOnlyFdIsAccessDenied) {
  TempDir dir;
  std::string path = dir.CopyFile(ChildPath(), "copy");
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Spawned s = SpawnVmo(CAPSPAWN_CLONE_ALL, fd, {"x"});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_ACCESS_DENIED) << s.err;
  EXPECT_FALSE(FdIsOpen(fd));
  EXPECT_FALSE(HasWaitableChild());
}

}  // namespace
}  // namespace capspawn_test
