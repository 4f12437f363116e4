// SPDX-License-Identifier: Apache-2.0
// Builds small, valid ELF images in memory that tests then break one field
// at a time.
#ifndef CAPSPAWN_TESTS_ELF_ELF_IMAGE_H_
#define CAPSPAWN_TESTS_ELF_ELF_IMAGE_H_

#include <elf.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <capspawn/fd.h>

namespace capspawn::elf::testing {

struct ElfImage {
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  // Bytes written at each PT_INTERP's p_offset (only the first p_filesz of them).
  std::string interp_bytes;
  size_t file_size = 0;

  // ehdr at 0, phdrs at e_phoff (as many as e_phnum says, from `phdrs`),
  // interp_bytes at every PT_INTERP, zeros elsewhere; file_size bytes long.
  std::vector<uint8_t> Bytes() const;
  // Index of the first program header of `type`; aborts the test if none.
  Elf64_Phdr& Find(uint32_t type, int nth = 0);
};

// A PIE with a PT_INTERP: PHDR, INTERP, LOAD (R), LOAD (R E), GNU_STACK (RW),
// laid out in 0x400 bytes with page-aligned PT_LOADs. The two PT_LOADs
// cover the whole file, so cutting any byte off truncates a segment.
ElfImage DynamicImage();
// An ET_EXEC without PT_INTERP: PHDR, LOAD, LOAD, GNU_STACK.
ElfImage StaticImage();

// A sealed memfd holding `bytes`.
UniqueFd MemFdWith(std::span<const uint8_t> bytes);

}  // namespace capspawn::elf::testing

#endif  // CAPSPAWN_TESTS_ELF_ELF_IMAGE_H_
