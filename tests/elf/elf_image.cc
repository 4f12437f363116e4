// SPDX-License-Identifier: Apache-2.0
#include "elf_image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#include <capspawn/elf.h>

namespace capspawn::elf::testing {
namespace {

Elf64_Ehdr BaseHeader(uint16_t type, uint16_t phnum) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = type;
  eh.e_machine = kHostMachine;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = phnum;
  return eh;
}

Elf64_Phdr Phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz,
                uint64_t memsz, uint64_t align) {
  return Elf64_Phdr{type, flags, offset, vaddr, vaddr, filesz, memsz, align};
}

ElfImage Image(bool dynamic) {
  const uint64_t page = PageSize();
  const uint64_t base = dynamic ? 0 : 0x400000;
  ElfImage img;
  std::vector<Elf64_Phdr>& ph = img.phdrs;
  ph.push_back(Phdr(PT_PHDR, PF_R, 0x40, base + 0x40, 0, 0, 8));
  if (dynamic) {
    img.interp_bytes = std::string("/lib/ld-capspawn-test.so.1") + '\0';
    ph.push_back(
        Phdr(PT_INTERP, PF_R, 0x200, 0x200, img.interp_bytes.size(), img.interp_bytes.size(), 1));
  }
  ph.push_back(Phdr(PT_LOAD, PF_R, 0, base, 0x300, 0x300, page));
  ph.push_back(Phdr(PT_LOAD, PF_R | PF_X, 0x300, base + page + 0x300, 0x100, 0x1000, page));
  ph.push_back(Phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16));
  ph[0].p_filesz = ph[0].p_memsz = ph.size() * sizeof(Elf64_Phdr);
  img.ehdr = BaseHeader(dynamic ? ET_DYN : ET_EXEC, static_cast<uint16_t>(ph.size()));
  img.ehdr.e_entry = base + page + 0x300;
  img.file_size = 0x400;
  return img;
}

}  // namespace

std::vector<uint8_t> ElfImage::Bytes() const {
  std::vector<uint8_t> out(file_size, 0);
  auto put = [&out](uint64_t offset, const void* data, size_t len) {
    if (offset >= out.size()) return;
    std::memcpy(out.data() + offset, data, std::min<uint64_t>(len, out.size() - offset));
  };
  put(0, &ehdr, sizeof(ehdr));
  for (size_t i = 0; i < phdrs.size() && i < ehdr.e_phnum; ++i) {
    uint64_t at;
    // An e_phoff near 2^64 must not wrap around onto the ELF header.
    if (__builtin_add_overflow(ehdr.e_phoff, i * sizeof(Elf64_Phdr), &at)) break;
    put(at, &phdrs[i], sizeof(Elf64_Phdr));
  }
  for (const Elf64_Phdr& p : phdrs) {
    if (p.p_type == PT_INTERP) {
      put(p.p_offset, interp_bytes.data(), std::min<uint64_t>(p.p_filesz, interp_bytes.size()));
    }
  }
  return out;
}

Elf64_Phdr& ElfImage::Find(uint32_t type, int nth) {
  for (Elf64_Phdr& p : phdrs) {
    if (p.p_type == type && nth-- == 0) return p;
  }
  ADD_FAILURE() << "test image has no program header of type " << type;
  std::abort();
}

ElfImage DynamicImage() { return Image(true); }
ElfImage StaticImage() { return Image(false); }

UniqueFd MemFdWith(std::span<const uint8_t> bytes) {
  UniqueFd fd(memfd_create("capspawn-elf-test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_TRUE(fd.valid()) << "memfd_create: " << std::strerror(errno);
  size_t done = 0;
  while (fd.valid() && done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    EXPECT_GT(n, 0) << "write memfd: " << std::strerror(errno);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (fd.valid()) {
    EXPECT_EQ(0, fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
  }
  return fd;
}

}  // namespace capspawn::elf::testing
