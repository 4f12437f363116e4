// SPDX-License-Identifier: Apache-2.0
// SpawnEnviron: an explicit environ (even empty) beats CLONE_ENVIRON; without
// either the child's environment is empty; entries pass verbatim.
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

extern char** environ;

namespace capspawn_test {
namespace {

constexpr uint32_t kCloneEnv = CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_ENVIRON;

class SpawnEnviron : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("SPAWN_TEST_PARENT", "1", 1); }
  void TearDown() override { ::unsetenv("SPAWN_TEST_PARENT"); }
};

TEST_F(SpawnEnviron, ExplicitBeatsCloneEnviron) {
  Strings env = {"SPAWN_TEST_CHILD=1", "SPAWN_TEST_CHILD2=two words"};
  ChildRun run = RunChild(kCloneEnv, ChildPath(), {ChildPath()}, env);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, env);
  EXPECT_FALSE(run.report.Getenv("SPAWN_TEST_PARENT"));
}

TEST_F(SpawnEnviron, EmptyExplicitBeatsCloneEnviron) {
  ChildRun run = RunChild(kCloneEnv, ChildPath(), {ChildPath()}, Strings{});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_TRUE(run.report.env.empty());
}

TEST_F(SpawnEnviron, NoEnvironWithoutCloneEnviron) {
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_STDIO, ChildPath(), {ChildPath()});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_TRUE(run.report.env.empty());
}

TEST_F(SpawnEnviron, ExplicitWithoutCloneEnviron) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_NAMESPACE, ChildPath(), {ChildPath()}, Strings{"A=1"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, Strings{"A=1"});
}

TEST_F(SpawnEnviron, InheritedWithCloneEnviron) {
  Strings parent;
  for (char** e = environ; *e; ++e) parent.push_back(*e);
  ChildRun run = RunChild(kCloneEnv, ChildPath(), {ChildPath()});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, parent);
  EXPECT_EQ(run.report.Getenv("SPAWN_TEST_PARENT"), "1");
}

TEST_F(SpawnEnviron, EntriesPassVerbatim) {
  Strings env = {"NOEQUALS",
                 "=leading-equals",
                 "EMPTY=",
                 "NL=a\nb",
                 "UTF8=h\xc3\xa9llo",
                 "SPACES= x y ",
                 "BIG=" + std::string(64 * 1024, 'v')};
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, env);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, env);
}

TEST_F(SpawnEnviron, ManyEntries) {
  Strings env;
  for (int i = 0; i < 3000; ++i) env.push_back("VAR" + std::to_string(i) + "=" + std::to_string(i));
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, env);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, env);
}

// A program handed no typed handle gets no LISTEN_* variable.
TEST_F(SpawnEnviron, NoListenVariablesWithoutTypedHandles) {
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDNAMES");
  Pipe p = MakePipe();
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                          {AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 9), p.write.release())});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_FALSE(run.report.HasEnvPrefix("LISTEN_"));
}

}  // namespace
}  // namespace capspawn_test
