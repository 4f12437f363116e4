// SPDX-License-Identifier: Apache-2.0
// Small helpers that build the parser's error messages.
#ifndef CAPSPAWN_SRC_ELF_FORMAT_H_
#define CAPSPAWN_SRC_ELF_FORMAT_H_

#include <cstdint>
#include <string>

#include <capspawn/result.h>

namespace capspawn::elf::internal {

// "0x1f".
std::string Hex(uint64_t value);
// Error(kBadFormatStatus, "ELF: " + what).
Error BadFormat(const std::string& what);
// Error(kTruncatedStatus, "ELF: " + what + ": truncated").
Error Truncated(const std::string& what);

}  // namespace capspawn::elf::internal

#endif  // CAPSPAWN_SRC_ELF_FORMAT_H_
