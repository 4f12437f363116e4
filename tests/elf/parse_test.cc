// SPDX-License-Identifier: Apache-2.0
// Every validation rule, one broken field at a time, over in-memory images.
#include <elf.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>

#include "elf_image.h"

namespace capspawn::elf {
namespace {

using testing::DynamicImage;
using testing::ElfImage;
using testing::StaticImage;

Result<ElfHeaders> Parse(const std::vector<uint8_t>& bytes) { return ParseHeaders(bytes); }
Result<ElfHeaders> Parse(const ElfImage& img) { return Parse(img.Bytes()); }

uint16_t ForeignMachine() { return kHostMachine == EM_X86_64 ? EM_AARCH64 : EM_X86_64; }

TEST(ElfParse, AcceptsDynamicPie) {
  ElfImage img = DynamicImage();
  Result<ElfHeaders> h = Parse(img);
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_TRUE(h->is_dynamic());
  EXPECT_TRUE(h->is_pie());
  EXPECT_EQ(img.ehdr.e_entry, h->ehdr.e_entry);
  ASSERT_EQ(img.phdrs.size(), h->phdrs.size());
  for (size_t i = 0; i < img.phdrs.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(&img.phdrs[i], &h->phdrs[i], sizeof(Elf64_Phdr))) << "phdr " << i;
  }
  ASSERT_TRUE(h->interp.has_value());
  EXPECT_EQ(img.interp_bytes.substr(0, img.interp_bytes.size() - 1), *h->interp);
  Result<std::string> ld = GetDynamicLinker(*h);
  ASSERT_TRUE(ld.ok());
  EXPECT_EQ(*h->interp, *ld);
}

TEST(ElfParse, AcceptsStaticExecutable) {
  Result<ElfHeaders> h = Parse(StaticImage());
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_FALSE(h->is_dynamic());
  EXPECT_FALSE(h->is_pie());
  Result<std::string> ld = GetDynamicLinker(*h);
  ASSERT_FALSE(ld.ok());
  EXPECT_EQ(CAPSPAWN_ERR_NOT_FOUND, ld.status());
  EXPECT_NE(std::string::npos, ld.error().message().find("PT_INTERP"));
}

TEST(ElfParse, AcceptsWhatTheRulesAllow) {
  const uint64_t page = PageSize();
  struct Case {
    const char* name;
    std::function<void(ElfImage&)> change;
  };
  const std::vector<Case> cases = {
      {"alignment of two pages", [page](ElfImage& i) { i.Find(PT_LOAD).p_align = 2 * page; }},
      {"no PT_GNU_STACK", [](ElfImage& i) { i.Find(PT_GNU_STACK).p_type = PT_NOTE; }},
      {"unknown segment type", [](ElfImage& i) { i.Find(PT_PHDR).p_type = 0x6abcdef0; }},
      {"non-executable stack with a size",
       [](ElfImage& i) { i.Find(PT_GNU_STACK).p_memsz = 1 << 20; }},
      {"memsz larger than filesz", [](ElfImage& i) { i.Find(PT_LOAD, 1).p_memsz += 0x5000; }},
      {"adjacent PT_LOADs", [](ElfImage& i) { i.Find(PT_LOAD, 1).p_vaddr = 0x300; }},
      {"empty PT_LOAD", [](ElfImage& i) { i.Find(PT_LOAD, 1).p_filesz = 0; }},
  };
  for (const Case& c : cases) {
    ElfImage img = DynamicImage();
    c.change(img);
    Result<ElfHeaders> h = Parse(img);
    EXPECT_TRUE(h.ok()) << c.name << ": " << (h.ok() ? "" : h.error().message());
  }
}

TEST(ElfParse, RequestedStackSizeComesFromGnuStack) {
  ElfImage img = StaticImage();
  Result<ElfHeaders> plain = Parse(img);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->requested_stack_size().has_value());
  img.Find(PT_GNU_STACK).p_memsz = 3 << 20;
  Result<ElfHeaders> sized = Parse(img);
  ASSERT_TRUE(sized.ok());
  EXPECT_EQ(uint64_t{3} << 20, sized->requested_stack_size().value_or(0));
}

struct Rejection {
  const char* name;
  std::function<void(ElfImage&)> change;
  capspawn_status_t status;
  const char* message;  // a substring of the error message
};

void ExpectRejected(const Rejection& r) {
  ElfImage img = DynamicImage();
  r.change(img);
  Result<ElfHeaders> h = Parse(img);
  ASSERT_FALSE(h.ok()) << r.name << " was accepted";
  EXPECT_EQ(r.status, h.status()) << r.name << ": " << h.error().message();
  EXPECT_NE(std::string::npos, h.error().message().find(r.message))
      << r.name << ": message \"" << h.error().message() << "\" lacks \"" << r.message << "\"";
  EXPECT_EQ(0u, h.error().message().rfind("ELF: ", 0)) << h.error().message();
}

TEST(ElfParse, RejectsBadFileHeaders) {
  const capspawn_status_t bad = kBadFormatStatus;
  const capspawn_status_t cut = kTruncatedStatus;
  const std::vector<Rejection> cases = {
      {"magic", [](ElfImage& i) { i.ehdr.e_ident[EI_MAG3] = 'G'; }, bad, "bad magic"},
      {"class 32", [](ElfImage& i) { i.ehdr.e_ident[EI_CLASS] = ELFCLASS32; }, bad, "ELFCLASS32"},
      {"class none", [](ElfImage& i) { i.ehdr.e_ident[EI_CLASS] = ELFCLASSNONE; }, bad,
       "bad class 0"},
      {"big endian", [](ElfImage& i) { i.ehdr.e_ident[EI_DATA] = ELFDATA2MSB; }, bad, "big-endian"},
      {"data none", [](ElfImage& i) { i.ehdr.e_ident[EI_DATA] = ELFDATANONE; }, bad,
       "bad data encoding 0"},
      {"ident version", [](ElfImage& i) { i.ehdr.e_ident[EI_VERSION] = 2; }, bad, "EI_VERSION"},
      {"machine", [](ElfImage& i) { i.ehdr.e_machine = ForeignMachine(); }, bad,
       "does not match this host"},
      {"machine unknown", [](ElfImage& i) { i.ehdr.e_machine = 0x7777; }, bad,
       "machine 30583 does not match"},
      {"type ET_REL", [](ElfImage& i) { i.ehdr.e_type = ET_REL; }, bad, "type ET_REL (1)"},
      {"type ET_CORE", [](ElfImage& i) { i.ehdr.e_type = ET_CORE; }, bad, "ET_CORE"},
      {"type ET_NONE", [](ElfImage& i) { i.ehdr.e_type = ET_NONE; }, bad, "not executable"},
      {"e_version", [](ElfImage& i) { i.ehdr.e_version = 0; }, bad, "e_version"},
      {"phentsize", [](ElfImage& i) { i.ehdr.e_phentsize = 32; }, bad, "e_phentsize is 32"},
      {"phnum 0", [](ElfImage& i) { i.ehdr.e_phnum = 0; }, bad, "no program headers"},
      {"phnum PN_XNUM", [](ElfImage& i) { i.ehdr.e_phnum = PN_XNUM; }, bad, "PN_XNUM"},
      {"phnum over the kernel limit", [](ElfImage& i) { i.ehdr.e_phnum = 1171; }, bad,
       "1171 program headers"},
      {"phoff past the end", [](ElfImage& i) { i.ehdr.e_phoff = i.file_size; }, cut,
       "program header table"},
      {"phoff overflows", [](ElfImage& i) { i.ehdr.e_phoff = UINT64_MAX - 8; }, cut,
       "program header table"},
      {"phdr table ends past the end", [](ElfImage& i) { i.ehdr.e_phoff = i.file_size - 100; }, cut,
       "truncated"},
  };
  for (const Rejection& r : cases) ExpectRejected(r);
}

TEST(ElfParse, RejectsBadLoadSegments) {
  const uint64_t page = PageSize();
  const capspawn_status_t bad = kBadFormatStatus;
  const capspawn_status_t cut = kTruncatedStatus;
  const std::vector<Rejection> cases = {
      {"align below a page", [](ElfImage& i) { i.Find(PT_LOAD).p_align = 0x10; }, bad,
       "PT_LOAD 2 alignment 0x10 is not"},
      {"align zero", [](ElfImage& i) { i.Find(PT_LOAD).p_align = 0; }, bad, "alignment 0x0 "},
      {"align one", [](ElfImage& i) { i.Find(PT_LOAD).p_align = 1; }, bad, "alignment 0x1 "},
      {"align not a power of two", [page](ElfImage& i) { i.Find(PT_LOAD).p_align = 3 * page; }, bad,
       "power-of-two"},
      {"vaddr not congruent to offset", [](ElfImage& i) { i.Find(PT_LOAD, 1).p_vaddr += 0x10; },
       bad, "PT_LOAD 3 p_vaddr"},
      {"filesz above memsz",
       [](ElfImage& i) { i.Find(PT_LOAD, 1).p_memsz = i.Find(PT_LOAD, 1).p_filesz - 1; }, bad,
       "p_filesz 0x100 > p_memsz 0xff"},
      {"overlap", [page](ElfImage& i) { i.Find(PT_LOAD).p_memsz = page + 0x301; }, bad,
       "PT_LOAD 3 overlaps PT_LOAD 2"},
      {"descending",
       [page](ElfImage& i) {
         i.Find(PT_LOAD, 1).p_vaddr = 0x300;
         i.Find(PT_LOAD).p_vaddr = 2 * page;
       },
       bad, "ascending order"},
      {"wraps around",
       [page](ElfImage& i) {
         Elf64_Phdr& p = i.Find(PT_LOAD, 1);
         p.p_vaddr = UINT64_MAX - page + 1 + 0x300;
         p.p_memsz = page;
       },
       bad, "wraps around"},
      {"bytes past the end", [](ElfImage& i) { i.Find(PT_LOAD, 1).p_filesz = 0x101; }, cut,
       "PT_LOAD 3 (0x101 bytes at offset 0x300) extends past the end"},
      {"offset past the end",
       [page](ElfImage& i) {
         Elf64_Phdr& p = i.Find(PT_LOAD, 1);
         p.p_offset += 16 * page;
         p.p_vaddr += 16 * page;
       },
       cut, "truncated"},
      {"no PT_LOAD",
       [](ElfImage& i) {
         i.Find(PT_LOAD, 1).p_type = PT_NOTE;
         i.Find(PT_LOAD).p_type = PT_NOTE;
       },
       bad, "no PT_LOAD segment"},
  };
  for (const Rejection& r : cases) ExpectRejected(r);
}

TEST(ElfParse, RejectsBadInterp) {
  const capspawn_status_t bad = kBadFormatStatus;
  const capspawn_status_t cut = kTruncatedStatus;
  const std::vector<Rejection> cases = {
      {"two PT_INTERP", [](ElfImage& i) { i.Find(PT_PHDR) = i.Find(PT_INTERP); }, bad,
       "more than one PT_INTERP (program headers 0 and 1)"},
      // Fuchsia's get_dynamic_linker: InvalidInterpHeader, INVALID_ARGS.
      {"no NUL", [](ElfImage& i) { i.interp_bytes.back() = 'x'; }, kInvalidInterpStatus,
       "not NUL-terminated"},
      {"zero size", [](ElfImage& i) { i.Find(PT_INTERP).p_filesz = 0; }, kInvalidInterpStatus,
       "PT_INTERP 1 is empty (not even its NUL)"},
      {"not UTF-8", [](ElfImage& i) { i.interp_bytes[5] = '\xff'; }, kInvalidInterpStatus,
       "PT_INTERP 1 is not valid UTF-8"},
      {"overlong UTF-8",
       [](ElfImage& i) {
         i.interp_bytes[5] = '\xc0';
         i.interp_bytes[6] = '\xaf';
       },
       kInvalidInterpStatus, "not valid UTF-8"},
      {"UTF-16 surrogate",
       [](ElfImage& i) {
         i.interp_bytes[5] = '\xed';
         i.interp_bytes[6] = '\xa0';
         i.interp_bytes[7] = '\x80';
       },
       kInvalidInterpStatus, "not valid UTF-8"},
      {"only a NUL",
       [](ElfImage& i) {
         i.Find(PT_INTERP).p_filesz = 1;
         i.interp_bytes = std::string(1, '\0');
       },
       bad, "PT_INTERP 1 is empty"},
      {"NUL inside", [](ElfImage& i) { i.interp_bytes[4] = '\0'; }, bad, "NUL byte inside"},
      {"longer than PATH_MAX",
       [](ElfImage& i) { i.Find(PT_INTERP).p_filesz = i.Find(PT_INTERP).p_memsz = 5000; }, bad,
       "PATH_MAX"},
      {"past the end", [](ElfImage& i) { i.Find(PT_INTERP).p_offset = i.file_size - 4; }, cut,
       "PT_INTERP 1"},
      {"offset overflows", [](ElfImage& i) { i.Find(PT_INTERP).p_offset = UINT64_MAX - 2; }, cut,
       "truncated"},
  };
  for (const Rejection& r : cases) ExpectRejected(r);
}

// A valid UTF-8 path beyond ASCII is accepted, as Fuchsia's from_utf8 takes it.
TEST(ElfParse, AcceptsUtf8Interp) {
  ElfImage img = DynamicImage();
  img.interp_bytes.replace(5, 2, "\xc3\xa9");  // "é"
  Result<ElfHeaders> h = Parse(img);
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_NE(std::string::npos, h->interp->find("\xc3\xa9"));
}

// p_filesz > p_memsz is refused on every program header, not only PT_LOAD.
TEST(ElfParse, FileszAboveMemszOnAnyHeader) {
  const std::vector<Rejection> cases = {
      {"PT_GNU_STACK",
       [](ElfImage& i) {
         i.Find(PT_GNU_STACK).p_filesz = 1;
         i.Find(PT_GNU_STACK).p_memsz = 0;
       },
       kBadFormatStatus, "PT_GNU_STACK 4 has p_filesz 0x1 > p_memsz 0x0"},
      {"PT_PHDR", [](ElfImage& i) { i.Find(PT_PHDR).p_memsz = 8; }, kBadFormatStatus,
       "PT_PHDR 0 has p_filesz 0x118 > p_memsz 0x8"},
      {"an unknown type",
       [](ElfImage& i) {
         Elf64_Phdr& p = i.Find(PT_GNU_STACK);
         p.p_type = 0x6fff0001;
         p.p_filesz = 2;
       },
       kBadFormatStatus, "program header 4 (type 0x6fff0001) has p_filesz 0x2 > p_memsz 0x0"},
  };
  for (const Rejection& r : cases) ExpectRejected(r);
}

// Fuchsia's program_header_with_type(GnuStack): two are MultipleHeaders.
TEST(ElfParse, MultipleGnuStackHeaders) {
  ExpectRejected({"two PT_GNU_STACK", [](ElfImage& i) { i.Find(PT_PHDR) = i.Find(PT_GNU_STACK); },
                  kBadFormatStatus, "more than one PT_GNU_STACK (program headers 0 and 4)"});
}

TEST(ElfParse, RejectsExecutableStack) {
  ExpectRejected({"PF_X stack",
                  [](ElfImage& i) { i.Find(PT_GNU_STACK).p_flags = PF_R | PF_W | PF_X; },
                  kBadFormatStatus, "PT_GNU_STACK 4 asks for an executable stack"});
}

TEST(ElfParse, NonElfInputs) {
  struct Input {
    std::string bytes;
    capspawn_status_t status;
    const char* message;
  };
  const std::vector<Input> inputs = {
      // Fuchsia reads the header from the VMO: past its end, OUT_OF_RANGE.
      {"", kTruncatedStatus, "the file is empty"},
      {"#!/bin/sh\necho hi\n", kBadFormatStatus, "'#!' script"},
      {"hello world, this is text and not an ELF file at all ...............", kBadFormatStatus,
       "bad magic"},
      {"\x7f", kTruncatedStatus, "truncated"},
      {"\x7f"
       "EL",
       kTruncatedStatus, "truncated"},
      {"\x7f"
       "ELF",
       kTruncatedStatus, "the ELF header needs 64 bytes, the file has 4"},
      {"\x7f"
       "EL!",
       kBadFormatStatus, "bad magic"},
      {"MZ", kBadFormatStatus, "bad magic"},
  };
  for (const Input& in : inputs) {
    std::vector<uint8_t> bytes(in.bytes.begin(), in.bytes.end());
    Result<ElfHeaders> h = Parse(bytes);
    ASSERT_FALSE(h.ok()) << "accepted \"" << in.bytes << "\"";
    EXPECT_EQ(in.status, h.status()) << h.error().message();
    EXPECT_NE(std::string::npos, h.error().message().find(in.message)) << h.error().message();
  }
}

// Cutting the file anywhere is an error that says "truncated", never a crash:
// the image's PT_LOADs run to its last byte.
TEST(ElfParse, EveryTruncationIsReported) {
  for (const ElfImage& img : {DynamicImage(), StaticImage()}) {
    const std::vector<uint8_t> whole = img.Bytes();
    ASSERT_TRUE(Parse(whole).ok());
    for (size_t len = 1; len < whole.size(); ++len) {
      std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(len));
      Result<ElfHeaders> h = Parse(cut);
      ASSERT_FALSE(h.ok()) << "accepted the first " << len << " bytes";
      EXPECT_EQ(kTruncatedStatus, h.status()) << len << ": " << h.error().message();
      EXPECT_NE(std::string::npos, h.error().message().find("truncated"))
          << len << ": " << h.error().message();
    }
  }
}

}  // namespace
}  // namespace capspawn::elf
