// SPDX-License-Identifier: Apache-2.0
// Real programs on this host: a dynamic PIE, python, a static binary, a
// static-PIE, and this test program itself checked against what the kernel
// told it in its auxiliary vector.
#include <fcntl.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>
#include <capspawn/fd.h>

namespace capspawn::elf {
namespace {

Result<ElfHeaders> ParsePath(const std::string& path, size_t prefix_len = 0) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno(errno, "open " + path);
  std::vector<uint8_t> prefix(prefix_len);
  ssize_t n = pread(fd.get(), prefix.data(), prefix.size(), 0);
  if (n < 0) return Error::FromErrno(errno, "pread " + path);
  prefix.resize(static_cast<size_t>(n));
  return ParseHeaders(fd.get(), prefix);
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// The file mapped at `address` in this process, from /proc/self/maps.
std::string MappedFileAt(uint64_t address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode >> path;
    if (std::stoull(range.substr(0, range.find('-')), nullptr, 16) == address) return path;
  }
  return {};
}

// The dynamic linker that loaded this (dynamic) test program.
std::string OwnDynamicLinker() { return MappedFileAt(getauxval(AT_BASE)); }

TEST(ElfRealFiles, ThisProgramAgreesWithItsAuxv) {
  Result<ElfHeaders> h = ParsePath("/proc/self/exe", 4096);
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ(getauxval(AT_PHNUM), h->phdrs.size());
  EXPECT_EQ(getauxval(AT_PHENT), sizeof(Elf64_Phdr));
  const Elf64_Phdr* phdr = h->FindProgramHeader(PT_PHDR);
  ASSERT_NE(nullptr, phdr);
  // The load bias: where the kernel put the program minus where it asked to be.
  const uint64_t bias = getauxval(AT_PHDR) - phdr->p_vaddr;
  EXPECT_EQ(getauxval(AT_ENTRY), h->ehdr.e_entry + bias);
  if (h->is_pie()) {
    EXPECT_NE(0u, bias);
  } else {
    EXPECT_EQ(0u, bias);
  }
  ASSERT_TRUE(h->is_dynamic());
  EXPECT_EQ(OwnDynamicLinker(), RealPath(*h->interp));
}

TEST(ElfRealFiles, BinTrueIsADynamicPie) {
  Result<ElfHeaders> h = ParsePath("/bin/true");
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_TRUE(h->is_pie());
  ASSERT_TRUE(h->is_dynamic());
  Result<std::string> ld = GetDynamicLinker(*h);
  ASSERT_TRUE(ld.ok());
  EXPECT_EQ(OwnDynamicLinker(), RealPath(*ld));
  EXPECT_NE(nullptr, h->FindProgramHeader(PT_DYNAMIC));
  // The interpreter itself is a static ET_DYN with no PT_INTERP.
  Result<ElfHeaders> interp = ParsePath(*ld, 4096);
  ASSERT_TRUE(interp.ok()) << interp.error().message();
  EXPECT_TRUE(interp->is_pie());
  EXPECT_FALSE(interp->is_dynamic());
}

TEST(ElfRealFiles, Python) {
  const char* path = "/usr/bin/python3.11";
  if (access(path, R_OK) != 0) GTEST_SKIP() << path << " is not installed";
  Result<ElfHeaders> h = ParsePath(path, 4096);
  ASSERT_TRUE(h.ok()) << h.error().message();
  ASSERT_TRUE(h->is_dynamic());
  EXPECT_EQ(OwnDynamicLinker(), RealPath(*h->interp));
  size_t loads = 0;
  for (const Elf64_Phdr& p : h->phdrs) loads += p.p_type == PT_LOAD;
  EXPECT_GE(loads, 2u);
}

TEST(ElfRealFiles, StaticBusybox) {
  const char* path = "/bin/busybox";
  Result<ElfHeaders> h = ParsePath(path);
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_FALSE(h->is_dynamic());
  EXPECT_EQ(nullptr, h->FindProgramHeader(PT_INTERP));
  EXPECT_EQ(nullptr, h->FindProgramHeader(PT_DYNAMIC)) << "busybox-static is not static";
  Result<std::string> ld = GetDynamicLinker(*h);
  EXPECT_EQ(CAPSPAWN_ERR_NOT_FOUND, ld.status());
  EXPECT_EQ(h->requested_stack_size().value_or(kDefaultStackSize),
            InitialStackSize(*h, 100, 100, 0));
}

TEST(ElfRealFiles, StaticPie) {
  Result<ElfHeaders> h = ParsePath(CAPSPAWN_TEST_STATIC_PIE, 4096);
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_TRUE(h->is_pie());
  EXPECT_FALSE(h->is_dynamic());
  // It relocates itself: a PT_DYNAMIC but no interpreter.
  EXPECT_NE(nullptr, h->FindProgramHeader(PT_DYNAMIC));
  EXPECT_EQ(CAPSPAWN_ERR_NOT_FOUND, GetDynamicLinker(*h).status());
}

}  // namespace
}  // namespace capspawn::elf
