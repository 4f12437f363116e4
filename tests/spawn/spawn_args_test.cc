// SPDX-License-Identifier: Apache-2.0
// SpawnInvalidArgs: malformed calls fail with INVALID_ARGS (or NOT_FOUND for a
// path that does not exist) before any process exists.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

// Nothing was created: no process handle, no child of ours.
void ExpectNothingCreated(const Spawned& s) {
  EXPECT_EQ(s.raw_process_out, -1);
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnInvalidArgs, NullArgv) {
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  EXPECT_EQ(capspawn_spawn(-1, CAPSPAWN_CLONE_ALL, ChildPath(), nullptr, &process),
            CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, ChildPath(), nullptr, nullptr, 0, nullptr,
                               &process, err),
            CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(err[0], '\0');
  EXPECT_EQ(process, -1);
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnInvalidArgs, EmptyArgvWithoutName) {
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_FALSE(s.err.empty());
  ExpectNothingCreated(s);
}

// As fdio: with a name, an empty argv is fine.
TEST(SpawnInvalidArgs, EmptyArgvWithNameRuns) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {}, {}, {SetName("no-argv")});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.return_code, 0);
  // Linux execve() turns an empty argv into {""} (5.18+); either is acceptable.
  EXPECT_LE(run.report.argc, 1);
}

TEST(SpawnInvalidArgs, NullPath) {
  const char* argv[] = {"x", nullptr};
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  EXPECT_EQ(capspawn_spawn(-1, CAPSPAWN_CLONE_ALL, nullptr, argv, &process),
            CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(
      capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, nullptr, argv, nullptr, 0, nullptr, &process, err),
      CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(process, -1);
}

TEST(SpawnInvalidArgs, NonexistentPath) {
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, "/bogus/not/a/file", {"x"});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_NOT_FOUND) << s.err;
  EXPECT_NE(s.err.find("/bogus/not/a/file"), std::string::npos) << s.err;
  ExpectNothingCreated(s);
}

TEST(SpawnInvalidArgs, ActionsNullWithCount) {
  const char* argv[] = {ChildPath(), nullptr};
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  EXPECT_EQ(capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, ChildPath(), argv, nullptr, 1, nullptr,
                               &process, err),
            CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(process, -1);
}

TEST(SpawnInvalidArgs, UnknownActionNamesItsIndex) {
  Pipe p = MakePipe();
  int transferred = p.write.release();
  capspawn_action_t bogus{};
  bogus.action = 99;
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {TransferFd(transferred, 20), SetName("x"), bogus});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_TRUE(NamesActionIndex(s.err, 2)) << s.err;
  EXPECT_FALSE(FdIsOpen(transferred)) << "TRANSFER_FD consumes its fd even when spawn fails";
  ExpectNothingCreated(s);
}

TEST(SpawnInvalidArgs, FlagsAbove16Bits) {
  for (uint32_t flags : {0x10000u | CAPSPAWN_CLONE_ALL, 0x80000000u | CAPSPAWN_CLONE_NAMESPACE,
                         0x00020000u | CAPSPAWN_CLONE_ALL}) {
    SCOPED_TRACE(flags);
    Spawned s = Spawn(flags, ChildPath(), {ChildPath()});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
    EXPECT_FALSE(s.err.empty());
    ExpectNothingCreated(s);
  }
}

TEST(SpawnInvalidArgs, SetNameNullData) {
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {SetName(nullptr)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  ExpectNothingCreated(s);
}

TEST(SpawnInvalidArgs, NullErrMsgIsAllowed) {
  const char* argv[] = {ChildPath(), "--report-fd", "-1", nullptr};
  int process = -1;
  EXPECT_EQ(capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, "/bogus/path", argv, nullptr, 0, nullptr,
                               &process, nullptr),
            CAPSPAWN_ERR_NOT_FOUND);
  ASSERT_EQ(capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, ChildPath(), argv, nullptr, 0, nullptr,
                               &process, nullptr),
            CAPSPAWN_OK);
  ProcessFd owner(process);
  EXPECT_EQ(Wait(process), 0);
}

// The message never overruns CAPSPAWN_ERR_MSG_MAX_LENGTH, however long the
// thing it names.
TEST(SpawnInvalidArgs, ErrorMessageFitsItsBuffer) {
  std::string long_path = "/bogus";
  while (long_path.size() < 3000) long_path += "/very-long-component";
  for (const std::string& path : {long_path, std::string("/bogus") + std::string(3000, 'x')}) {
    std::vector<char> buf(2 * CAPSPAWN_ERR_MSG_MAX_LENGTH, '\xAA');
    const char* argv[] = {"x", nullptr};
    int process = -1;
    capspawn_status_t st = capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, path.c_str(), argv, nullptr,
                                              0, nullptr, &process, buf.data());
    EXPECT_NE(st, CAPSPAWN_OK);
    EXPECT_EQ(process, -1);
    size_t len = strnlen(buf.data(), CAPSPAWN_ERR_MSG_MAX_LENGTH);
    EXPECT_LT(len, static_cast<size_t>(CAPSPAWN_ERR_MSG_MAX_LENGTH)) << "not NUL-terminated";
    EXPECT_GT(len, 0u);
    for (size_t i = CAPSPAWN_ERR_MSG_MAX_LENGTH; i < buf.size(); ++i) {
      ASSERT_EQ(buf[i], '\xAA') << "wrote past the buffer at " << i;
    }
  }
}

TEST(SpawnInvalidArgs, StatusStrings) {
  EXPECT_STREQ(capspawn_status_string(CAPSPAWN_OK), "CAPSPAWN_OK");
  EXPECT_STREQ(capspawn_status_string(CAPSPAWN_ERR_NOT_FOUND), "CAPSPAWN_ERR_NOT_FOUND");
  EXPECT_STREQ(capspawn_status_string(CAPSPAWN_ERR_INVALID_ARGS), "CAPSPAWN_ERR_INVALID_ARGS");
  EXPECT_STREQ(capspawn_status_string(CAPSPAWN_ERR_IO_INVALID), "CAPSPAWN_ERR_IO_INVALID");
  // The numeric values are Fuchsia's.
  EXPECT_EQ(CAPSPAWN_ERR_BAD_HANDLE, -11);
  EXPECT_EQ(CAPSPAWN_ERR_OUT_OF_RANGE, -14);
  EXPECT_EQ(CAPSPAWN_ERR_ALREADY_EXISTS, -26);
  EXPECT_EQ(CAPSPAWN_ERR_IO_INVALID, -47);
}

}  // namespace
}  // namespace capspawn_test
