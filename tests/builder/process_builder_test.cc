// SPDX-License-Identifier: Apache-2.0
// ProcessBuilder: the Fuchsia process_builder tests that make sense on Linux.
// The child is spawn_child (tests/spawn), which reports what it received on
// the fd 1 handed to it.
#include <capspawn/process_builder.h>
#include <capspawn/processargs.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "builder_util.h"

namespace capspawn_test {
namespace {

using capspawn::BuiltProcess;
using capspawn::NamespaceEntry;
using capspawn::ProcessBuilder;
using capspawn::StartupHandle;

struct Outcome {
  capspawn_status_t status = CAPSPAWN_ERR_INTERNAL;
  std::string error;
  int64_t code = INT64_MIN;
  std::string comm;  // /proc/PID/comm before start (the child has no /proc)
  Report report;
};

// Hands a pipe as fd 1, builds, starts, reads the report, waits.
Outcome BuildAndRun(ProcessBuilder& b) {
  Outcome o;
  Pipe p = MakePipe();
  std::vector<StartupHandle> h;
  h.push_back(FdHandle(p.write.get(), 1));
  EXPECT_TRUE(b.add_handles(std::move(h)).ok());
  p.write.reset();
  capspawn::Result<BuiltProcess> built = b.build();
  o.status = built.status();
  if (!built.ok()) {
    o.error = built.error().message();
    return o;
  }
  o.comm = CommOf(built->thread);
  EXPECT_TRUE(built->start().ok());
  o.report = ParseReport(ReadAll(p.read.get()));
  o.code = WaitCode(built->process);
  return o;
}

std::vector<std::string> Numbered(const std::string& prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(prefix + std::to_string(i));
  return v;
}

TEST(ProcessBuilder, ArgumentsAndEnvironmentRoundTrip) {
  ProcessBuilder b = MakeBuilder(ChildPath(), "args");
  b.add_arguments({"spawn_child", "first arg", ""});
  b.add_arguments({"third"});
  b.add_environment_variables({"A=1", "B=two words"});
  Outcome o = BuildAndRun(b);
  ASSERT_EQ(o.status, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.code, 0);
  ASSERT_TRUE(o.report.complete);
  EXPECT_EQ(o.report.argv, (Strings{"spawn_child", "first arg", "", "third"}));
  EXPECT_EQ(o.report.env, (Strings{"A=1", "B=two words"}));
  EXPECT_EQ(o.comm, "args");
}

TEST(ProcessBuilder, TenThousandArgumentsAndVariables) {
  ProcessBuilder b = MakeBuilder(ChildPath(), "huge");
  std::vector<std::string> args = Numbered("arg", 10000);
  args.insert(args.begin(), "spawn_child");
  std::vector<std::string> env = Numbered("V=", 10000);
  for (size_t i = 0; i < env.size(); ++i)
    env[i] = "V" + std::to_string(i) + "=" + std::to_string(i);
  b.add_arguments(args);
  b.add_environment_variables(env);
  Outcome o = BuildAndRun(b);
  ASSERT_EQ(o.status, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.code, 0);
  ASSERT_TRUE(o.report.complete);
  EXPECT_EQ(o.report.argv, args);
  EXPECT_EQ(o.report.env, env);
}

TEST(ProcessBuilder, NoArgumentsIsAnEmptyArgv) {
  // Fuchsia adds nothing to argv; the kernel hands an empty one as {""}.
  ProcessBuilder b = MakeBuilder(ChildPath(), "noargs");
  Outcome o = BuildAndRun(b);
  ASSERT_EQ(o.status, CAPSPAWN_OK) << o.error;
  ASSERT_TRUE(o.report.complete);
  EXPECT_LE(o.report.argc, 1);
  EXPECT_TRUE(o.report.env.empty());
}

TEST(ProcessBuilder, HandlesArePresent) {
  ProcessBuilder b = MakeBuilder(ChildPath(), "handles");
  Pipe user = MakePipe();
  const uint32_t user0 = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 7);
  std::vector<StartupHandle> h;
  h.push_back({user0, UniqueFd(fcntl(user.write.get(), F_DUPFD_CLOEXEC, 3))});
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0), OpenDirectory("/")});
  h.push_back(FdHandle(user.write.get(), 9));
  ASSERT_TRUE(b.add_handles(std::move(h)).ok());
  char ids[64];
  std::snprintf(ids, sizeof ids, "%x,%x", user0, CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0));
  b.add_arguments({"spawn_child", "--handles", ids});
  Outcome o = BuildAndRun(b);
  ASSERT_EQ(o.status, CAPSPAWN_OK) << o.error;
  ASSERT_TRUE(o.report.complete);
  ASSERT_EQ(o.report.handles.count(user0), 1u);
  EXPECT_GE(o.report.handles[user0].fd, 3);
  EXPECT_EQ(o.report.handles[user0].again, -1);
  EXPECT_GE(o.report.handles[CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0)].fd, 3);
  ASSERT_EQ(o.report.fds.count(9), 1u);
  EXPECT_EQ(o.report.fds[9].ino, FdIno(user.write.get()));
  EXPECT_EQ(o.report.fds[o.report.handles[user0].fd].ino, FdIno(user.write.get()));
}

TEST(ProcessBuilder, AutomaticHandleTypesAreRejected) {
  const uint32_t types[] = {CAPSPAWN_PA_PROC_SELF, CAPSPAWN_PA_THREAD_SELF,
                            CAPSPAWN_PA_VMAR_ROOT, CAPSPAWN_PA_VMAR_LOADED,
                            CAPSPAWN_PA_VMO_STACK, CAPSPAWN_PA_VMO_EXECUTABLE,
                            CAPSPAWN_PA_NS_DIR,    0x3Cu /* not a processargs.h type */};
  for (uint32_t type : types) {
    ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic));
    const int before = CountOpenFds();
    std::vector<StartupHandle> h;
    h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), OpenDirectory("/")});
    h.push_back({CAPSPAWN_PA_HND(type, 0), OpenDirectory("/")});
    capspawn::Status st = b.add_handles(std::move(h));
    EXPECT_EQ(st.status(), CAPSPAWN_ERR_INVALID_ARGS) << "type " << type;
    if (!st.ok()) {
      EXPECT_NE(st.error().message().find("type " + std::to_string(type)), std::string::npos);
    }
    EXPECT_EQ(CountOpenFds(), before) << "the rejected handles are closed";
  }
}

TEST(ProcessBuilder, ReservedBitsAreRejected) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic));
  std::vector<StartupHandle> h;
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0) | 0x100u, OpenDirectory("/")});
  EXPECT_EQ(b.add_handles(std::move(h)).status(), CAPSPAWN_ERR_INVALID_ARGS);
}

TEST(ProcessBuilder, InvalidHandlesAreRejected) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic));
  std::vector<StartupHandle> h;
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), UniqueFd(-1)});
  EXPECT_EQ(b.add_handles(std::move(h)).status(), CAPSPAWN_ERR_BAD_HANDLE);
  int closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
  close(closed);
  h.clear();
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 0), UniqueFd(closed)});
  EXPECT_EQ(b.add_handles(std::move(h)).status(), CAPSPAWN_ERR_BAD_HANDLE);
  std::vector<NamespaceEntry> e;
  e.push_back({"/data", UniqueFd(-1)});
  EXPECT_EQ(b.add_namespace_entries(std::move(e)).status(), CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_EQ(b.set_loader_service(UniqueFd(-1)).status(), CAPSPAWN_ERR_BAD_HANDLE);
  // The builder still works: nothing bad was added.
  capspawn::Result<BuiltProcess> built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  ASSERT_TRUE(built->start().ok());
  EXPECT_EQ(WaitCode(built->process), 0);
}

TEST(ProcessBuilder, BadExecutableOrJobIsBadHandle) {
  {
    ProcessBuilder b("x", -1, UniqueFd(-1));
    EXPECT_EQ(b.status().status(), CAPSPAWN_ERR_BAD_HANDLE);
    EXPECT_EQ(b.build().status(), CAPSPAWN_ERR_BAD_HANDLE);
  }
  {
    int closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(closed);
    ProcessBuilder b("x", closed, OpenExecutable(TargetPath(Target::kStatic)));
    EXPECT_EQ(b.status().status(), CAPSPAWN_ERR_BAD_HANDLE);
    auto built = b.build();
    EXPECT_EQ(built.status(), CAPSPAWN_ERR_BAD_HANDLE);
    if (!built.ok()) {
      EXPECT_NE(built.error().message().find("job"), std::string::npos);
    }
  }
  {
    // A job must be a directory (a cgroup).
    UniqueFd file(open("/dev/null", O_RDONLY | O_CLOEXEC));
    ProcessBuilder b("x", file.get(), OpenExecutable(TargetPath(Target::kStatic)));
    EXPECT_EQ(b.status().status(), CAPSPAWN_ERR_BAD_HANDLE);
  }
}

TEST(ProcessBuilder, BuildTwiceIsBadState) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic));
  auto first = b.build();
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(b.build().status(), CAPSPAWN_ERR_BAD_STATE);
  ASSERT_TRUE(first->start().ok());
  EXPECT_EQ(first->start().status(), CAPSPAWN_ERR_BAD_STATE);
  EXPECT_EQ(WaitCode(first->process), 0);
}

TEST(ProcessBuilder, NamespaceEntries) {
  TempDir rw, ro;
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic), "ns");
  std::vector<NamespaceEntry> e;
  e.push_back({"/data", OpenDirectory(rw.path())});
  e.push_back({"/config", OpenDirectory(ro.path()), true});
  ASSERT_TRUE(b.add_namespace_entries(std::move(e)).ok());
  b.add_arguments({"pb_target", "create", "/data/made"});
  auto built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  ASSERT_TRUE(built->start().ok());
  EXPECT_EQ(WaitCode(built->process), 0);
  struct stat st;
  EXPECT_EQ(stat(rw.Path("made").c_str(), &st), 0) << "written through the entry";

  // Read-only entry: EROFS; a path outside the namespace does not exist.
  struct Case {
    std::vector<std::string> args;
    int64_t code;
  } cases[] = {{{"pb_target", "create", "/config/x"}, EROFS},
               {{"pb_target", "exists", "/config"}, 0},
               {{"pb_target", "exists", "/tmp"}, 1},
               {{"pb_target", "exists", "/proc/self"}, 1}};
  for (const Case& c : cases) {
    ProcessBuilder b2 = MakeBuilder(TargetPath(Target::kStatic), "ns");
    std::vector<NamespaceEntry> e2;
    e2.push_back({"/data", OpenDirectory(rw.path())});
    e2.push_back({"/config", OpenDirectory(ro.path()), true});
    ASSERT_TRUE(b2.add_namespace_entries(std::move(e2)).ok());
    b2.add_arguments(c.args);
    auto built2 = b2.build();
    ASSERT_TRUE(built2.ok()) << built2.error().message();
    ASSERT_TRUE(built2->start().ok());
    EXPECT_EQ(WaitCode(built2->process), c.code) << c.args[1] << " " << c.args[2];
  }
}

TEST(ProcessBuilder, RelativeNamespacePathIsInvalidArgs) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic));
  std::vector<NamespaceEntry> e;
  e.push_back({"data", OpenDirectory("/")});
  EXPECT_EQ(b.add_namespace_entries(std::move(e)).status(), CAPSPAWN_ERR_INVALID_ARGS);
}

TEST(ProcessBuilder, NoLoaderForDynamicProgramIsInvalidArgs) {
  const int before = CountOpenFds();
  ProcessBuilder b("dyn", -1, OpenExecutable(TargetPath(Target::kDynamic)));
  auto built = b.build();
  ASSERT_EQ(built.status(), CAPSPAWN_ERR_INVALID_ARGS);
  UniqueFd exe = OpenExecutable(TargetPath(Target::kDynamic));
  auto h = capspawn::elf::ParseHeaders(exe.get());
  ASSERT_TRUE(h.ok() && h->interp);
  EXPECT_NE(built.error().message().find(*h->interp), std::string::npos) << built.error().message();
  EXPECT_TRUE(LiveChildren().empty());
  exe.reset();
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(ProcessBuilder, DynamicProgramWithLoaderRuns) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kDynamic), "dyn");
  Pipe p = MakePipe();
  std::vector<StartupHandle> h;
  h.push_back(FdHandle(p.write.get(), 3));
  ASSERT_TRUE(b.add_handles(std::move(h)).ok());
  b.add_arguments({"pb_target", "marker", "3", "dynamic-ran"});
  p.write.reset();
  auto built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  ASSERT_TRUE(built->start().ok());
  EXPECT_EQ(ReadAll(p.read.get()), "dynamic-ran");
  EXPECT_EQ(WaitCode(built->process), 0);
}

// Fuchsia's add_handles passes a LdsvcLoader handle to set_loader_service.
TEST(ProcessBuilder, LoaderThroughAddHandles) {
  ProcessBuilder b("dyn", -1, OpenExecutable(TargetPath(Target::kDynamic)));
  Pipe p = MakePipe();
  std::vector<StartupHandle> h;
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0), OpenDirectory(SystemLibDir())});
  h.push_back(FdHandle(p.write.get(), 3));
  capspawn::Status added = b.add_handles(std::move(h));
  ASSERT_TRUE(added.ok()) << added.error().message();
  b.add_arguments({"pb_target", "marker", "3", "loader-from-handles"});
  p.write.reset();
  auto built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  ASSERT_TRUE(built->start().ok());
  EXPECT_EQ(ReadAll(p.read.get()), "loader-from-handles");
  EXPECT_EQ(WaitCode(built->process), 0);
}

// Fuchsia's set_loader_service: "If called multiple times ... the new loader
// replaces the previous and the handle to the previous loader is dropped."
TEST(ProcessBuilder, SecondLoaderReplacesTheFirst) {
  TempDir empty;
  for (bool working_last : {true, false}) {
    SCOPED_TRACE(working_last);
    const int before = CountOpenFdsBesidesNsCache();
    {
      ProcessBuilder b("dyn", -1, OpenExecutable(TargetPath(Target::kDynamic)));
      UniqueFd first = OpenDirectory(working_last ? empty.path() : SystemLibDir());
      UniqueFd second = OpenDirectory(working_last ? SystemLibDir() : empty.path());
      std::vector<StartupHandle> h;
      h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0), std::move(first)});
      ASSERT_TRUE(b.add_handles(std::move(h)).ok());
      ASSERT_TRUE(b.set_loader_service(std::move(second)).ok());
      b.add_arguments({"pb_target"});
      auto built = b.build();
      if (working_last) {
        ASSERT_TRUE(built.ok()) << built.error().message();
        ASSERT_TRUE(built->start().ok());
        EXPECT_EQ(WaitCode(built->process), 0);
      } else {
        // get_dynamic_linker's failure: NOT_FOUND, before any process exists.
        EXPECT_EQ(built.status(), CAPSPAWN_ERR_NOT_FOUND);
        if (!built.ok()) {
          EXPECT_NE(built.error().message().find("dynamic linker"), std::string::npos)
              << built.error().message();
        }
        EXPECT_TRUE(LiveChildren().empty());
      }
    }
    EXPECT_EQ(CountOpenFdsBesidesNsCache(), before) << "the replaced loader is closed";
  }
}

// A loader handed through add_handles must be a directory, as with
// set_loader_service; PA_VMO_VDSO cannot be honoured on Linux.
TEST(ProcessBuilder, LoaderMustBeADirectoryAndVdsoIsNotSupported) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic));
  std::vector<StartupHandle> h;
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0),
               UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC))});
  EXPECT_EQ(b.add_handles(std::move(h)).status(), CAPSPAWN_ERR_BAD_HANDLE);
  h.clear();
  h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_VMO_VDSO, 0),
               UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC))});
  EXPECT_EQ(b.add_handles(std::move(h)).status(), CAPSPAWN_ERR_NOT_SUPPORTED);
}

TEST(ProcessBuilder, StaticPieProgramRuns) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStaticPie), "spie");
  Pipe p = MakePipe();
  std::vector<StartupHandle> h;
  h.push_back(FdHandle(p.write.get(), 3));
  ASSERT_TRUE(b.add_handles(std::move(h)).ok());
  b.add_arguments({"pb_target", "marker", "3", "static-pie-ran"});
  p.write.reset();
  auto built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  ASSERT_TRUE(built->elf_headers.has_value());
  EXPECT_TRUE(built->elf_headers->is_pie());
  EXPECT_FALSE(built->elf_headers->is_dynamic());
  ASSERT_TRUE(built->start().ok());
  EXPECT_EQ(ReadAll(p.read.get()), "static-pie-ran");
  EXPECT_EQ(WaitCode(built->process), 0);
}

TEST(ElfGetDynamicLinker, FromTheLoaderDirectory) {
  UniqueFd exe = OpenExecutable(TargetPath(Target::kDynamic));
  auto h = capspawn::elf::ParseHeaders(exe.get());
  ASSERT_TRUE(h.ok());
  UniqueFd libdir = OpenDirectory(SystemLibDir());
  capspawn::Result<UniqueFd> linker = capspawn::elf::GetDynamicLinker(libdir.get(), *h);
  ASSERT_TRUE(linker.ok()) << linker.error().message();
  struct stat a, b;
  ASSERT_EQ(fstat(linker->get(), &a), 0);
  ASSERT_EQ(stat(h->interp->c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "the same file the kernel would load";
  EXPECT_EQ(a.st_dev, b.st_dev);

  TempDir empty;
  UniqueFd none = OpenDirectory(empty.path());
  capspawn::Result<UniqueFd> missing = capspawn::elf::GetDynamicLinker(none.get(), *h);
  EXPECT_EQ(missing.status(), CAPSPAWN_ERR_NOT_FOUND);
  // Something that is not an ELF linker under that name.
  empty.WriteFile(h->interp->substr(h->interp->rfind('/') + 1), "#!/bin/sh\n");
  EXPECT_EQ(capspawn::elf::GetDynamicLinker(none.get(), *h).status(), CAPSPAWN_ERR_NOT_FOUND);

  UniqueFd st = OpenExecutable(TargetPath(Target::kStatic));
  auto sh = capspawn::elf::ParseHeaders(st.get());
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(capspawn::elf::GetDynamicLinker(libdir.get(), *sh).status(), CAPSPAWN_ERR_NOT_FOUND);
}

// set_min_stack_size: a child that uses 48 MiB of stack dies under an 8 MiB
// RLIMIT_STACK and lives with a 64 MiB floor.
class BigStack : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(getrlimit(RLIMIT_STACK, &saved_), 0);
    if (saved_.rlim_max != RLIM_INFINITY && saved_.rlim_max < kFloor) {
      GTEST_SKIP() << "the hard RLIMIT_STACK (" << saved_.rlim_max << ") is below 64 MiB";
    }
    rlimit small = saved_;
    small.rlim_cur = 8 << 20;
    ASSERT_EQ(setrlimit(RLIMIT_STACK, &small), 0);
    changed_ = true;
  }
  void TearDown() override {
    if (changed_) setrlimit(RLIMIT_STACK, &saved_);
  }
  int64_t Run(size_t floor) {
    ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic), "stack");
    b.add_arguments({"pb_target", "recurse", std::to_string(kUse)});
    if (floor) b.set_min_stack_size(floor);
    auto built = b.build();
    EXPECT_TRUE(built.ok()) << built.error().message();
    if (!built.ok()) return INT64_MIN;
    EXPECT_TRUE(built->start().ok());
    return WaitCode(built->process);
  }
  static constexpr size_t kFloor = 64 << 20;
  static constexpr size_t kUse = 48 << 20;
  rlimit saved_{};
  bool changed_ = false;
};

TEST_F(BigStack, FloorLetsTheChildRecurse) {
  EXPECT_EQ(Run(kFloor), 0);
  rlimit own;
  ASSERT_EQ(getrlimit(RLIMIT_STACK, &own), 0);
  EXPECT_EQ(own.rlim_cur, rlim_t{8 << 20}) << "only the child's limit was raised";
}

TEST_F(BigStack, WithoutTheFloorTheSameChildOverflows) { EXPECT_EQ(Run(0), -SIGSEGV); }

TEST_F(BigStack, HigherLimitIsKept) {
  // A floor below the current limit lowers nothing: 48 MiB still fits.
  rlimit big = saved_;
  big.rlim_cur = kFloor;
  ASSERT_EQ(setrlimit(RLIMIT_STACK, &big), 0);
  EXPECT_EQ(Run(1 << 20), 0);
}

TEST_F(BigStack, FloorAboveHardLimitIsOutOfRange) {
  rlimit capped = {8 << 20, 16 << 20};
  if (saved_.rlim_max != RLIM_INFINITY && saved_.rlim_max < capped.rlim_max) GTEST_SKIP();
  // Lowering the hard limit cannot be undone without privilege: do it in a
  // child process of the test.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setrlimit(RLIMIT_STACK, &capped) != 0) _exit(10);
    ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic), "stack");
    b.set_min_stack_size(kFloor);
    auto built = b.build();
    _exit(built.status() == CAPSPAWN_ERR_OUT_OF_RANGE ? 0 : 11);
  }
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace capspawn_test
