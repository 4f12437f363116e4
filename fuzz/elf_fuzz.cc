// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over the ELF parser and the dynamic section reader.
// Beyond "no crash, no sanitizer report", it checks their promises: the fd
// path (with a prefix of a length the input picks) answers exactly as the
// in-memory path, accepted headers are consistent, errors start with "ELF: ".
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include <capspawn/elf.h>

namespace {

namespace elf = capspawn::elf;

void Check(bool ok) {
  if (!ok) std::abort();
}

// One memfd per fuzzing process, rewritten for each input.
int InputFd(std::span<const uint8_t> data) {
  static const int fd = memfd_create("elf_fuzz", MFD_CLOEXEC);
  Check(fd >= 0);
  Check(ftruncate(fd, 0) == 0);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = pwrite(fd, data.data() + done, data.size() - done, done);
    Check(n > 0);
    done += static_cast<size_t>(n);
  }
  return fd;
}

void CheckAccepted(const elf::ElfHeaders& h) {
  Check(h.phdrs.size() == h.ehdr.e_phnum);
  Check(h.is_pie() == (h.ehdr.e_type == ET_DYN));
  Check(h.is_dynamic() == (h.FindProgramHeader(PT_INTERP) != nullptr));
  capspawn::Result<std::string> ld = elf::GetDynamicLinker(h);
  Check(ld.ok() == h.is_dynamic());
  if (ld.ok()) Check(!ld->empty() && ld->find('\0') == std::string::npos);
  const uint64_t stack = elf::InitialStackSize(h, 10, 20, 3);
  Check(stack > 0 && stack % elf::PageSize() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  capspawn::Result<elf::ElfHeaders> mem = elf::ParseHeaders(input);
  if (mem.ok()) {
    CheckAccepted(*mem);
  } else {
    Check(mem.error().message().rfind("ELF: ", 0) == 0);
  }

  // The fd path, with a prefix covering none, part or all of the file.
  const size_t prefix_len = size == 0 ? 0 : data[size - 1] * size / 255;
  capspawn::Result<elf::ElfHeaders> via_fd =
      elf::ParseHeaders(InputFd(input), input.first(prefix_len));
  Check(via_fd.ok() == mem.ok());
  if (mem.ok()) {
    Check(std::memcmp(&mem->ehdr, &via_fd->ehdr, sizeof(Elf64_Ehdr)) == 0);
    Check(mem->phdrs.size() == via_fd->phdrs.size());
    Check(std::memcmp(mem->phdrs.data(), via_fd->phdrs.data(),
                      mem->phdrs.size() * sizeof(Elf64_Phdr)) == 0);
    Check(mem->interp == via_fd->interp);
    // The dynamic section reader, both ways, on what the parser accepted.
    capspawn::Result<elf::DynamicInfo> dyn = elf::ReadDynamicInfo(input, *mem);
    capspawn::Result<elf::DynamicInfo> dyn_fd = elf::ReadDynamicInfo(InputFd(input), *mem);
    Check(dyn.ok() == dyn_fd.ok());
    if (dyn.ok()) {
      Check(dyn->needed == dyn_fd->needed && dyn->soname == dyn_fd->soname);
      Check(dyn->runpath == dyn_fd->runpath && dyn->rpath == dyn_fd->rpath);
      for (const std::string& n : dyn->needed) Check(n.find('\0') == std::string::npos);
      (void)elf::FileKindName(elf::Classify(*mem, &*dyn));
    } else {
      Check(dyn.status() == dyn_fd.status());
      Check(dyn.error().message() == dyn_fd.error().message());
      Check(dyn.error().message().rfind("ELF: ", 0) == 0);
    }
  } else {
    Check(mem.status() == via_fd.status());
    Check(mem.error().message() == via_fd.error().message());
  }
  return 0;
}
