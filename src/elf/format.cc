// SPDX-License-Identifier: Apache-2.0
#include "elf/format.h"

#include <cinttypes>
#include <cstdio>

#include <capspawn/elf.h>

namespace capspawn::elf::internal {

std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
  return buf;
}

Error BadFormat(const std::string& what) { return Error(kBadFormatStatus, "ELF: " + what); }

Error Truncated(const std::string& what) {
  return Error(kTruncatedStatus, "ELF: " + what + ": truncated");
}

}  // namespace capspawn::elf::internal
