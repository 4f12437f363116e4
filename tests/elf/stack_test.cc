// SPDX-License-Identifier: Apache-2.0
// Fuchsia's stack formulas, checked against numbers worked out by hand from
// Fuchsia's sources (processargs.rs' build_and_write_message test message,
// process_builder's start_util_with_huge_args) and the psABIs.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>

#include "elf_image.h"

namespace capspawn::elf {
namespace {

uint64_t RoundUpToPage(uint64_t v) {
  const uint64_t p = PageSize();
  return (v + p - 1) / p * p;
}

TEST(ElfStack, StringsBytesCountsTheNuls) {
  const std::vector<std::string> args = {"arg1", "arg2", "arg3"};
  EXPECT_EQ(15u, StringsBytes(args));
  const char* const argv[] = {"arg1", "", "arg3", nullptr};
  EXPECT_EQ(11u, StringsBytes(argv));
  EXPECT_EQ(0u, StringsBytes(static_cast<const char* const*>(nullptr)));
  EXPECT_EQ(0u, StringsBytes(std::vector<std::string>{}));
}

// Fuchsia's processargs test message: args arg1 arg2 arg3, environ FOO=BAR,
// names /data /pkg, three handles. Its bytes end at names_off (0x47) + 11.
TEST(ElfStack, ProcessargsMessageSizeMatchesFuchsiasExample) {
  EXPECT_EQ(0x52u, ProcessargsMessageSize(15, 8, 3, 11));
  EXPECT_EQ(36u, ProcessargsMessageSize(0, 0, 0));
}

TEST(ElfStack, LinkerStackIsMessagePlusHandlesPlusPthreadStackMin) {
  // 0x52 bytes of message, 3 handles of 4 bytes, 3072: one page.
  EXPECT_EQ(RoundUpToPage(0x52 + 12 + 3072), CalculateInitialLinkerStackSize(15, 8, 3, 11));
  EXPECT_EQ(PageSize(), CalculateInitialLinkerStackSize(15, 8, 3, 11));
  // 10,000 "arg" arguments (4 bytes each), as process_builder's huge-args test.
  EXPECT_EQ(RoundUpToPage(36 + 40000 + 3072), CalculateInitialLinkerStackSize(40000, 0, 0));
  // Exactly at a page boundary the size does not grow.
  const uint64_t page = PageSize();
  const size_t fill = page - 36 - 3072;
  EXPECT_EQ(page, CalculateInitialLinkerStackSize(fill, 0, 0));
  EXPECT_EQ(2 * page, CalculateInitialLinkerStackSize(fill + 1, 0, 0));
  // Each handle costs its 4-byte info in the message and a 4-byte handle.
  EXPECT_EQ(2 * page, CalculateInitialLinkerStackSize(fill - 7, 0, 1));
  EXPECT_EQ(page, CalculateInitialLinkerStackSize(fill - 8, 0, 1));
}

TEST(ElfStack, InitialStackSizeFollowsFuchsiasChoice) {
  Result<ElfHeaders> dynamic = ParseHeaders(testing::DynamicImage().Bytes());
  ASSERT_TRUE(dynamic.ok());
  EXPECT_EQ(CalculateInitialLinkerStackSize(100, 200, 4), InitialStackSize(*dynamic, 100, 200, 4));

  testing::ElfImage img = testing::StaticImage();
  Result<ElfHeaders> plain = ParseHeaders(img.Bytes());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(kDefaultStackSize, InitialStackSize(*plain, 100, 200, 4));

  img.Find(PT_GNU_STACK).p_memsz = 5 * PageSize() + 1;
  Result<ElfHeaders> sized = ParseHeaders(img.Bytes());
  ASSERT_TRUE(sized.ok());
  EXPECT_EQ(6 * PageSize(), InitialStackSize(*sized, 100, 200, 4));

  // A size near 2^64 saturates at the last page instead of wrapping to 0.
  img.Find(PT_GNU_STACK).p_memsz = UINT64_MAX - 5;
  Result<ElfHeaders> huge = ParseHeaders(img.Bytes());
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(UINT64_MAX - PageSize() + 1, InitialStackSize(*huge, 100, 200, 4));
}

TEST(ElfStack, InitialStackPointerFollowsThePsAbi) {
#if defined(__x86_64__)
  const uint64_t bias = 8;  // %rsp % 16 == 8 at entry
#else
  const uint64_t bias = 0;
#endif
  EXPECT_EQ(0x3000 - bias, ComputeInitialStackPointer(0x1000, 0x2000));
  EXPECT_EQ(0x1100 - bias, ComputeInitialStackPointer(0x1003, 0x100));
  EXPECT_EQ(0x1110 - bias, ComputeInitialStackPointer(0x1000, 0x11f));
  for (uint64_t size = 4096; size < 4096 + 64; ++size) {
    const uint64_t sp = ComputeInitialStackPointer(0x7f0000000000, size);
    EXPECT_EQ(bias, sp % 16);
    EXPECT_LE(sp, 0x7f0000000000 + size - bias);
    EXPECT_GT(sp + bias + 16, 0x7f0000000000 + size);
  }
  EXPECT_EQ(0u, ComputeInitialStackPointer(UINT64_MAX - 10, 100));
}

}  // namespace
}  // namespace capspawn::elf
