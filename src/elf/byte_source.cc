// SPDX-License-Identifier: Apache-2.0
#include "elf/byte_source.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "elf/format.h"

namespace capspawn::elf::internal {

Status MemorySource::ReadExact(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset) {
    return Truncated("the file ends before offset " + Hex(offset + out.size()));
  }
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return {};
}

Status FdSource::ReadExact(uint64_t offset, std::span<uint8_t> out) const {
  // Whatever the prefix covers costs no system call: the spawn path has
  // already read the first page to look for "#!".
  if (offset < prefix_.size()) {
    const size_t n = std::min<uint64_t>(out.size(), prefix_.size() - offset);
    std::memcpy(out.data(), prefix_.data() + offset, n);
    out = out.subspan(n);
    offset += n;
  }
  while (!out.empty()) {
    const ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno,
                              "ELF: pread fd " + std::to_string(fd_) + " at offset " + Hex(offset));
    }
    if (n == 0) return Truncated("the file ends before offset " + Hex(offset + out.size()));
    out = out.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return {};
}

}  // namespace capspawn::elf::internal
