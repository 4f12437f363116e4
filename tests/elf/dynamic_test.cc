// SPDX-License-Identifier: Apache-2.0
// The dynamic section reader, after Fuchsia's test_parse_dynamic_section: an
// image with a PT_DYNAMIC whose DT_NEEDED, DT_SONAME and DT_RPATH name strings
// of its DT_STRTAB; and what the reader makes of real files.
#include <elf.h>
#include <fcntl.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>

#include "elf_image.h"

namespace capspawn::elf {
namespace {

using testing::DynamicImage;
using testing::ElfImage;

constexpr uint64_t kDynOffset = 0x220;  // inside the first PT_LOAD (file 0..0x300, vaddr = offset)
constexpr uint64_t kStrOffset = 0x2c0;
const char kStrings[] = "\0libc.so.6\0libtest.so\0/usr/lib\0libself.so";  // 0x2c0.. (42 bytes)

struct DynImage {
  ElfImage img;
  std::vector<Elf64_Dyn> dyn;
  std::vector<uint8_t> Bytes() const {
    std::vector<uint8_t> out = img.Bytes();
    std::memcpy(out.data() + kDynOffset, dyn.data(), dyn.size() * sizeof(Elf64_Dyn));
    std::memcpy(out.data() + kStrOffset, kStrings, sizeof kStrings);
    return out;
  }
};

// DynamicImage() plus a PT_DYNAMIC: DT_NEEDED libc.so.6 and libtest.so,
// DT_RPATH /usr/lib, DT_STRTAB, DT_STRSZ, DT_FLAGS_1 DF_1_PIE, DT_NULL and one
// entry of padding after it.
DynImage WithDynamic() {
  DynImage d;
  d.img = DynamicImage();
  d.dyn = {{DT_NEEDED, {1}},
           {DT_NEEDED, {11}},
           {DT_RPATH, {22}},
           {DT_STRTAB, {kStrOffset}},
           {DT_STRSZ, {sizeof kStrings}},
           {DT_FLAGS_1, {DF_1_PIE}},
           {DT_NULL, {0}},
           {DT_NULL, {0}}};
  const uint64_t size = d.dyn.size() * sizeof(Elf64_Dyn);
  d.img.phdrs.push_back(
      Elf64_Phdr{PT_DYNAMIC, PF_R | PF_W, kDynOffset, kDynOffset, kDynOffset, size, size, 8});
  d.img.ehdr.e_phnum = static_cast<uint16_t>(d.img.phdrs.size());
  d.img.Find(PT_PHDR).p_filesz = d.img.Find(PT_PHDR).p_memsz =
      d.img.phdrs.size() * sizeof(Elf64_Phdr);
  return d;
}

TEST(ElfDynamic, ParseDynamicSection) {
  DynImage d = WithDynamic();
  const std::vector<uint8_t> bytes = d.Bytes();
  Result<ElfHeaders> h = ParseHeaders(bytes);
  ASSERT_TRUE(h.ok()) << h.error().message();
  Result<DynamicSection> sec = ReadDynamicSection(bytes, *h);
  ASSERT_TRUE(sec.ok()) << sec.error().message();
  ASSERT_EQ(sec->entries.size(), d.dyn.size()) << "every entry, the padding after DT_NULL too";
  for (size_t i = 0; i < d.dyn.size(); ++i) {
    EXPECT_EQ(sec->entries[i].d_tag, d.dyn[i].d_tag) << i;
    EXPECT_EQ(sec->entries[i].d_un.d_val, d.dyn[i].d_un.d_val) << i;
  }
  const Elf64_Dyn* needed = sec->EntryWithTag(DT_NEEDED);
  ASSERT_NE(needed, nullptr);
  EXPECT_EQ(needed->d_un.d_val, 1u) << "the first of its tag";
  EXPECT_EQ(sec->EntryWithTag(DT_SONAME), nullptr);

  Result<DynamicInfo> info = ReadDynamicInfo(bytes, *h);
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->needed, (std::vector<std::string>{"libc.so.6", "libtest.so"}));
  EXPECT_EQ(info->rpath, "/usr/lib");
  EXPECT_FALSE(info->soname);
  EXPECT_FALSE(info->runpath);
  EXPECT_EQ(info->flags_1, static_cast<uint64_t>(DF_1_PIE));
  EXPECT_EQ(Classify(*h, &*info), FileKind::kPie);

  // The fd path reads the same.
  UniqueFd fd = testing::MemFdWith(bytes);
  Result<DynamicInfo> via_fd = ReadDynamicInfo(fd.get(), *h);
  ASSERT_TRUE(via_fd.ok()) << via_fd.error().message();
  EXPECT_EQ(via_fd->needed, info->needed);
  EXPECT_EQ(via_fd->rpath, info->rpath);
}

// Fuchsia: "Dynamic header not found" when there is none; MultipleHeaders
// for two (both ParseError/NOT_FOUND); a segment past the end of the file is
// a read past its end (OUT_OF_RANGE).
TEST(ElfDynamic, MissingDuplicateOrTruncated) {
  {
    const std::vector<uint8_t> bytes = DynamicImage().Bytes();
    Result<ElfHeaders> h = ParseHeaders(bytes);
    ASSERT_TRUE(h.ok());
    Result<DynamicSection> sec = ReadDynamicSection(bytes, *h);
    EXPECT_EQ(sec.status(), kBadFormatStatus);
    EXPECT_NE(sec.error().message().find("no PT_DYNAMIC"), std::string::npos);
  }
  {
    DynImage d = WithDynamic();
    d.img.Find(PT_GNU_STACK) = d.img.Find(PT_DYNAMIC);
    const std::vector<uint8_t> bytes = d.Bytes();
    Result<ElfHeaders> h = ParseHeaders(bytes);
    ASSERT_TRUE(h.ok()) << h.error().message();
    Result<DynamicSection> sec = ReadDynamicSection(bytes, *h);
    EXPECT_EQ(sec.status(), kBadFormatStatus);
    EXPECT_NE(sec.error().message().find("more than one PT_DYNAMIC"), std::string::npos)
        << sec.error().message();
  }
  {
    DynImage d = WithDynamic();
    d.img.Find(PT_DYNAMIC).p_offset = d.img.file_size - 16;  // one entry fits, not eight
    const std::vector<uint8_t> bytes = d.Bytes();
    Result<ElfHeaders> h = ParseHeaders(bytes);
    ASSERT_TRUE(h.ok()) << h.error().message();
    Result<DynamicSection> sec = ReadDynamicSection(bytes, *h);
    EXPECT_EQ(sec.status(), kTruncatedStatus) << sec.error().message();
  }
}

TEST(ElfDynamic, BadStringsAreNamed) {
  {
    DynImage d = WithDynamic();
    d.dyn[1].d_un.d_val = 1000;  // past DT_STRSZ
    const std::vector<uint8_t> bytes = d.Bytes();
    Result<ElfHeaders> h = ParseHeaders(bytes);
    ASSERT_TRUE(h.ok());
    Result<DynamicInfo> info = ReadDynamicInfo(bytes, *h);
    EXPECT_EQ(info.status(), kBadFormatStatus);
    EXPECT_NE(info.error().message().find("DT_NEEDED 0x3e8"), std::string::npos)
        << info.error().message();
  }
  {
    DynImage d = WithDynamic();
    d.dyn[3].d_un.d_ptr = 0x1000000;  // DT_STRTAB in no PT_LOAD
    const std::vector<uint8_t> bytes = d.Bytes();
    Result<ElfHeaders> h = ParseHeaders(bytes);
    ASSERT_TRUE(h.ok());
    Result<DynamicInfo> info = ReadDynamicInfo(bytes, *h);
    EXPECT_EQ(info.status(), kBadFormatStatus);
    EXPECT_NE(info.error().message().find("DT_STRTAB 0x1000000"), std::string::npos)
        << info.error().message();
  }
}

// What each kind of file is called, from its headers and dynamic section.
TEST(ElfDynamic, Classify) {
  DynImage d = WithDynamic();
  std::vector<uint8_t> bytes = d.Bytes();
  Result<ElfHeaders> h = ParseHeaders(bytes);
  ASSERT_TRUE(h.ok());
  DynamicInfo info;
  info.flags_1 = DF_1_PIE;
  EXPECT_EQ(Classify(*h, &info), FileKind::kPie);
  info.flags_1 = 0;
  EXPECT_EQ(Classify(*h, &info), FileKind::kPie) << "an older PIE: no DF_1_PIE, no soname";
  info.soname = "libself.so";
  EXPECT_EQ(Classify(*h, &info), FileKind::kSharedLibrary) << "libc.so.6: PT_INTERP and a soname";
  EXPECT_TRUE(IsRunnable(*h));

  ElfHeaders nointerp = *h;
  nointerp.interp.reset();
  info = DynamicInfo();
  info.flags_1 = DF_1_PIE;
  EXPECT_EQ(Classify(nointerp, &info), FileKind::kStaticPie);
  info.flags_1 = 0;
  info.soname = "ld-linux.so";
  EXPECT_EQ(Classify(nointerp, &info), FileKind::kSharedLibrary) << "the dynamic linker";
  nointerp.ehdr.e_entry = 0;
  EXPECT_EQ(Classify(nointerp, nullptr), FileKind::kSharedLibrary);
  EXPECT_FALSE(IsRunnable(nointerp)) << "entry 0: the kernel would jump to the ELF header";

  ElfHeaders exec = *h;
  exec.ehdr.e_type = ET_EXEC;
  EXPECT_EQ(Classify(exec, nullptr), FileKind::kExecutable);
  EXPECT_EQ(FileKindName(FileKind::kStaticPie), "static PIE");
  EXPECT_EQ(FileKindName(FileKind::kSharedLibrary), "shared library");
}

}  // namespace
}  // namespace capspawn::elf
