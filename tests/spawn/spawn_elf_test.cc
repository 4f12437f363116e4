// SPDX-License-Identifier: Apache-2.0
// SpawnElfPreflight: a damaged executable is rejected before any process
// exists. SpawnCleanup: whatever fails, nothing half-created survives — no
// child, no zombie, no fd in the caller.
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

std::string ChildBytes() {
  std::string b = ReadFileBytes(ChildPath());
  EXPECT_GT(b.size(), sizeof(Elf64_Ehdr));
  return b;
}

Elf64_Ehdr* Header(std::string& elf) { return reinterpret_cast<Elf64_Ehdr*>(elf.data()); }

Elf64_Phdr* FindPhdr(std::string& elf, uint32_t type) {
  Elf64_Ehdr* eh = Header(elf);
  for (int i = 0; i < eh->e_phnum; ++i) {
    auto* ph = reinterpret_cast<Elf64_Phdr*>(elf.data() + eh->e_phoff + i * eh->e_phentsize);
    if (ph->p_type == type) return ph;
  }
  return nullptr;
}

// Writes the bytes as an executable and checks spawning it fails cleanly.
void ExpectRejected(const std::string& name, const std::string& bytes,
                    capspawn_status_t want = 1 /* any error */) {
  SCOPED_TRACE(name);
  TempDir dir;
  std::string path = dir.WriteFile(name, bytes);
  int fds_before = CountOpenFds();
  Pipe p = MakePipe();
  int transferred = p.write.release();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, path, {path}, {}, {TransferFd(transferred, 1)});
  if (want == 1) {
    EXPECT_NE(s.status, CAPSPAWN_OK) << "spawned a damaged executable";
  } else {
    EXPECT_EQ(s.status, want) << capspawn_status_string(s.status) << ": " << s.err;
  }
  EXPECT_EQ(s.raw_process_out, -1);
  EXPECT_FALSE(s.err.empty());
  EXPECT_FALSE(FdIsOpen(transferred));
  p.read.reset();
  EXPECT_EQ(CountOpenFds(), fds_before);
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnElfPreflight, BadMagic) {
  std::string elf = ChildBytes();
  elf[1] = 'X';
  // The ELF parser's NOT_FOUND, reported by spawn as fdio does: INTERNAL.
  ExpectRejected("bad-magic", elf, CAPSPAWN_ERR_INTERNAL);
}

// A read past the end of the file is OUT_OF_RANGE, as zx_vmo_read past the
// end of a VMO (fdio does not remap it).
TEST(SpawnElfPreflight, TruncatedHeader) {
  ExpectRejected("truncated-header", ChildBytes().substr(0, 20), CAPSPAWN_ERR_OUT_OF_RANGE);
}

TEST(SpawnElfPreflight, ProgramHeadersPastEof) {
  std::string elf = ChildBytes();
  ExpectRejected("truncated-phdrs", elf.substr(0, sizeof(Elf64_Ehdr) + 8),
                 CAPSPAWN_ERR_OUT_OF_RANGE);
}

// Fuchsia's get_dynamic_linker: a PT_INTERP without its NUL is
// InvalidInterpHeader, INVALID_ARGS (not remapped: not a NOT_FOUND).
TEST(SpawnElfPreflight, InterpWithoutNulIsInvalidArgs) {
  std::string elf = ReadFileBytes(DynChildPath());
  Elf64_Phdr* interp = FindPhdr(elf, PT_INTERP);
  ASSERT_NE(interp, nullptr);
  elf[interp->p_offset + interp->p_filesz - 1] = 'x';
  ExpectRejected("interp-no-nul", elf, CAPSPAWN_ERR_INVALID_ARGS);
}

// p_filesz > p_memsz on a PT_GNU_STACK (not a PT_LOAD) is refused too; the
// parser's NOT_FOUND is INTERNAL through spawn.
TEST(SpawnElfPreflight, GnuStackFileszAboveMemsz) {
  std::string elf = ChildBytes();
  Elf64_Phdr* stack = FindPhdr(elf, PT_GNU_STACK);
  ASSERT_NE(stack, nullptr);
  stack->p_filesz = 1;
  stack->p_memsz = 0;
  ExpectRejected("gnu-stack-filesz", elf, CAPSPAWN_ERR_INTERNAL);
}

// Two PT_GNU_STACK headers: Fuchsia's MultipleHeaders.
TEST(SpawnElfPreflight, TwoGnuStacks) {
  std::string elf = ChildBytes();
  Elf64_Phdr* stack = FindPhdr(elf, PT_GNU_STACK);
  Elf64_Phdr* note = FindPhdr(elf, PT_NOTE);
  ASSERT_NE(stack, nullptr);
  ASSERT_NE(note, nullptr) << "spawn_child has no PT_NOTE to turn into a second PT_GNU_STACK";
  *note = *stack;
  ExpectRejected("two-gnu-stacks", elf, CAPSPAWN_ERR_INTERNAL);
}

// Cut inside the file data of the last PT_LOAD (debug info after it does not
// count: the segments themselves must be whole).
TEST(SpawnElfPreflight, SegmentsPastEof) {
  std::string elf = ChildBytes();
  uint64_t last_start = 0, last_end = 0;
  Elf64_Ehdr* eh = Header(elf);
  for (int i = 0; i < eh->e_phnum; ++i) {
    auto* ph = reinterpret_cast<Elf64_Phdr*>(elf.data() + eh->e_phoff + i * eh->e_phentsize);
    if (ph->p_type == PT_LOAD && ph->p_filesz > 0 && ph->p_offset + ph->p_filesz > last_end) {
      last_start = ph->p_offset;
      last_end = ph->p_offset + ph->p_filesz;
    }
  }
  ASSERT_GT(last_end, last_start + 64);
  ExpectRejected("truncated-segment", elf.substr(0, last_start + (last_end - last_start) / 2));
}

TEST(SpawnElfPreflight, WrongClass) {
  std::string elf = ChildBytes();
  elf[EI_CLASS] = ELFCLASS32;
  ExpectRejected("elf32", elf);
}

TEST(SpawnElfPreflight, WrongEndianness) {
  std::string elf = ChildBytes();
  elf[EI_DATA] = ELFDATA2MSB;
  ExpectRejected("big-endian", elf);
}

TEST(SpawnElfPreflight, WrongMachine) {
  std::string elf = ChildBytes();
  Header(elf)->e_machine = EM_AARCH64 == Header(elf)->e_machine ? EM_X86_64 : EM_AARCH64;
  ExpectRejected("other-machine", elf);
}

TEST(SpawnElfPreflight, RelocatableObject) {
  std::string elf = ChildBytes();
  Header(elf)->e_type = ET_REL;
  ExpectRejected("relocatable", elf);
}

TEST(SpawnElfPreflight, ExecutableStack) {
  std::string elf = ChildBytes();
  Elf64_Phdr* stack = FindPhdr(elf, PT_GNU_STACK);
  ASSERT_NE(stack, nullptr) << "spawn_child has no PT_GNU_STACK";
  stack->p_flags = PF_R | PF_W | PF_X;
  ExpectRejected("exec-stack", elf);
}

TEST(SpawnElfPreflight, MisalignedLoadSegment) {
  std::string elf = ChildBytes();
  Elf64_Phdr* load = FindPhdr(elf, PT_LOAD);
  ASSERT_NE(load, nullptr);
  load->p_vaddr += 1;  // vaddr and offset no longer agree modulo the alignment
  ExpectRejected("misaligned-load", elf);
}

// The unmodified bytes in the same place do run: the rejections above are
// about the damage, not about where the file is.
TEST(SpawnElfPreflight, IntactCopyRuns) {
  TempDir dir;
  std::string path = dir.WriteFile("intact", ChildBytes());
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, path, {path, "--exit", "4"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 4);
}

// A failure that can only happen in the child, at exec: a dynamic executable
// whose PT_INTERP names a loader that does not exist. The child must be reaped
// and the failure reported with a message.
TEST(SpawnCleanup, ExecFailureInChildLeavesNothing) {
  std::string elf = ReadFileBytes(DynChildPath());
  std::string interp = "/lib64/";
  size_t at = elf.find(interp + "ld-linux");
  ASSERT_NE(at, std::string::npos) << "spawn_child_dyn has no /lib64 PT_INTERP";
  elf.replace(at, interp.size(), "/nonex/");
  TempDir dir;
  std::string path = dir.WriteFile("bad-interp", elf);
  int fds_before = CountOpenFds();
  for (int i = 0; i < 5; ++i) {
    Pipe p = MakePipe();
    int transferred = p.write.release();
    Spawned s = Spawn(CAPSPAWN_CLONE_ALL, path, {path}, {}, {TransferFd(transferred, 1)});
    EXPECT_NE(s.status, CAPSPAWN_OK) << "a missing loader must fail the spawn";
    EXPECT_FALSE(s.err.empty());
    EXPECT_EQ(s.raw_process_out, -1);
    EXPECT_FALSE(FdIsOpen(transferred));
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
}

// Many kinds of failure in a row: the caller's fd count and children stay put.
TEST(SpawnCleanup, FailuresLeaveNoFdsAndNoChildren) {
  TempDir dir;
  std::string not_exec = dir.CopyFile(ChildPath(), "no-x", 0644);
  std::string text = dir.WriteFile("text", "plain text\n");
  std::string loop = dir.Path("loop");
  dir.WriteFile("loop", "#!" + loop + "\n");
  int fds_before = CountOpenFds();
  for (int round = 0; round < 3; ++round) {
    std::vector<Spawned> results;
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, "/bogus", {"x"}));
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, not_exec, {"x"}));
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, text, {"x"}));
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, loop, {"x"}));
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, dir.path(), {"x"}));
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {"x"}, {}, {SetName(nullptr)}));
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {"x"}, {}, {CloneFd(0, 2000)}));
    results.push_back(Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {"x"}, {}, {CloneFd(987, 5)}));
    results.push_back(
        Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {"x"}, {}, {CloneFd(0, 5), CloneFd(0, 5)}));
    for (const Spawned& s : results) {
      EXPECT_NE(s.status, CAPSPAWN_OK);
      EXPECT_EQ(s.raw_process_out, -1);
    }
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(HasWaitableChild());
}

// A successful spawn costs the caller exactly one fd (the pidfd), and its
// transferred fds.
TEST(SpawnCleanup, SuccessCostsOnlyThePidfd) {
  Pipe p = MakePipe();
  int fds_before = CountOpenFds();
  Spawned s =
      Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {TransferFd(p.write.release(), 1)});
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  EXPECT_EQ(CountOpenFds(), fds_before - 1 + 1);
  ReadAll(p.read.get());
  EXPECT_EQ(Wait(s.process.get()), 0);
  s.process.reset();
  EXPECT_EQ(CountOpenFds(), fds_before - 1);
  EXPECT_FALSE(HasWaitableChild());
}

}  // namespace
}  // namespace capspawn_test
