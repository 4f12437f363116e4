// SPDX-License-Identifier: Apache-2.0
// CAPSPAWN_ACTION_ADD_NAMED_HANDLE: a typed handle with a LISTEN_FDNAMES name
// of the creator's choosing, found by libsystemd under that name and by
// capspawn_take_startup_handle[_by_name] under both.
#include <capspawn/processargs.h>
#include <capspawn/spawn.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "startup/listen_env.h"
#include "test_util.h"

namespace capspawn_test {
namespace {

const uint32_t kUser0 = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0);
const uint32_t kUser1 = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 0);

capspawn_action_t Named(uint32_t id, int fd, const char* name) {
  capspawn_action_t a = {};
  a.action = CAPSPAWN_ACTION_ADD_NAMED_HANDLE;
  a.named.id = id;
  a.named.handle = fd;
  a.named.name = name;
  return a;
}

TEST(NamedHandles, SdListenFdsSeesTheNameAndTakeFindsBoth) {
  ChildRun run = RunChild(
      CAPSPAWN_CLONE_ALL, CAPSPAWN_TEST_NAMED_CHILD,
      {CAPSPAWN_TEST_NAMED_CHILD, "name:http", "id:f1", "name:http", "id:f0", "name:user1.0"}, {},
      {Named(kUser0, eventfd(0, EFD_CLOEXEC), "http"), AddHandle(kUser1, eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.output,
            "name:http fd=3\n"
            "id:f1 fd=4\n"
            "name:http fd=-1\n"  // taken once, whichever way
            "id:f0 fd=-1\n"
            "name:user1.0 fd=-1\n"
            "LISTEN_FDNAMES=http:user1.0\n"
            "CAPSPAWN_STARTUP_IDS=user0.0:user1.0\n");
}

TEST(NamedHandles, TakeByIdWhenNamed) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, CAPSPAWN_TEST_NAMED_CHILD,
                          {CAPSPAWN_TEST_NAMED_CHILD, "id:f0", "name:metrics"}, {},
                          {Named(kUser0, eventfd(0, EFD_CLOEXEC), "http"),
                           Named(kUser1, eventfd(0, EFD_CLOEXEC), "metrics")});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.output,
            "id:f0 fd=3\nname:metrics fd=4\nLISTEN_FDNAMES=http:metrics\n"
            "CAPSPAWN_STARTUP_IDS=user0.0:user1.0\n");
}

TEST(NamedHandles, UnnamedHandlesAddNoVariable) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, CAPSPAWN_TEST_NAMED_CHILD,
                          {CAPSPAWN_TEST_NAMED_CHILD, "name:user0.0"}, {},
                          {AddHandle(kUser0, eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.output,
            "name:user0.0 fd=3\nLISTEN_FDNAMES=user0.0\nCAPSPAWN_STARTUP_IDS=(unset)\n");
}

TEST(NamedHandles, BadNamesAreRefusedNamingTheAction) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "1 to 255 bytes"},
      {"a:b", "without ':'"},
      {"tab\there", "printable ASCII"},
  };
  for (const auto& [name, needle] : cases) {
    int fd = eventfd(0, EFD_CLOEXEC);
    ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, CAPSPAWN_TEST_NAMED_CHILD,
                            {CAPSPAWN_TEST_NAMED_CHILD}, {}, {Named(kUser0, fd, name)});
    EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << name;
    EXPECT_NE(run.err.find("action 0: handle name"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(needle), std::string::npos) << run.err;
    EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "consumed on failure";
  }
  const std::string long_name(256, 'x');
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, CAPSPAWN_TEST_NAMED_CHILD, {CAPSPAWN_TEST_NAMED_CHILD}, {},
               {Named(kUser0, eventfd(0, EFD_CLOEXEC), long_name.c_str())});
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS);
  run = RunChild(CAPSPAWN_CLONE_ALL, CAPSPAWN_TEST_NAMED_CHILD, {CAPSPAWN_TEST_NAMED_CHILD}, {},
                 {Named(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 5), eventfd(0, EFD_CLOEXEC), "x")});
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(run.err.find("only typed handles"), std::string::npos) << run.err;
  run = RunChild(CAPSPAWN_CLONE_ALL, CAPSPAWN_TEST_NAMED_CHILD, {CAPSPAWN_TEST_NAMED_CHILD}, {},
                 {Named(kUser0, eventfd(0, EFD_CLOEXEC), nullptr)});
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS);
}

TEST(NamedHandles, ParserTakesIdsFromTheCompanionVariable) {
  using capspawn::startup::ParseListenEntries;
  auto e = ParseListenEntries("7", "2", "http:metrics", "user0.0:user1.3", 7);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].name, "http");
  EXPECT_TRUE(e[0].has_id);
  EXPECT_EQ(e[0].id, kUser0);
  EXPECT_EQ(e[1].id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 3));
  // A companion that does not hold one id per fd is ignored: ids from names.
  e = ParseListenEntries("7", "2", "user0.0:metrics", "user1.0", 7);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].id, kUser0);
  EXPECT_FALSE(e[1].has_id);
  EXPECT_EQ(e[1].name, "metrics");
  EXPECT_TRUE(ParseListenEntries("8", "2", "a:b", "user0.0:user0.1", 7).empty());
}

}  // namespace
}  // namespace capspawn_test
