// SPDX-License-Identifier: Apache-2.0
#include <capspawn/elf.h>

namespace capspawn::elf {

std::string_view MachineName(uint16_t machine) {
  switch (machine) {
    case EM_NONE:
      return "EM_NONE";
    case EM_386:
      return "EM_386";
    case EM_ARM:
      return "EM_ARM";
    case EM_X86_64:
      return "EM_X86_64";
    case EM_AARCH64:
      return "EM_AARCH64";
    case EM_RISCV:
      return "EM_RISCV";
    case EM_PPC64:
      return "EM_PPC64";
    case EM_S390:
      return "EM_S390";
    case EM_MIPS:
      return "EM_MIPS";
    case EM_BPF:
      return "EM_BPF";
    default:
      return {};
  }
}

std::string_view TypeName(uint16_t type) {
  switch (type) {
    case ET_NONE:
      return "ET_NONE";
    case ET_REL:
      return "ET_REL";
    case ET_EXEC:
      return "ET_EXEC";
    case ET_DYN:
      return "ET_DYN";
    case ET_CORE:
      return "ET_CORE";
    default:
      return {};
  }
}

std::string_view SegmentTypeName(uint32_t type) {
  switch (type) {
    case PT_NULL:
      return "NULL";
    case PT_LOAD:
      return "LOAD";
    case PT_DYNAMIC:
      return "DYNAMIC";
    case PT_INTERP:
      return "INTERP";
    case PT_NOTE:
      return "NOTE";
    case PT_SHLIB:
      return "SHLIB";
    case PT_PHDR:
      return "PHDR";
    case PT_TLS:
      return "TLS";
    case PT_GNU_EH_FRAME:
      return "GNU_EH_FRAME";
    case PT_GNU_STACK:
      return "GNU_STACK";
    case PT_GNU_RELRO:
      return "GNU_RELRO";
    case PT_GNU_PROPERTY:
      return "GNU_PROPERTY";
    default:
      return {};
  }
}

std::string SegmentFlagsString(uint32_t flags) {
  std::string s = "   ";
  if (flags & PF_R) s[0] = 'R';
  if (flags & PF_W) s[1] = 'W';
  if (flags & PF_X) s[2] = 'E';
  return s;
}

}  // namespace capspawn::elf
