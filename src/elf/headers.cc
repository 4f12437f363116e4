// SPDX-License-Identifier: Apache-2.0
#include <capspawn/elf.h>

namespace capspawn::elf {

const Elf64_Phdr* ElfHeaders::FindProgramHeader(uint32_t type) const {
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type == type) return &ph;
  }
  return nullptr;
}

std::optional<uint64_t> ElfHeaders::requested_stack_size() const {
  const Elf64_Phdr* stack = FindProgramHeader(PT_GNU_STACK);
  if (stack == nullptr || stack->p_memsz == 0) return std::nullopt;
  return stack->p_memsz;
}

Result<std::string> GetDynamicLinker(const ElfHeaders& headers) {
  if (!headers.interp) {
    return Error(CAPSPAWN_ERR_NOT_FOUND,
                 "ELF: no PT_INTERP: the program is statically linked and needs no dynamic linker");
  }
  return *headers.interp;
}

}  // namespace capspawn::elf
