// SPDX-License-Identifier: Apache-2.0
// SpawnShebang: #! scripts are followed by the engine itself. The argv becomes
// {interpreter, [interpreter argument], script path, argv[1..]}: the script
// path replaces argv[0], and everything after the interpreter on the #! line
// is one argument. Up to 255 nested #! files; a first line longer than 2058
// bytes is OUT_OF_RANGE; #!resolve with no resolver, or mixed with #!, is NOT_SUPPORTED.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

constexpr size_t kMaxLine = 2058;  // bytes in which the first line's newline must appear

ChildRun RunScript(const std::string& script, const Strings& argv, const Env& env = {},
                   std::vector<capspawn_action_t> actions = {}) {
  return RunChild(CAPSPAWN_CLONE_ALL, script, argv, env, std::move(actions));
}

void ExpectScriptFails(const std::string& script, capspawn_status_t want,
                       const std::string& named = "") {
  int fds_before = CountOpenFds();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, script, {script});
  EXPECT_EQ(s.status, want) << capspawn_status_string(s.status) << ": " << s.err;
  EXPECT_EQ(s.raw_process_out, -1);
  EXPECT_FALSE(s.err.empty());
  if (!named.empty()) {
    EXPECT_NE(s.err.find(named), std::string::npos) << s.err;
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnShebang, ShellScript) {
  TempDir dir;
  std::string script = dir.WriteFile("echo.sh", "#!/bin/sh\nprintf '%s|' \"$0\" \"$@\"\n");
  ChildRun run = RunScript(script, {"original-argv0", "a", "b c"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 0);
  EXPECT_EQ(run.output, script + "|a|b c|");
}

TEST(SpawnShebang, HelperAsInterpreter) {
  TempDir dir;
  std::string script = dir.WriteFile("s", "#!" + std::string(ChildPath()) + "\nignored body\n");
  ChildRun run = RunScript(script, {"original-argv0", "x", "y"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), script, "x", "y"}));
}

TEST(SpawnShebang, InterpreterArgumentsAreOneArgument) {
  TempDir dir;
  std::string script =
      dir.WriteFile("s", "#!" + std::string(ChildPath()) + " --first  second third\n");
  ChildRun run = RunScript(script, {"original-argv0", "x", "--exit", "3"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv,
            (Strings{ChildPath(), "--first  second third", script, "x", "--exit", "3"}));
  EXPECT_EQ(run.return_code, 3);
}

TEST(SpawnShebang, WhitespaceAroundInterpreterIsTrimmed) {
  TempDir dir;
  std::string script =
      dir.WriteFile("s", "#!   " + std::string(ChildPath()) + "   spaced  arg  \t \nbody\n");
  ChildRun run = RunScript(script, {"original-argv0"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), "spaced  arg", script}));
}

TEST(SpawnShebang, ScriptWithoutNewline) {
  TempDir dir;
  std::string script = dir.WriteFile("s", "#!" + std::string(ChildPath()));
  ChildRun run = RunScript(script, {"original-argv0", "z"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), script, "z"}));
}

TEST(SpawnShebang, EnvironmentAndFdsReachTheInterpreter) {
  TempDir dir;
  std::string script = dir.WriteFile("s", "#!" + std::string(ChildPath()) + "\n");
  Pipe p = MakePipe();
  ChildRun run = RunScript(script, {"x"}, Strings{"ONLY=this"}, {CloneFd(p.read.get(), 9)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.env, Strings{"ONLY=this"});
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 9}));
  EXPECT_EQ(run.report.fds[9].ino, FdIno(p.read.get()));
}

// fdio's use_script_as_interpreter: each level puts its interpreter (and
// argument) in front of the script path.
TEST(SpawnShebang, ScriptAsInterpreterOfAScript) {
  TempDir dir;
  std::string inner = dir.WriteFile("inner", "#!" + std::string(ChildPath()) + " B\n");
  std::string outer = dir.WriteFile("outer", "#!" + inner + " A1 A2\n");
  ChildRun run = RunScript(outer, {"original-argv0", "x"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), "B", inner, "A1 A2", outer, "x"}));
}

// s1 = "#!<child>", s(k) = "#!<s(k-1)>": spawning s(k) follows k #! files.
std::string MakeChain(TempDir& dir, int depth) {
  std::string prev = ChildPath();
  for (int k = 1; k <= depth; ++k) {
    prev = dir.WriteFile("s" + std::to_string(k), "#!" + prev + "\n");
  }
  return prev;
}

TEST(SpawnShebang, ChainOf255IsFollowed) {
  TempDir dir;
  std::string top = MakeChain(dir, 255);
  ChildRun run = RunScript(top, {"original-argv0", "last"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  Strings want = {ChildPath()};
  for (int k = 1; k <= 255; ++k) want.push_back(dir.Path("s" + std::to_string(k)));
  want.push_back("last");
  EXPECT_EQ(run.report.argv, want);
}

TEST(SpawnShebang, ChainOf256IsIoInvalid) {
  TempDir dir;
  ExpectScriptFails(MakeChain(dir, 256), CAPSPAWN_ERR_IO_INVALID);
}

TEST(SpawnShebang, SelfReferenceIsIoInvalid) {
  TempDir dir;
  std::string loop = dir.Path("loop");
  dir.WriteFile("loop", "#!" + loop + "\n");
  ExpectScriptFails(loop, CAPSPAWN_ERR_IO_INVALID);
}

// The first line's newline within kMaxLine bytes is fine; one byte later is not.
TEST(SpawnShebang, FirstLineAtTheLimitIsFollowed) {
  TempDir dir;
  std::string head = "#!" + std::string(ChildPath()) + " ";
  std::string arg(kMaxLine - 1 - head.size(), 'a');
  std::string script = dir.WriteFile("s", head + arg + "\n");
  ASSERT_EQ(ReadFileBytes(script).find('\n'), kMaxLine - 1);
  ChildRun run = RunScript(script, {"original-argv0"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), arg, script}));
}

TEST(SpawnShebang, FirstLineOverTheLimitIsOutOfRange) {
  TempDir dir;
  std::string head = "#!" + std::string(ChildPath()) + " ";
  std::string one_over =
      dir.WriteFile("one-over", head + std::string(kMaxLine - head.size(), 'a') + "\n");
  ASSERT_EQ(ReadFileBytes(one_over).find('\n'), kMaxLine);
  ExpectScriptFails(one_over, CAPSPAWN_ERR_OUT_OF_RANGE);
  ExpectScriptFails(dir.WriteFile("long", head + std::string(3000, 'b') + "\nbody\n"),
                    CAPSPAWN_ERR_OUT_OF_RANGE);
  ExpectScriptFails(dir.WriteFile("no-newline", head + std::string(5000, 'c')),
                    CAPSPAWN_ERR_OUT_OF_RANGE);
}

TEST(SpawnShebang, ResolveWithoutResolverIsNotSupported) {
  // No launcher configured: nothing can resolve the name (the launcher's own
  // resolve tests are in tests/launcher).
  const char* launcher = getenv("CAPSPAWN_LAUNCHER");
  std::string saved = launcher ? launcher : "";
  unsetenv("CAPSPAWN_LAUNCHER");
  TempDir dir;
  ExpectScriptFails(dir.WriteFile("resolve", "#!resolve example/foo\n"),
                    CAPSPAWN_ERR_NOT_SUPPORTED);
  if (launcher) setenv("CAPSPAWN_LAUNCHER", saved.c_str(), 1);
}

TEST(SpawnShebang, ResolveMixedWithShebangIsNotSupported) {
  TempDir dir;
  std::string resolve = dir.WriteFile("resolve", "#!resolve example/foo\n");
  // A #! script whose interpreter uses #!resolve: the two kinds do not mix
  // (checked before anything is resolved).
  ExpectScriptFails(dir.WriteFile("uses-resolve", "#!" + resolve + "\n"),
                    CAPSPAWN_ERR_NOT_SUPPORTED);
}

// fdio's ShebangTest.SpawnShebangRespectsNamesapce: an interpreter that is
// not there is ZX_ERR_INTERNAL (fdio_spawn_vmo reports every NOT_FOUND of a
// launch's dependencies so), with a message naming it.
TEST(SpawnShebang, ShebangRespectsNamespace) {
  TempDir dir;
  ExpectScriptFails(dir.WriteFile("s", "#!/nonexistent/interpreter arg\n"), CAPSPAWN_ERR_INTERNAL,
                    "/nonexistent/interpreter");
}

// "#!resolve" then a tab is an ordinary #! line: the interpreter "resolve" is
// opened relative to the working directory, as any relative #! path.
TEST(SpawnShebang, ResolveFollowedByTabIsAnOrdinaryShebang) {
  TempDir dir;
  dir.CopyFile(ChildPath(), "resolve", 0755);
  std::string script = dir.WriteFile("s", "#!resolve\tan-arg\n");
  char saved[4096];
  ASSERT_NE(getcwd(saved, sizeof saved), nullptr);
  ASSERT_EQ(chdir(dir.path().c_str()), 0);
  ChildRun run = RunScript(script, {"original-argv0", "x"});
  ASSERT_EQ(chdir(saved), 0);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{"resolve", "an-arg", script, "x"}));
}

TEST(SpawnShebang, EmptyInterpreterFails) {
  TempDir dir;
  std::string script = dir.WriteFile("s", "#!\n");
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, script, {script});
  EXPECT_NE(s.status, CAPSPAWN_OK);
  EXPECT_FALSE(s.err.empty());
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnShebang, ScriptNeedsExecutePermission) {
  TempDir dir;
  std::string script = dir.WriteFile("s", "#!" + std::string(ChildPath()) + "\n", 0644);
  ExpectScriptFails(script, CAPSPAWN_ERR_ACCESS_DENIED, script);
}

}  // namespace
}  // namespace capspawn_test
