// SPDX-License-Identifier: Apache-2.0
// Where the parser's bytes come from: a file held in memory, or an fd read
// with pread behind a prefix the caller already read.
#ifndef CAPSPAWN_SRC_ELF_BYTE_SOURCE_H_
#define CAPSPAWN_SRC_ELF_BYTE_SOURCE_H_

#include <cstdint>
#include <span>

#include <capspawn/result.h>

namespace capspawn::elf::internal {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The file's size in bytes.
  virtual uint64_t size() const = 0;
  // Fills `out` with the bytes at `offset`. The parser only asks for ranges
  // inside size(); a file that shrinks meanwhile is reported as truncated.
  virtual Status ReadExact(uint64_t offset, std::span<uint8_t> out) const = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  Status ReadExact(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  std::span<const uint8_t> bytes_;
};

class FdSource final : public ByteSource {
 public:
  // `size` comes from fstat; `prefix` holds the file's first bytes.
  FdSource(int fd, uint64_t size, std::span<const uint8_t> prefix)
      : fd_(fd), size_(size), prefix_(prefix) {}
  uint64_t size() const override { return size_; }
  Status ReadExact(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  int fd_;
  uint64_t size_;
  std::span<const uint8_t> prefix_;
};

}  // namespace capspawn::elf::internal

#endif  // CAPSPAWN_SRC_ELF_BYTE_SOURCE_H_
