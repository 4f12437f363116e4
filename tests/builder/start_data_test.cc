// SPDX-License-Identifier: Apache-2.0
// BuiltProcess: the numbers it reports match what the kernel says of the
// process (auxv, maps, registers read by the test itself), the process is
// really waiting before its first instruction, dropping it kills it, and a
// debugger can attach between build() and start().
#include <capspawn/process_builder.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "builder_util.h"

namespace capspawn_test {
namespace {

using capspawn::BuiltProcess;
using capspawn::ProcessBuilder;
using capspawn::StartupHandle;

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

capspawn::elf::ElfHeaders HeadersOf(const std::string& path) {
  UniqueFd fd = OpenExecutable(path);
  auto h = capspawn::elf::ParseHeaders(fd.get());
  EXPECT_TRUE(h.ok()) << path;
  return h.ok() ? std::move(h.value()) : capspawn::elf::ElfHeaders{};
}

const Mapping* MappingAt(const std::vector<Mapping>& maps, uint64_t addr) {
  for (const Mapping& m : maps) {
    if (addr >= m.start && addr < m.end) return &m;
  }
  return nullptr;
}

class StartData : public ::testing::TestWithParam<Target> {};

TEST_P(StartData, MatchesAuxvMapsAndRegisters) {
  const std::string path = TargetPath(GetParam());
  ProcessBuilder b = MakeBuilder(path, "startdata");
  b.add_arguments({"pb_target"});
  auto built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  const pid_t pid = built->thread;
  ASSERT_GT(pid, 0);
  EXPECT_EQ(pid, built->process.pid());
  EXPECT_EQ(StateOf(pid), 'T');

  std::map<uint64_t, uint64_t> auxv = ReadAuxv(pid);
  ASSERT_FALSE(auxv.empty());
  const std::vector<Mapping> maps = ReadMaps(pid);
  const capspawn::elf::ElfHeaders program = HeadersOf(path);
  ASSERT_TRUE(built->elf_headers.has_value());
  EXPECT_EQ(built->elf_headers->ehdr.e_entry, program.ehdr.e_entry);

  // vDSO.
  EXPECT_NE(built->vdso_base, 0u);
  EXPECT_EQ(built->vdso_base, auxv[AT_SYSINFO_EHDR]);
  const Mapping* vdso = MappingAt(maps, built->vdso_base);
  ASSERT_NE(vdso, nullptr);
  EXPECT_EQ(vdso->path, "[vdso]");
  EXPECT_EQ(vdso->start, built->vdso_base);

  // The stack pointer is in the main stack.
  const Mapping* stack = MappingAt(maps, built->stack);
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->path, "[stack]");

  // Entry and base, per kind of program.
  std::string image_path = path;
  if (GetParam() == Target::kDynamic) {
    ASSERT_TRUE(program.interp.has_value());
    const capspawn::elf::ElfHeaders interp = HeadersOf(*program.interp);
    EXPECT_NE(auxv[AT_BASE], 0u);
    EXPECT_EQ(built->base, auxv[AT_BASE]);
    EXPECT_EQ(built->entry, auxv[AT_BASE] + interp.ehdr.e_entry) << "the dynamic linker's entry";
    EXPECT_NE(built->entry, auxv[AT_ENTRY]);
    image_path = *program.interp;
  } else {
    EXPECT_EQ(auxv[AT_BASE], 0u);
    EXPECT_EQ(built->entry, auxv[AT_ENTRY]);
    if (GetParam() == Target::kStatic) {
      EXPECT_EQ(built->base, program.FindProgramHeader(PT_LOAD)->p_vaddr -
                                 program.FindProgramHeader(PT_LOAD)->p_offset);
      EXPECT_EQ(built->entry, program.ehdr.e_entry);
    } else {
      // Static-PIE: relocated; the bias is where e_entry landed.
      EXPECT_EQ(built->base, auxv[AT_ENTRY] - program.ehdr.e_entry);
      EXPECT_NE(built->base, 0u);
    }
  }
  // Its ELF header is mapped at base: offset 0 of the right file.
  const Mapping* image = MappingAt(maps, built->base);
  ASSERT_NE(image, nullptr) << std::hex << built->base;
  EXPECT_EQ(image->start, built->base);
  EXPECT_EQ(image->offset, 0u);
  EXPECT_EQ(image->inode, InodeOf(image_path)) << image->path;
  // ... and root_vmar reads it.
  unsigned char magic[4] = {};
  ASSERT_EQ(pread(built->root_vmar.get(), magic, 4, static_cast<off_t>(built->base)), 4);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(magic), 4),
            "\x7f"
            "ELF");

  // The registers, read by this test with its own ptrace.
  std::string why;
  std::optional<Regs> regs = PeekRegisters(pid, &why);
  ASSERT_TRUE(regs.has_value()) << why;
  EXPECT_EQ(regs->pc, built->entry);
  EXPECT_EQ(regs->sp, built->stack);
  EXPECT_EQ(SettledStateOf(pid), 'T') << "still stopped after the look";

  ASSERT_TRUE(built->start().ok());
  EXPECT_EQ(WaitCode(built->process), 0);
}

INSTANTIATE_TEST_SUITE_P(Programs, StartData,
                         ::testing::Values(Target::kStatic, Target::kStaticPie, Target::kDynamic),
                         [](const auto& info) { return std::string(TargetName(info.param)); });

TEST(BuiltProcess, WaitsBeforeItsFirstInstruction) {
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic), "marker");
  Pipe p = MakePipe();
  std::vector<StartupHandle> h;
  h.push_back(FdHandle(p.write.get(), 3));
  ASSERT_TRUE(b.add_handles(std::move(h)).ok());
  b.add_arguments({"pb_target", "marker", "3", "ran"});
  p.write.reset();
  auto built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  const pid_t pid = built->thread;
  // Given time, it still has not run a line of main().
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(StateOf(pid), 'T');
  EXPECT_FALSE(Readable(p.read.get()));
  // SIGCONT from anyone holding the pidfd starts it: start() is that.
  ASSERT_TRUE(built->start().ok());
  EXPECT_EQ(ReadAll(p.read.get()), "ran");
  EXPECT_EQ(WaitCode(built->process), 0);
}

TEST(BuiltProcess, DroppingItUnstartedKillsAndReapsIt) {
  const int fds_before = CountOpenFdsBesidesNsCache();
  pid_t pid = -1;
  {
    ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic), "dropped");
    b.add_arguments({"pb_target", "sleep"});
    auto built = b.build();
    ASSERT_TRUE(built.ok()) << built.error().message();
    pid = built->thread;
    EXPECT_EQ(StateOf(pid), 'T');
    EXPECT_EQ(LiveChildren(), std::vector<pid_t>{pid});
  }
  EXPECT_TRUE(LiveChildren().empty()) << "killed and reaped: no zombie";
  EXPECT_FALSE(HasWaitableChild());
  EXPECT_EQ(CountOpenFdsBesidesNsCache(), fds_before) << "no pidfd or /proc/PID/mem fd left";
}

TEST(BuiltProcess, MoveAssignmentKillsTheOverwrittenProcess) {
  ProcessBuilder a = MakeBuilder(TargetPath(Target::kStatic), "first");
  a.add_arguments({"pb_target", "sleep"});
  auto first = a.build();
  ASSERT_TRUE(first.ok()) << first.error().message();
  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic), "second");
  b.add_arguments({"pb_target"});
  auto second = b.build();
  ASSERT_TRUE(second.ok()) << second.error().message();
  const pid_t second_pid = second->thread;
  BuiltProcess moved = std::move(second.value());
  EXPECT_EQ(moved.thread, second_pid);
  first.value() = std::move(moved);
  EXPECT_EQ(LiveChildren(), std::vector<pid_t>{second_pid});
  EXPECT_EQ(moved.start().status(), CAPSPAWN_ERR_BAD_STATE) << "moved-from";
  ASSERT_TRUE(first->start().ok());
  EXPECT_EQ(WaitCode(first->process), 0);
}

TEST(BuiltProcess, FailedBuildLeavesNothingBehind) {
  const int fds_before = CountOpenFdsBesidesNsCache();
  {
    // A loader directory without the dynamic linker: found before any process.
    TempDir empty;
    ProcessBuilder b("noexec", -1, OpenExecutable(TargetPath(Target::kDynamic)));
    ASSERT_TRUE(b.set_loader_service(OpenDirectory(empty.path())).ok());
    auto built = b.build();
    EXPECT_EQ(built.status(), CAPSPAWN_ERR_NOT_FOUND);
    if (!built.ok()) {
      EXPECT_NE(built.error().message().find("the loader has no such file"), std::string::npos)
          << built.error().message();
    }
  }
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
  EXPECT_EQ(CountOpenFdsBesidesNsCache(), fds_before);
}

// ---- a real debugger ---------------------------------------------------------

std::string YamaBlocksAttach() {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  int scope = 0;
  if (!(in >> scope)) return "";
  if (scope >= 2) return "Yama ptrace_scope is " + std::to_string(scope) + " (attach needs admin)";
  if (scope == 1 && geteuid() != 0) {
    return "Yama ptrace_scope is 1: gdb, not an ancestor of the process, may not attach";
  }
  return "";
}

TEST(BuiltProcess, GdbAttachesBetweenBuildAndStart) {
  if (access("/usr/bin/gdb", X_OK) != 0) GTEST_SKIP() << "gdb is not installed";
  if (std::string why = YamaBlocksAttach(); !why.empty()) GTEST_SKIP() << why;

  ProcessBuilder b = MakeBuilder(TargetPath(Target::kStatic), "debugged");
  Pipe marker = MakePipe();
  std::vector<StartupHandle> h;
  h.push_back(FdHandle(marker.write.get(), 3));
  ASSERT_TRUE(b.add_handles(std::move(h)).ok());
  b.add_arguments({"pb_target", "marker", "3", "main-ran"});
  marker.write.reset();
  auto built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  const pid_t pid = built->thread;

  // gdb attaches, shows where the process is, sets the breakpoint, says
  // ATTACHED, then waits for a line on its stdin before it continues.
  Pipe out = MakePipe(), in = MakePipe();
  Strings gdb = {"/usr/bin/gdb", "--batch", "-nx",
                 // The process sees an empty root: gdb takes files from ours.
                 "-iex", "set sysroot /", TargetPath(Target::kStatic), "-p", std::to_string(pid),
                 "-ex", "handle SIGSTOP nostop noprint nopass", "-ex",
                 "handle SIGCONT nostop noprint pass", "-ex", "printf \"FIRST-PC %#lx\\n\", $pc",
                 "-ex", "break main", "-ex", "printf \"ATTACHED\\n\"", "-ex", "shell read line",
                 "-ex", "continue", "-ex", "printf \"STOPPED-IN %s\\n\", \"main\"", "-ex",
                 "detach"};
  std::vector<capspawn_action_t> actions = {CloneFd(in.read.get(), 0), CloneFd(out.write.get(), 1),
                                            CloneFd(out.write.get(), 2)};
  Spawned g = Spawn(CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_STDIO, gdb[0], gdb, std::nullopt, actions);
  ASSERT_EQ(g.status, CAPSPAWN_OK) << g.err;
  out.write.reset();
  in.read.reset();

  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (output.find("ATTACHED\n") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    pollfd p = {out.read.get(), POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char buf[4096];
    ssize_t n = read(out.read.get(), buf, sizeof buf);
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  ASSERT_NE(output.find("ATTACHED\n"), std::string::npos) << "gdb did not attach:\n" << output;
  EXPECT_FALSE(Readable(marker.read.get())) << "main has not run yet";
  // The test starts the process while gdb holds it, then lets gdb continue.
  ASSERT_TRUE(built->start().ok());
  ASSERT_TRUE(WriteAll(in.write.get(), "go\n"));
  in.write.reset();

  output += ReadAll(out.read.get(), 60000);
  EXPECT_EQ(Wait(g.process.get()), 0) << output;
  char first_pc[64];
  std::snprintf(first_pc, sizeof first_pc, "FIRST-PC %#lx",
                static_cast<unsigned long>(built->entry));
  EXPECT_NE(output.find(first_pc), std::string::npos)
      << "gdb sees the program at its first instruction:\n"
      << output;
  EXPECT_NE(output.find("Breakpoint 1, "), std::string::npos) << output;
  EXPECT_NE(output.find("main ("), std::string::npos) << output;
  EXPECT_NE(output.find("STOPPED-IN main"), std::string::npos) << output;
  EXPECT_EQ(ReadAll(marker.read.get()), "main-ran");
  EXPECT_EQ(WaitCode(built->process), 0);
}

}  // namespace
}  // namespace capspawn_test
