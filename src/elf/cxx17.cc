// SPDX-License-Identifier: Apache-2.0
// The pointer-and-size forms of elf.h's std::span functions, which C++17
// users of the installed header can call.
#include <capspawn/elf.h>

namespace capspawn::elf {

Result<ElfHeaders> ParseHeadersPrefix(int fd, const uint8_t* prefix, size_t prefix_size) {
  return ParseHeaders(fd, std::span<const uint8_t>(prefix, prefix_size));
}

Result<ElfHeaders> ParseHeadersInMemory(const uint8_t* whole_file, size_t size) {
  return ParseHeaders(std::span<const uint8_t>(whole_file, size));
}

size_t StringsBytes(const std::vector<std::string>& strings) {
  return StringsBytes(std::span<const std::string>(strings));
}

}  // namespace capspawn::elf
