// SPDX-License-Identifier: Apache-2.0
// The Launcher protocol's answers where they follow Fuchsia's launcher:
// handle types are processargs.h's, PA_NS_DIR is refused as the process
// builder refuses it; and the choices docs/spawn.md's table lists.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/launcher.h>
#include <capspawn/processargs.h>

#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

using capspawn::LauncherClient;
using capspawn::LaunchHandleInfo;
using capspawn::LaunchInfo;
using capspawn::LaunchNameInfo;

LaunchHandleInfo Handle(uint32_t id) { return {id, capspawn::UniqueFd(eventfd(0, EFD_CLOEXEC))}; }

// Fuchsia's launcher turns each id into a HandleInfo: 0x40 (PA_CLOCK_UTC),
// 0x1D (PA_VMO_COMPONENT_CONFIG) and 0x54 (PA_SYSTEM_RESOURCE) are types,
// 0x3C is not (it was capspawn's PA_CLOCK_UTC before it took Fuchsia's).
TEST_F(LauncherTest, HandleTypesAreFuchsias) {
  LauncherClient c = Connect();
  for (uint32_t type : {0x40u, 0x1Du, 0x54u}) {
    SCOPED_TRACE(type);
    const uint32_t id = CAPSPAWN_PA_HND(type, 0);
    char hex[16];
    std::snprintf(hex, sizeof hex, "%x", id);
    std::vector<LaunchHandleInfo> h;
    h.push_back(Handle(id));
    ChildRun run = RunThroughLauncher(c, {"--handles", hex}, std::move(h));
    ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
    EXPECT_EQ(run.report.handles[id].fd, 3);
  }
  std::vector<LaunchHandleInfo> h;
  h.push_back(Handle(CAPSPAWN_PA_HND(0x3C, 0)));
  ChildRun run = RunThroughLauncher(c, {}, std::move(h));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("has type 60, which is not a PA_* type"), std::string::npos) << run.err;
}

// ProcessBuilder::add_handles: "Cannot add NamespaceDirectory handles
// directly, use add_namespace_entries" (INVALID_ARGS).
TEST_F(LauncherTest, NamespaceDirHandleIsInvalidArgs) {
  LauncherClient c = Connect();
  std::vector<LaunchHandleInfo> h;
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_NS_DIR, 0), OpenDir("/tmp")});
  ChildRun run = RunThroughLauncher(c, {}, std::move(h));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("PA_NS_DIR"), std::string::npos) << run.err;
}

// fuchsia.process says names "must be non-overlapping"; capspawn's launcher
// holds it to that (INVALID_ARGS), where Fuchsia's hands the names on and the
// new process drops the nested one.
TEST_F(LauncherTest, OverlappingNamesAreInvalidArgs) {
  LauncherClient c = Connect();
  std::vector<LaunchNameInfo> names;
  names.push_back({"/data", OpenDir("/tmp")});
  names.push_back({"/data/inner", OpenDir("/tmp")});
  ChildRun run = RunThroughLauncher(c, {}, {}, std::move(names));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("overlaps an earlier entry"), std::string::npos) << run.err;
}

// Fuchsia's launcher says NOT_FOUND for a program it cannot load, and so
// does capspawn's to a LauncherClient; fdio then reports INTERNAL, and so do
// capspawn_spawn* through the launcher (SpawnErrors.NeitherElfNorScriptIsInternal in
// spawn.via_launcher).
TEST_F(LauncherTest, LaunchOfANonElfFileIsNotFound) {
  TempDir dir;
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({"text"}).ok());
  LaunchInfo info;
  info.executable.reset(open(dir.WriteFile("text", "not a program\n").c_str(), O_RDONLY));
  capspawn::Result<capspawn::Process> p = c.Launch(std::move(info));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_NOT_FOUND) << p.error().message();
  EXPECT_NE(p.error().message().find("not an ELF executable"), std::string::npos)
      << p.error().message();
}

// fuchsia.process.Launcher.SetOptions: the zx_process_create options of the
// next launch, reset by it. ZX_PROCESS_SHARED has no Linux counterpart
// (NOT_SUPPORTED); unknown bits are zx_process_create's INVALID_ARGS.
TEST_F(LauncherTest, SetOptionsAppliesToTheNextLaunchOnly) {
  LauncherClient c = Connect();
  ASSERT_TRUE(c.SetOptions(0).ok());
  ChildRun run = RunThroughLauncher(c, {});
  EXPECT_EQ(run.status, CAPSPAWN_OK) << run.err;

  ASSERT_TRUE(c.SetOptions(1).ok());  // ZX_PROCESS_SHARED
  run = RunThroughLauncher(c, {});
  EXPECT_EQ(run.status, CAPSPAWN_ERR_NOT_SUPPORTED) << run.err;
  EXPECT_NE(run.err.find("ZX_PROCESS_SHARED"), std::string::npos) << run.err;
  run = RunThroughLauncher(c, {});  // reset by the failed launch
  EXPECT_EQ(run.status, CAPSPAWN_OK) << run.err;

  ASSERT_TRUE(c.SetOptions(0x80).ok());
  run = RunThroughLauncher(c, {});
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("unknown process option bits 0x80"), std::string::npos) << run.err;

  ASSERT_TRUE(c.SetOptions(0x80).ok());
  ASSERT_TRUE(c.SetOptions(0).ok());  // the last one counts
  run = RunThroughLauncher(c, {});
  EXPECT_EQ(run.status, CAPSPAWN_OK) << run.err;
}

// LaunchInfo.name is bounded at 32 bytes (ZX_MAX_NAME_LEN): a longer one
// fails that launch (Fuchsia's channel would close) and the request resets.
TEST_F(LauncherTest, ANameOverThirtyTwoBytesIsInvalidArgs) {
  LauncherClient c = Connect();
  LaunchInfo info;
  info.name = std::string(33, 'x');
  ChildRun run = RunThroughLauncher(c, {}, {}, {}, std::move(info));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("bounds it at 32 (ZX_MAX_NAME_LEN)"), std::string::npos) << run.err;
  LaunchInfo exact;
  exact.name = std::string(32, 'y');
  std::vector<LaunchNameInfo> root;  // a /proc to read the name in
  root.push_back({"/", OpenDir("/")});
  run = RunThroughLauncher(c, {}, {}, std::move(root), std::move(exact));
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.comm, std::string(15, 'y'));
}

// A named handle (ADD_NAMED_HANDLE, capspawn run --handle ...,name=) keeps
// its LISTEN_FDNAMES name through the launcher, as in-process.
TEST_F(LauncherTest, NamedHandlesKeepTheirNameThroughTheLauncher) {
  Pipe out = MakePipe();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out.write.get(), 1);
    dup2(out.write.get(), 2);
    execl(CAPSPAWN_TEST_CLI, "capspawn", "run", "--launcher", daemon_.socket().c_str(), "--handle",
          "user0=1,name=http", "--", "/bin/sh", "-c", "echo \"$LISTEN_FDS $LISTEN_FDNAMES\"",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  out.write.reset();
  std::string text = ReadAll(out.read.get());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << " " << text;
  EXPECT_EQ(text, "1 http\n") << daemon_.Log();
}

// The daemon checks a received name as the actions do.
TEST_F(LauncherTest, AReceivedHandleNameIsCheckedAsInProcess) {
  LauncherClient c = Connect();
  std::vector<LaunchHandleInfo> h;
  h.push_back(Handle(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1)));
  h.back().name = "a:b";
  ChildRun run = RunThroughLauncher(c, {}, std::move(h));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("handle name 'a:b'"), std::string::npos) << run.err;
  std::vector<LaunchHandleInfo> fd;
  fd.push_back(Handle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 5)));
  fd.back().name = "five";
  run = RunThroughLauncher(c, {}, std::move(fd));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("only typed handles (at LISTEN_FDS) have names"), std::string::npos)
      << run.err;
  std::vector<LaunchHandleInfo> nul;
  nul.push_back(Handle(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 2)));
  nul.back().name = std::string("a\0b", 3);
  run = RunThroughLauncher(c, {}, std::move(nul));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
  EXPECT_NE(run.err.find("NUL"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace capspawn_test
