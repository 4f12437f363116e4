// SPDX-License-Identifier: Apache-2.0
// The LISTEN_* parser on its own: what counts as handed to this process.
#include "startup/listen_env.h"

#include <gtest/gtest.h>

#include <string>

#include <capspawn/processargs.h>

namespace capspawn::startup {
namespace {

constexpr pid_t kSelf = 4242;

TEST(ListenEnv, ThreeNamedHandles) {
  auto h = ParseListenEnv("4242", "3", "user0.1:directory_request.0:0x7f.3", kSelf);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1));
  EXPECT_EQ(h[0].fd, 3);
  EXPECT_EQ(h[1].id, CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0));
  EXPECT_EQ(h[1].fd, 4);
  EXPECT_EQ(h[2].id, CAPSPAWN_PA_HND(0x7f, 3));
  EXPECT_EQ(h[2].fd, 5);
}

TEST(ListenEnv, AnotherProcessesVariablesAreIgnored) {
  EXPECT_TRUE(ParseListenEnv("4243", "1", "user0.0", kSelf).empty());
}

TEST(ListenEnv, MissingVariableMeansNothing) {
  EXPECT_TRUE(ParseListenEnv(nullptr, "1", "user0.0", kSelf).empty());
  EXPECT_TRUE(ParseListenEnv("4242", nullptr, "user0.0", kSelf).empty());
  EXPECT_TRUE(ParseListenEnv("4242", "1", nullptr, kSelf).empty());
}

TEST(ListenEnv, NumbersAreStrictDecimal) {
  for (const char* pid :
       {"+4242", " 4242", "4242 ", "04242x", "", "-4242", "99999999999999999999"}) {
    EXPECT_TRUE(ParseListenEnv(pid, "1", "user0.0", kSelf).empty()) << "pid '" << pid << "'";
  }
  for (const char* n : {"0", "+1", "1x", "", "1025", "-1"}) {
    EXPECT_TRUE(ParseListenEnv("4242", n, "user0.0", kSelf).empty()) << "fds '" << n << "'";
  }
  EXPECT_EQ(ParseListenEnv("04242", "01", "user0.0", kSelf).size(), 1u);
}

TEST(ListenEnv, UnparsableNameKeepsItsFdNumber) {
  auto h = ParseListenEnv("4242", "3", "bogus:user1.65535:user2.65536", kSelf);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 0xFFFF));
  EXPECT_EQ(h[0].fd, 4);
}

TEST(ListenEnv, FewerNamesThanFdsAndMoreNamesThanFds) {
  EXPECT_EQ(ParseListenEnv("4242", "5", "user0.0:user0.1", kSelf).size(), 2u);
  EXPECT_EQ(ParseListenEnv("4242", "1", "user0.0:user0.1", kSelf).size(), 1u);
}

TEST(ListenEnv, AtTheLimit) {
  std::string names;
  for (int i = 0; i < 1024; ++i) names += (i ? ":user0." : "user0.") + std::to_string(i);
  auto h = ParseListenEnv("4242", "1024", names.c_str(), kSelf);
  ASSERT_EQ(h.size(), 1024u);
  EXPECT_EQ(h.back().fd, 3 + 1023);
}

}  // namespace
}  // namespace capspawn::startup
