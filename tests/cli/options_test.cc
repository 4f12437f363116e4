// SPDX-License-Identifier: Apache-2.0
// The `capspawn run` option parser on its own, in-process.
#include "options.h"

#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace capspawn::cli {
namespace {

ParseResult Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseRunOptions(static_cast<int>(args.size()), argv.data());
}

TEST(CliOptions, CloneDefaultsToAll) {
  ParseResult r = Parse({"prog"});
  ASSERT_EQ(r.outcome, ParseResult::Outcome::kRun) << r.error;
  EXPECT_EQ(r.options.flags, CAPSPAWN_CLONE_ALL);
  EXPECT_EQ(r.options.command, std::vector<std::string>{"prog"});
}

TEST(CliOptions, CloneListsApplyInOrder) {
  EXPECT_EQ(Parse({"--clone=stdio,environ", "p"}).options.flags,
            CAPSPAWN_CLONE_STDIO | CAPSPAWN_CLONE_ENVIRON);
  EXPECT_EQ(Parse({"--clone=stdio", "--clone=job", "p"}).options.flags,
            CAPSPAWN_CLONE_STDIO | CAPSPAWN_CLONE_JOB);
  EXPECT_EQ(Parse({"--no-clone=environ,utc-clock", "p"}).options.flags,
            CAPSPAWN_CLONE_ALL & ~(CAPSPAWN_CLONE_ENVIRON | CAPSPAWN_CLONE_UTC_CLOCK));
  EXPECT_EQ(Parse({"--clone=none", "p"}).options.flags, 0u);
  EXPECT_EQ(Parse({"--no-clone=all", "--clone=ldsvc", "p"}).options.flags, CAPSPAWN_DEFAULT_LDSVC);
  EXPECT_EQ(Parse({"--clone=all", "--no-clone=namespace", "p"}).options.flags,
            CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_NAMESPACE);
}

TEST(CliOptions, ActionsKeepCommandLineOrder) {
  ParseResult r = Parse({"--name", "n", "--fd", "5=3", "--ns", "/a=/b=c", "--transfer-fd", "7=8",
                         "--dir", "/usr", "--handle", "user1.2=4", "--fd", "9", "p"});
  ASSERT_EQ(r.outcome, ParseResult::Outcome::kRun) << r.error;
  const auto& a = r.options.actions;
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0].action, CAPSPAWN_ACTION_SET_NAME);
  EXPECT_EQ(a[0].path, "n");
  EXPECT_EQ(a[1].action, CAPSPAWN_ACTION_CLONE_FD);
  EXPECT_EQ(a[1].target_fd, 5);
  EXPECT_EQ(a[1].source_fd, 3);
  EXPECT_EQ(a[1].option, "--fd 5=3");
  EXPECT_EQ(a[2].action, CAPSPAWN_ACTION_ADD_NS_ENTRY);
  EXPECT_EQ(a[2].path, "/a");
  EXPECT_EQ(a[2].dir, "/b=c");  // split at the first '='
  EXPECT_EQ(a[3].action, CAPSPAWN_ACTION_TRANSFER_FD);
  EXPECT_EQ(a[3].target_fd, 7);
  EXPECT_EQ(a[3].source_fd, 8);
  EXPECT_EQ(a[4].action, CAPSPAWN_ACTION_CLONE_DIR);
  EXPECT_EQ(a[4].path, "/usr");
  EXPECT_EQ(a[5].action, CAPSPAWN_ACTION_ADD_HANDLE);
  EXPECT_EQ(a[5].id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 2));
  EXPECT_EQ(a[5].source_fd, 4);
  EXPECT_EQ(a[6].target_fd, 9);
  EXPECT_EQ(a[6].source_fd, 9);
}

TEST(CliOptions, EnvironmentOptionsKeepOrder) {
  ParseResult r = Parse(
      {"-e", "A=1", "--clear-env", "--env-file", "f", "--unset-env", "B", "--env", "C=", "p"});
  ASSERT_EQ(r.outcome, ParseResult::Outcome::kRun) << r.error;
  using K = EnvOption::Kind;
  ASSERT_EQ(r.options.env.size(), 5u);
  EXPECT_EQ(r.options.env[0].kind, K::kSet);
  EXPECT_EQ(r.options.env[0].arg, "A=1");
  EXPECT_EQ(r.options.env[1].kind, K::kClear);
  EXPECT_EQ(r.options.env[2].kind, K::kFile);
  EXPECT_EQ(r.options.env[2].arg, "f");
  EXPECT_EQ(r.options.env[3].kind, K::kUnset);
  EXPECT_EQ(r.options.env[4].arg, "C=");
}

TEST(CliOptions, EnvOptionsApplyInOrder) {
  int file = memfd_create("env", MFD_CLOEXEC);
  ASSERT_GE(file, 0);
  const std::string content = "# comment\n \nB=file\nC=x=y\n";
  ASSERT_EQ(write(file, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  std::string path = "/proc/self/fd/" + std::to_string(file);
  using K = EnvOption::Kind;
  std::vector<std::string> env = {"KEEP=1", "A=old", "B=old"};
  std::string error;
  ASSERT_EQ(
      ApplyEnvOptions({{K::kSet, "A=new"}, {K::kFile, path}, {K::kUnset, "KEEP"}}, &env, &error),
      CAPSPAWN_OK)
      << error;
  EXPECT_EQ(env, (std::vector<std::string>{"A=new", "B=file", "C=x=y"}));
  ASSERT_EQ(ApplyEnvOptions({{K::kClear, ""}, {K::kSet, "Z="}}, &env, &error), CAPSPAWN_OK);
  EXPECT_EQ(env, std::vector<std::string>{"Z="});
  close(file);

  EXPECT_EQ(ApplyEnvOptions({{K::kFile, "/nonexistent/env"}}, &env, &error),
            CAPSPAWN_ERR_NOT_FOUND);
  EXPECT_NE(error.find("/nonexistent/env"), std::string::npos) << error;
}

TEST(CliOptions, HandleIds) {
  uint32_t id = 0;
  EXPECT_TRUE(ParseHandleId("user0", &id));
  EXPECT_EQ(id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0));
  EXPECT_TRUE(ParseHandleId("fd.5", &id));
  EXPECT_EQ(id, CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 5));
  EXPECT_TRUE(ParseHandleId("0x3b.1", &id));
  EXPECT_EQ(id, CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 1));
  EXPECT_TRUE(ParseHandleId("0x12345678", &id));
  EXPECT_EQ(id, 0x12345678u);
  EXPECT_TRUE(ParseHandleId("lifecycle.65535", &id));
  EXPECT_EQ(id, CAPSPAWN_PA_HND(CAPSPAWN_PA_LIFECYCLE, 65535));
  for (const char* bad : {"", "user", "user0.", "user0.x", "user0.65536", "0x100.1", "-1",
                          "0x1ffffffff", ".1", "user0.1.2"}) {
    EXPECT_FALSE(ParseHandleId(bad, &id)) << bad;
  }
}

TEST(CliOptions, HandleTypeNamesComeFromTheLibrary) {
  std::vector<std::string> names = HandleTypeNames();
  for (const char* name : {"user0", "user1", "user2", "fd", "job_default", "ldsvc_loader",
                           "directory_request", "lifecycle", "ns_dir", "clock_utc"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

TEST(CliOptions, TimeoutSuspendedLauncher) {
  ParseResult r = Parse({"--timeout", "1.5", "--suspended", "--launcher", "/s", "p"});
  ASSERT_EQ(r.outcome, ParseResult::Outcome::kRun) << r.error;
  EXPECT_EQ(r.options.timeout_ns, 1500000000);
  EXPECT_TRUE(r.options.suspended);
  EXPECT_EQ(r.options.launcher, "/s");
  EXPECT_EQ(r.options.unbuilt_option, "");
  EXPECT_EQ(Parse({"--timeout", "0", "p"}).options.timeout_ns, -1);  // 0: no limit
}

TEST(CliOptions, NamespacePresetsBecomeActionsInOrder) {
  ParseResult r = Parse({"--ro-ns", "/usr=/usr", "--tmpfs", "/tmp", "--proc", "--dev-minimal",
                         "--ldsvc", "/lib", "--ns", "/d=/srv", "p"});
  ASSERT_EQ(r.outcome, ParseResult::Outcome::kRun) << r.error;
  EXPECT_EQ(r.options.unbuilt_option, "");
  const std::vector<ActionOption>& a = r.options.actions;
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].action, CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY);
  EXPECT_EQ(a[0].path, "/usr");
  EXPECT_EQ(a[0].dir, "/usr");
  EXPECT_EQ(a[1].action, CAPSPAWN_ACTION_ADD_NS_TMPFS);
  EXPECT_EQ(a[1].path, "/tmp");
  EXPECT_EQ(a[2].action, CAPSPAWN_ACTION_ADD_NS_PROC);
  EXPECT_EQ(a[2].path, "/proc");
  EXPECT_EQ(a[3].action, CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL);
  EXPECT_EQ(a[3].path, "/dev");
  EXPECT_EQ(a[4].action, CAPSPAWN_ACTION_ADD_HANDLE);
  EXPECT_EQ(a[4].id, CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0));
  EXPECT_EQ(a[4].dir, "/lib");
  EXPECT_EQ(a[5].action, CAPSPAWN_ACTION_ADD_NS_ENTRY);
  EXPECT_EQ(Parse({"--ro-ns", "/usr", "p"}).outcome, ParseResult::Outcome::kUsageError);
}

TEST(CliOptions, ParsingTwiceStartsFresh) {
  // getopt keeps global state; each parse must reset it.
  EXPECT_EQ(Parse({"--vmo", "p"}).outcome, ParseResult::Outcome::kRun);
  ParseResult r = Parse({"--vmo", "p"});
  EXPECT_EQ(r.outcome, ParseResult::Outcome::kRun);
  EXPECT_TRUE(r.options.vmo);
  EXPECT_EQ(Parse({"--help"}).outcome, ParseResult::Outcome::kHelp);
  EXPECT_EQ(Parse({"--bogus", "p"}).outcome, ParseResult::Outcome::kUsageError);
}

}  // namespace
}  // namespace capspawn::cli
