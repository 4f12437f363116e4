// SPDX-License-Identifier: Apache-2.0
// The Resolver: names to package binaries beneath the daemon's roots, and
// #!resolve followed through it (one hop, two hops, not found, a loop, a
// #! behind a #!resolve), in a client and in the daemon itself.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <capspawn/launcher.h>

#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

using capspawn::LauncherClient;
using capspawn::LaunchInfo;
using capspawn::Process;
using capspawn::ResolvedProgram;
using capspawn::Resolver;
using capspawn::Result;

class ResolveTest : public LauncherTest {
 protected:
  void SetUp() override {
    LauncherTest::SetUp();
    const char* old = getenv("CAPSPAWN_LAUNCHER");
    saved_ = old ? std::optional<std::string>(old) : std::nullopt;
    setenv("CAPSPAWN_LAUNCHER", daemon_.socket().c_str(), 1);
    // spawn_child as a package binary.
    MakePackage("hello", "hello", ReadFileBytes(ChildPath()));
    MakePackage("tools", "first", ReadFileBytes(ChildPath()), /*with_lib=*/true);
  }
  void TearDown() override {
    if (saved_) {
      setenv("CAPSPAWN_LAUNCHER", saved_->c_str(), 1);
    } else {
      unsetenv("CAPSPAWN_LAUNCHER");
    }
    LauncherTest::TearDown();
  }
  Result<ResolvedProgram> Resolve(const std::string& name) {
    Result<Resolver> r = Resolver::Connect(daemon_.socket());
    if (!r.ok()) return r.error();
    return r->Resolve(name);
  }
  // Spawns `script` (through the launcher: CAPSPAWN_LAUNCHER is set).
  ChildRun RunScript(const std::string& script) {
    return RunChild(CAPSPAWN_CLONE_ALL, script, {script, "--exit", "6"});
  }
  TempDir scripts_;

 private:
  std::optional<std::string> saved_;
};

TEST_F(ResolveTest, PackageAndPackageSlashBinary) {
  Result<ResolvedProgram> r = Resolve("hello");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->executable.valid());
  EXPECT_FALSE(r->loader.valid());  // no lib/
  EXPECT_EQ(FdIno(r->executable.get()),
            FdIno(UniqueFd(open((packages() + "/hello/bin/hello").c_str(), O_RDONLY)).get()));
  r = Resolve("tools/first");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->loader.valid());
  EXPECT_EQ(FdIno(r->loader.get()), FdIno(OpenDir(packages() + "/tools/lib").get()));
}

TEST_F(ResolveTest, MissingPackageOrBinaryIsNotFound) {
  EXPECT_EQ(Resolve("nope").status(), CAPSPAWN_ERR_NOT_FOUND);
  Result<ResolvedProgram> r = Resolve("tools/nope");
  EXPECT_EQ(r.status(), CAPSPAWN_ERR_NOT_FOUND);
  EXPECT_NE(r.error().message().find("bin/nope"), std::string::npos) << r.error().message();
  EXPECT_EQ(Resolve("tools").status(), CAPSPAWN_ERR_NOT_FOUND);  // no bin/tools
}

TEST_F(ResolveTest, MalformedNamesAreInvalidArgs) {
  for (const std::string& name :
       {std::string(""), std::string("a/b/c"), std::string(".."), std::string("../hello"),
        std::string("/hello"), std::string("hello/"), std::string("hel lo"),
        std::string("he\0llo", 6), std::string("fuchsia-pkg://fuchsia.com/hello"),
        std::string(300, 'a'), std::string(CAPSPAWN_MAX_RESOLVE_NAME_SIZE + 1, 'a')}) {
    EXPECT_EQ(Resolve(name).status(), CAPSPAWN_ERR_INVALID_ARGS) << name.substr(0, 40);
  }
}

TEST_F(ResolveTest, SymlinksCannotLeaveTheRoot) {
  // A package whose binary is a symlink to a file outside the root, and a
  // package that is itself a symlink outside.
  mkdir((packages() + "/evil").c_str(), 0755);
  mkdir((packages() + "/evil/bin").c_str(), 0755);
  ASSERT_EQ(symlink("/bin/true", (packages() + "/evil/bin/evil").c_str()), 0);
  ASSERT_EQ(symlink("../../../../../../bin/true", (packages() + "/evil/bin/rel").c_str()), 0);
  EXPECT_EQ(Resolve("evil").status(), CAPSPAWN_ERR_ACCESS_DENIED);
  EXPECT_EQ(Resolve("evil/rel").status(), CAPSPAWN_ERR_ACCESS_DENIED);
  TempDir outside;
  mkdir(outside.Path("bin").c_str(), 0755);
  outside.WriteFile("bin/away", ReadFileBytes(ChildPath()));
  ASSERT_EQ(symlink(outside.path().c_str(), (packages() + "/away").c_str()), 0);
  EXPECT_EQ(Resolve("away").status(), CAPSPAWN_ERR_ACCESS_DENIED);
  // A symlink that stays inside the root is fine.
  ASSERT_EQ(symlink("hello", (packages() + "/alias").c_str()), 0);
  Result<ResolvedProgram> r = Resolve("alias/hello");
  EXPECT_TRUE(r.ok()) << r.error().message();
}

TEST_F(ResolveTest, OneHop) {
  std::string script = scripts_.WriteFile("one", "#!resolve hello\n");
  ChildRun run = RunScript(script);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  // As fdio: argv is the caller's, untouched.
  EXPECT_EQ(run.report.argv, (Strings{script, "--exit", "6"}));
  EXPECT_EQ(run.return_code, 6);
}

TEST_F(ResolveTest, TwoHops) {
  MakePackage("second", "second", "#!resolve hello\n");
  std::string script = scripts_.WriteFile("two", "#!resolve second\n");
  ChildRun run = RunScript(script);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 6);
}

TEST_F(ResolveTest, NotFoundIsInternal) {
  ChildRun run = RunScript(scripts_.WriteFile("missing", "#!resolve missing\n"));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INTERNAL) << run.err;
  EXPECT_NE(run.err.find("missing"), std::string::npos) << run.err;
}

TEST_F(ResolveTest, InfiniteLoopIsIoInvalid) {
  MakePackage("loop", "loop", "#!resolve loop\n");
  ChildRun run = RunScript(scripts_.WriteFile("loop", "#!resolve loop\n"));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_IO_INVALID) << run.err;
}

TEST_F(ResolveTest, ResolveToShebangIsNotSupported) {
  MakePackage("shell", "shell", "#!/bin/sh\nexit 0\n");
  ChildRun run = RunScript(scripts_.WriteFile("sh", "#!resolve shell\n"));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_NOT_SUPPORTED) << run.err;
}

TEST_F(ResolveTest, TheDaemonFollowsResolveItself) {
  // A #!resolve script handed straight to the Launcher.
  LauncherClient c = Connect();
  LaunchInfo info;
  info.executable.reset(open(scripts_.WriteFile("direct", "#!resolve hello\n").c_str(), O_RDONLY));
  ChildRun run = RunThroughLauncher(c, {"--exit", "8"}, {}, {}, std::move(info));
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 8);
  LaunchInfo missing;
  missing.executable.reset(open(scripts_.WriteFile("m", "#!resolve missing\n").c_str(), O_RDONLY));
  run = RunThroughLauncher(c, {}, {}, {}, std::move(missing));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INTERNAL) << run.err;
}

// The daemon does not depend on its environment: a CAPSPAWN_LAUNCHER of its
// own (here one naming nothing) neither routes its launches nor its
// #!resolve, and nothing of its environment reaches what it launches.
TEST_F(ResolveTest, TheDaemonDoesNotDependOnItsEnvironment) {
  daemon_.Stop();
  daemon_.SetExtraEnvironment({"CAPSPAWN_LAUNCHER=/nonexistent/launcher.sock", "LISTEN_PID=1",
                               "LISTEN_FDS=1", "CAPSPAWN_SEC_MARK=1"});
  ASSERT_NO_FATAL_FAILURE(daemon_.Restart());
  LauncherClient c = Connect();
  LaunchInfo info;
  info.executable.reset(open(scripts_.WriteFile("direct", "#!resolve hello\n").c_str(), O_RDONLY));
  ChildRun run = RunThroughLauncher(c, {"--exit", "8"}, {}, {}, std::move(info));
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 8);
  EXPECT_TRUE(run.report.env.empty()) << run.output;
}

}  // namespace
}  // namespace capspawn_test

namespace capspawn_test {
namespace {

// The CLI over the same daemon: `capspawn resolve` and `capspawn run --launcher`.
std::string Shell(const std::string& command, int* status) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  *status = p ? pclose(p) : -1;
  return out;
}

class CliLauncherTest : public ResolveTest {};

TEST_F(CliLauncherTest, ResolveAndRunThroughTheCli) {
  int status = 0;
  const std::string cli = std::string(CAPSPAWN_TEST_CLI) + " ";
  std::string out = Shell(cli + "resolve --launcher " + daemon_.socket() + " tools/first", &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_EQ(out,
            "executable " + packages() + "/tools/bin/first\nloader " + packages() + "/tools/lib\n");
  out = Shell(cli + "resolve --launcher " + daemon_.socket() + " nope", &status);
  EXPECT_EQ(WEXITSTATUS(status), 125);
  EXPECT_EQ(out.rfind("capspawn: NOT_FOUND: package 'nope' not found", 0), 0u) << out;
  out = Shell(cli + "run --launcher " + daemon_.socket() + " -- " + ChildPath() +
                  " --report-fd -1 --exit 3",
              &status);
  EXPECT_EQ(WEXITSTATUS(status), 3) << out;
  // The worker logs after its reply has gone out: give it a moment.
  const std::string launched = "launched " + std::string(ChildPath());
  for (int i = 0; i < 500 && daemon_.Log().find(launched) == std::string::npos; ++i) usleep(10000);
  EXPECT_NE(daemon_.Log().find(launched), std::string::npos) << daemon_.Log();
}

}  // namespace
}  // namespace capspawn_test
