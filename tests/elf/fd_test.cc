// SPDX-License-Identifier: Apache-2.0
// ParseHeaders(fd, prefix): the same answers as the in-memory parser, bytes
// taken from the prefix when it covers them, the file offset untouched.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>
#include <capspawn/fd.h>

#include "elf_image.h"

namespace capspawn::elf {
namespace {

using testing::DynamicImage;
using testing::MemFdWith;

void ExpectSameHeaders(const ElfHeaders& a, const ElfHeaders& b) {
  EXPECT_EQ(0, std::memcmp(&a.ehdr, &b.ehdr, sizeof(a.ehdr)));
  ASSERT_EQ(a.phdrs.size(), b.phdrs.size());
  EXPECT_EQ(0, std::memcmp(a.phdrs.data(), b.phdrs.data(), a.phdrs.size() * sizeof(Elf64_Phdr)));
  EXPECT_EQ(a.interp, b.interp);
}

TEST(ElfParseFd, MatchesInMemoryParseForEveryPrefixLength) {
  const std::vector<uint8_t> bytes = DynamicImage().Bytes();
  UniqueFd fd = MemFdWith(bytes);
  ASSERT_TRUE(fd.valid());
  Result<ElfHeaders> mem = ParseHeaders(bytes);
  ASSERT_TRUE(mem.ok()) << mem.error().message();
  for (size_t len : {size_t{0}, size_t{1}, size_t{10}, size_t{64}, size_t{100}, size_t{0x158},
                     size_t{0x205}, size_t{0x300}, bytes.size()}) {
    Result<ElfHeaders> h = ParseHeaders(fd.get(), std::span(bytes).first(len));
    ASSERT_TRUE(h.ok()) << "prefix " << len << ": " << h.error().message();
    ExpectSameHeaders(*mem, *h);
  }
}

TEST(ElfParseFd, LeavesTheFileOffsetAlone) {
  const std::vector<uint8_t> bytes = DynamicImage().Bytes();
  UniqueFd fd = MemFdWith(bytes);
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(17, lseek(fd.get(), 17, SEEK_SET));
  ASSERT_TRUE(ParseHeaders(fd.get()).ok());
  EXPECT_EQ(17, lseek(fd.get(), 0, SEEK_CUR));
}

// An O_PATH fd can be fstat'ed but not read: with a prefix that covers the
// headers the parse needs no read at all, without one pread fails.
TEST(ElfParseFd, UsesThePrefixInsteadOfReading) {
  const std::vector<uint8_t> bytes = DynamicImage().Bytes();
  UniqueFd fd = MemFdWith(bytes);
  ASSERT_TRUE(fd.valid());
  const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  UniqueFd path_fd(open(proc.c_str(), O_PATH | O_CLOEXEC));
  ASSERT_TRUE(path_fd.valid()) << strerror(errno);

  Result<ElfHeaders> covered = ParseHeaders(path_fd.get(), bytes);
  ASSERT_TRUE(covered.ok()) << covered.error().message();
  EXPECT_TRUE(covered->is_dynamic());

  Result<ElfHeaders> unread = ParseHeaders(path_fd.get(), std::span(bytes).first(64));
  ASSERT_FALSE(unread.ok());
  EXPECT_EQ(CAPSPAWN_ERR_BAD_HANDLE, unread.status()) << unread.error().message();
  EXPECT_NE(std::string::npos, unread.error().message().find("pread fd"))
      << unread.error().message();
}

TEST(ElfParseFd, TruncationMessagesMatchTheInMemoryParser) {
  const std::vector<uint8_t> whole = DynamicImage().Bytes();
  for (size_t len : {size_t{3}, size_t{40}, size_t{100}, size_t{0x210}, size_t{0x3ff}}) {
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(len));
    UniqueFd fd = MemFdWith(cut);
    ASSERT_TRUE(fd.valid());
    Result<ElfHeaders> mem = ParseHeaders(cut);
    Result<ElfHeaders> via_fd = ParseHeaders(fd.get());
    // A caller's prefix may be longer than what the file now holds.
    Result<ElfHeaders> long_prefix = ParseHeaders(fd.get(), whole);
    ASSERT_FALSE(mem.ok());
    ASSERT_FALSE(via_fd.ok());
    ASSERT_FALSE(long_prefix.ok());
    EXPECT_EQ(kTruncatedStatus, via_fd.status());
    EXPECT_EQ(mem.error().message(), via_fd.error().message());
    EXPECT_EQ(mem.error().message(), long_prefix.error().message());
  }
}

TEST(ElfParseFd, RejectsFdsThatAreNotRegularFiles) {
  int pipe_fds[2];
  ASSERT_EQ(0, pipe2(pipe_fds, O_CLOEXEC));
  UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
  Result<ElfHeaders> p = ParseHeaders(r.get());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(CAPSPAWN_ERR_NOT_FILE, p.status());
  EXPECT_NE(std::string::npos, p.error().message().find("a pipe")) << p.error().message();

  UniqueFd dir(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid());
  Result<ElfHeaders> d = ParseHeaders(dir.get());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(CAPSPAWN_ERR_NOT_FILE, d.status());
  EXPECT_NE(std::string::npos, d.error().message().find("a directory")) << d.error().message();
}

TEST(ElfParseFd, RejectsBadFds) {
  Result<ElfHeaders> neg = ParseHeaders(-1);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(CAPSPAWN_ERR_BAD_HANDLE, neg.status());

  // A number that is not open in this process.
  int closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(closed, 0);
  ASSERT_EQ(0, close(closed));
  Result<ElfHeaders> h = ParseHeaders(closed);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(CAPSPAWN_ERR_BAD_HANDLE, h.status()) << h.error().message();
  EXPECT_NE(std::string::npos, h.error().message().find("fstat fd " + std::to_string(closed)));
}

}  // namespace
}  // namespace capspawn::elf
