// SPDX-License-Identifier: Apache-2.0
#include "builder/inspect.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "engine/suspend.h"

namespace capspawn::builder {
namespace {

Result<std::vector<uint8_t>> ReadWholeFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno(errno, "open " + path);
  std::vector<uint8_t> bytes;
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "read " + path);
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  return bytes;
}

// The program headers as the process holds them (AT_PHDR, AT_PHNUM), for a
// program whose file could not be read.
Result<elf::ElfHeaders> HeadersFromMemory(int mem_fd, uint64_t at_phdr, uint64_t phnum) {
  if (phnum == 0 || phnum > elf::kMaxProgramHeaderTableBytes / sizeof(Elf64_Phdr)) {
    return Error(CAPSPAWN_ERR_NOT_FOUND, "AT_PHNUM is " + std::to_string(phnum));
  }
  elf::ElfHeaders h;
  h.phdrs.resize(phnum);
  const size_t bytes = phnum * sizeof(Elf64_Phdr);
  ssize_t n = pread(mem_fd, h.phdrs.data(), bytes, static_cast<off_t>(at_phdr));
  if (n != static_cast<ssize_t>(bytes)) {
    return Error::FromErrno(n < 0 ? errno : EIO, "read the program headers at AT_PHDR");
  }
  return h;
}

}  // namespace

std::map<uint64_t, uint64_t> ParseAuxv(std::span<const uint8_t> bytes) {
  std::map<uint64_t, uint64_t> auxv;
  for (size_t off = 0; off + 16 <= bytes.size(); off += 16) {
    uint64_t type, value;
    std::memcpy(&type, bytes.data() + off, 8);
    std::memcpy(&value, bytes.data() + off + 8, 8);
    if (type == AT_NULL) break;
    auxv.emplace(type, value);
  }
  return auxv;
}

Result<uint64_t> ImageBase(const elf::ElfHeaders& headers, uint64_t at_phdr) {
  const Elf64_Phdr* first_load = headers.FindProgramHeader(PT_LOAD);
  if (!first_load) return Error(CAPSPAWN_ERR_NOT_FOUND, "the program has no PT_LOAD");
  std::optional<uint64_t> phdr_vaddr;
  if (const Elf64_Phdr* p = headers.FindProgramHeader(PT_PHDR)) {
    phdr_vaddr = p->p_vaddr;
  } else if (headers.ehdr.e_phoff != 0) {
    // The kernel's own rule for AT_PHDR without PT_PHDR: the PT_LOAD whose
    // file bytes hold the table.
    for (const Elf64_Phdr& p : headers.phdrs) {
      if (p.p_type == PT_LOAD && headers.ehdr.e_phoff >= p.p_offset &&
          headers.ehdr.e_phoff - p.p_offset < p.p_filesz) {
        phdr_vaddr = p.p_vaddr + (headers.ehdr.e_phoff - p.p_offset);
        break;
      }
    }
  }
  if (!phdr_vaddr) {
    return Error(CAPSPAWN_ERR_NOT_FOUND,
                 "the program headers are in no PT_LOAD and there is no PT_PHDR");
  }
  const uint64_t bias = at_phdr - *phdr_vaddr;
  return bias + (first_load->p_vaddr - first_load->p_offset);
}

Result<BuiltProcess> FinishBuild(spawn::Launched launched) {
  BuiltProcess b;  // killed and reaped by its destructor on any failure below
  b.process = std::move(launched.process);
  b.elf_headers = std::move(launched.headers);
  const pid_t pid = b.process.pid();
  if (pid <= 0) return Error(CAPSPAWN_ERR_BAD_STATE, "build: the process has no pid");
  b.thread = pid;
  const std::string proc = "/proc/" + std::to_string(pid);

  Result<engine::InitialRegisters> regs = engine::ReadStoppedRegisters(pid);
  if (!regs.ok()) return regs.error().Context("build");
  b.entry = regs->pc;
  b.stack = regs->sp;

  Result<std::vector<uint8_t>> auxv_bytes = ReadWholeFile(proc + "/auxv");
  if (!auxv_bytes.ok()) return auxv_bytes.error().Context("build: the auxiliary vector");
  std::map<uint64_t, uint64_t> auxv = ParseAuxv(*auxv_bytes);
  b.vdso_base = auxv.count(AT_SYSINFO_EHDR) ? auxv[AT_SYSINFO_EHDR] : 0;

  b.root_vmar.reset(open((proc + "/mem").c_str(), O_RDWR | O_CLOEXEC));
  if (!b.root_vmar) return Error::FromErrno(errno, "build: open " + proc + "/mem");

  if (auxv.count(AT_BASE) && auxv[AT_BASE] != 0) {
    b.base = auxv[AT_BASE];  // the dynamic linker, mapped from its ELF header
  } else {
    if (!auxv.count(AT_PHDR)) return Error(CAPSPAWN_ERR_NOT_FOUND, "build: no AT_PHDR in auxv");
    Result<uint64_t> base = Error(CAPSPAWN_ERR_INTERNAL, "");
    if (b.elf_headers) {
      base = ImageBase(*b.elf_headers, auxv[AT_PHDR]);
    } else {
      Result<elf::ElfHeaders> mem = HeadersFromMemory(b.root_vmar.get(), auxv[AT_PHDR],
                                                      auxv.count(AT_PHNUM) ? auxv[AT_PHNUM] : 0);
      base = mem.ok() ? ImageBase(*mem, auxv[AT_PHDR]) : Result<uint64_t>(mem.error());
    }
    if (!base.ok()) return base.error().Context("build: the program's load address");
    b.base = *base;
  }

  Status stopped = engine::DetachIntoGroupStop(pid, b.process.pidfd().get());
  if (!stopped.ok()) return stopped.error().Context("build");
  return b;
}

}  // namespace capspawn::builder
