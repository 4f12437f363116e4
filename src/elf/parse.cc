// SPDX-License-Identifier: Apache-2.0
// Validation of the ELF header and program headers, with the rules of
// Fuchsia's elf_parse plus the bounds checks a loader needs before it trusts
// a file it has not mapped yet. Every rule is listed in docs/elf.md.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <capspawn/elf.h>

#include "elf/byte_source.h"
#include "elf/format.h"

namespace capspawn::elf {
namespace internal {
namespace {

std::string Num(uint64_t value) { return std::to_string(value); }

std::string Named(std::string_view name, uint64_t value) {
  if (name.empty()) return Num(value);
  return std::string(name) + " (" + Num(value) + ")";
}

// Magic first, so that a short text file is "bad magic" rather than "truncated".
Status CheckMagic(const ByteSource& source) {
  uint8_t magic[SELFMAG] = {};
  const size_t have = std::min<uint64_t>(source.size(), SELFMAG);
  // Fuchsia reads the header from the VMO, which fails past its end.
  if (have == 0) return Truncated("the file is empty");
  if (Status st = source.ReadExact(0, std::span(magic, have)); !st) return st;
  if (std::memcmp(magic, ELFMAG, have) != 0) {
    std::string what = "bad magic";
    if (have >= 2 && magic[0] == '#' && magic[1] == '!') what += " (the file is a '#!' script)";
    return BadFormat(what);
  }
  if (source.size() < sizeof(Elf64_Ehdr)) {
    return Truncated("the ELF header needs " + Num(sizeof(Elf64_Ehdr)) + " bytes, the file has " +
                     Num(source.size()));
  }
  return {};
}

Status CheckFileHeader(const Elf64_Ehdr& eh, uint64_t file_size) {
  const uint8_t* id = eh.e_ident;
  if (id[EI_CLASS] != ELFCLASS64) {
    if (id[EI_CLASS] == ELFCLASS32) {
      return BadFormat("32-bit file (ELFCLASS32); only ELFCLASS64 is supported");
    }
    return BadFormat("bad class " + Num(id[EI_CLASS]) +
                     " in EI_CLASS; only ELFCLASS64 is supported");
  }
  if (id[EI_DATA] != ELFDATA2LSB) {
    if (id[EI_DATA] == ELFDATA2MSB) {
      return BadFormat("big-endian file (ELFDATA2MSB); only ELFDATA2LSB is supported");
    }
    return BadFormat("bad data encoding " + Num(id[EI_DATA]) +
                     " in EI_DATA; only ELFDATA2LSB is supported");
  }
  if (id[EI_VERSION] != EV_CURRENT) {
    return BadFormat("bad version " + Num(id[EI_VERSION]) + " in EI_VERSION (expected 1)");
  }
  if (eh.e_machine != kHostMachine) {
    return BadFormat("machine " + Named(MachineName(eh.e_machine), eh.e_machine) +
                     " does not match this host's " + std::string(MachineName(kHostMachine)));
  }
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    return BadFormat("type " + Named(TypeName(eh.e_type), eh.e_type) +
                     " is not executable; only ET_EXEC and ET_DYN are");
  }
  if (eh.e_version != EV_CURRENT) {
    return BadFormat("bad version " + Num(eh.e_version) + " in e_version (expected 1)");
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return BadFormat("e_phentsize is " + Num(eh.e_phentsize) + ", expected " +
                     Num(sizeof(Elf64_Phdr)));
  }
  if (eh.e_phnum == 0) return BadFormat("no program headers (e_phnum is 0)");
  if (eh.e_phnum == PN_XNUM) {
    return BadFormat("e_phnum is PN_XNUM (extended numbering), which is not supported");
  }
  const uint64_t table_bytes = uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  if (table_bytes > kMaxProgramHeaderTableBytes) {
    return BadFormat(Num(eh.e_phnum) + " program headers (" + Num(table_bytes) +
                     " bytes) exceed the kernel's limit of " + Num(kMaxProgramHeaderTableBytes) +
                     " bytes");
  }
  if (eh.e_phoff > file_size || table_bytes > file_size - eh.e_phoff) {
    return Truncated("the program header table (" + Num(table_bytes) + " bytes at offset " +
                     Hex(eh.e_phoff) + ") extends past the end of the file (" + Num(file_size) +
                     " bytes)");
  }
  return {};
}

// Fuchsia's InvalidInterpHeader: INVALID_ARGS.
Error InvalidInterp(const std::string& what) { return Error(kInvalidInterpStatus, "ELF: " + what); }

// Strict UTF-8, as Rust's str::from_utf8: no overlong forms, no surrogates,
// nothing above U+10FFFF.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string Segment(const char* type, size_t index) { return std::string(type) + " " + Num(index); }

// Whether [offset, offset + size) lies inside the file.
bool InFile(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

Status CheckLoad(const Elf64_Phdr& ph, size_t i, uint64_t file_size, uint64_t page_size) {
  const std::string name = Segment("PT_LOAD", i);
  if (ph.p_filesz > ph.p_memsz) {
    return BadFormat(name + " has p_filesz " + Hex(ph.p_filesz) + " > p_memsz " + Hex(ph.p_memsz));
  }
  if (!IsPowerOfTwo(ph.p_align) || ph.p_align < page_size) {
    return BadFormat(name + " alignment " + Hex(ph.p_align) +
                     " is not a power-of-two multiple of the page size (" + Hex(page_size) + ")");
  }
  if (ph.p_vaddr % ph.p_align != ph.p_offset % ph.p_align) {
    return BadFormat(name + " p_vaddr " + Hex(ph.p_vaddr) + " and p_offset " + Hex(ph.p_offset) +
                     " differ modulo its alignment " + Hex(ph.p_align));
  }
  if (ph.p_memsz > UINT64_MAX - ph.p_vaddr) {
    return BadFormat(name + " (p_vaddr " + Hex(ph.p_vaddr) + ", p_memsz " + Hex(ph.p_memsz) +
                     ") wraps around the address space");
  }
  if (!InFile(ph.p_offset, ph.p_filesz, file_size)) {
    return Truncated(name + " (" + Hex(ph.p_filesz) + " bytes at offset " + Hex(ph.p_offset) +
                     ") extends past the end of the file (" + Num(file_size) + " bytes)");
  }
  return {};
}

std::string SegmentName(uint32_t type, size_t index) {
  std::string_view name = SegmentTypeName(type);
  if (name.empty()) return "program header " + Num(index) + " (type " + Hex(type) + ")";
  return "PT_" + std::string(name) + " " + Num(index);
}

Status CheckProgramHeaders(const std::vector<Elf64_Phdr>& phdrs, uint64_t file_size,
                           size_t* interp_index) {
  const uint64_t page_size = PageSize();
  bool have_load = false;
  size_t prev_load = 0;
  size_t gnu_stack = phdrs.size();
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    // On every header, not only PT_LOAD: no segment holds more file bytes
    // than memory.
    if (ph.p_type != PT_LOAD && ph.p_filesz > ph.p_memsz) {
      return BadFormat(SegmentName(ph.p_type, i) + " has p_filesz " + Hex(ph.p_filesz) +
                       " > p_memsz " + Hex(ph.p_memsz));
    }
    switch (ph.p_type) {
      case PT_LOAD: {
        if (Status st = CheckLoad(ph, i, file_size, page_size); !st) return st;
        if (have_load) {
          const Elf64_Phdr& prev = phdrs[prev_load];
          if (ph.p_vaddr < prev.p_vaddr) {
            return BadFormat(Segment("PT_LOAD", i) + " (p_vaddr " + Hex(ph.p_vaddr) +
                             ") comes after " + Segment("PT_LOAD", prev_load) + " (p_vaddr " +
                             Hex(prev.p_vaddr) + "): PT_LOAD segments must be in ascending order");
          }
          if (ph.p_vaddr < prev.p_vaddr + prev.p_memsz) {
            return BadFormat(Segment("PT_LOAD", i) + " overlaps " + Segment("PT_LOAD", prev_load) +
                             " (it starts at " + Hex(ph.p_vaddr) + ", before " +
                             Hex(prev.p_vaddr + prev.p_memsz) + ")");
          }
        }
        have_load = true;
        prev_load = i;
        break;
      }
      case PT_INTERP: {
        const std::string name = Segment("PT_INTERP", i);
        if (*interp_index != phdrs.size()) {
          return BadFormat("more than one PT_INTERP (program headers " + Num(*interp_index) +
                           " and " + Num(i) + ")");
        }
        *interp_index = i;
        // Fuchsia's get_dynamic_linker: no byte, so no NUL terminator.
        if (ph.p_filesz == 0) return InvalidInterp(name + " is empty (not even its NUL)");
        if (ph.p_filesz > kMaxInterpBytes) {
          return BadFormat(name + " is " + Num(ph.p_filesz) + " bytes, longer than PATH_MAX (" +
                           Num(kMaxInterpBytes) + ")");
        }
        if (!InFile(ph.p_offset, ph.p_filesz, file_size)) {
          return Truncated(name + " (" + Num(ph.p_filesz) + " bytes at offset " + Hex(ph.p_offset) +
                           ") extends past the end of the file (" + Num(file_size) + " bytes)");
        }
        break;
      }
      case PT_GNU_STACK:
        // Fuchsia's program_header_with_type(GnuStack): MultipleHeaders.
        if (gnu_stack != phdrs.size()) {
          return BadFormat("more than one PT_GNU_STACK (program headers " + Num(gnu_stack) +
                           " and " + Num(i) + ")");
        }
        gnu_stack = i;
        if (ph.p_flags & PF_X) {
          return BadFormat(Segment("PT_GNU_STACK", i) +
                           " asks for an executable stack (PF_X), which is not supported");
        }
        break;
      default:
        break;
    }
  }
  if (!have_load) return BadFormat("no PT_LOAD segment");
  return {};
}

Result<std::string> ReadInterp(const ByteSource& source, const Elf64_Phdr& ph, size_t index) {
  const std::string name = Segment("PT_INTERP", index);
  std::string path(ph.p_filesz, '\0');
  auto bytes = std::span(reinterpret_cast<uint8_t*>(path.data()), path.size());
  if (Status st = source.ReadExact(ph.p_offset, bytes); !st) return st.error();
  if (path.back() != '\0') return InvalidInterp(name + " is not NUL-terminated");
  path.pop_back();
  if (path.empty()) return BadFormat(name + " is empty");
  if (path.find('\0') != std::string::npos) {
    return BadFormat(name + " has a NUL byte inside its path");
  }
  if (!IsUtf8(path)) return InvalidInterp(name + " is not valid UTF-8");
  return path;
}

}  // namespace

Result<ElfHeaders> Parse(const ByteSource& source) {
  if (Status st = CheckMagic(source); !st) return st.error();
  ElfHeaders headers;
  auto ehdr_bytes = std::span(reinterpret_cast<uint8_t*>(&headers.ehdr), sizeof(headers.ehdr));
  if (Status st = source.ReadExact(0, ehdr_bytes); !st) return st.error();
  if (Status st = CheckFileHeader(headers.ehdr, source.size()); !st) return st.error();

  headers.phdrs.resize(headers.ehdr.e_phnum);
  auto phdr_bytes = std::span(reinterpret_cast<uint8_t*>(headers.phdrs.data()),
                              headers.phdrs.size() * sizeof(Elf64_Phdr));
  if (Status st = source.ReadExact(headers.ehdr.e_phoff, phdr_bytes); !st) return st.error();

  size_t interp_index = headers.phdrs.size();
  if (Status st = CheckProgramHeaders(headers.phdrs, source.size(), &interp_index); !st) {
    return st.error();
  }
  if (interp_index != headers.phdrs.size()) {
    Result<std::string> interp = ReadInterp(source, headers.phdrs[interp_index], interp_index);
    if (!interp) return interp.error();
    headers.interp = std::move(interp).value();
  }
  return headers;
}

}  // namespace internal

Result<ElfHeaders> ParseHeaders(std::span<const uint8_t> whole_file) {
  return internal::Parse(internal::MemorySource(whole_file));
}

Result<ElfHeaders> ParseHeaders(int fd, std::span<const uint8_t> prefix) {
  if (fd < 0) return Error(CAPSPAWN_ERR_BAD_HANDLE, "ELF: invalid fd " + std::to_string(fd));
  struct stat st;
  if (::fstat(fd, &st) != 0) return Error::FromErrno(errno, "ELF: fstat fd " + std::to_string(fd));
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a pipe"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                                              : "another kind of file";
    return Error(CAPSPAWN_ERR_NOT_FILE,
                 "ELF: fd " + std::to_string(fd) + " is not a regular file (" + kind + ")");
  }
  return ParseHeaders(fd, static_cast<uint64_t>(st.st_size), prefix);
}

Result<ElfHeaders> ParseHeaders(int fd, uint64_t file_size, std::span<const uint8_t> prefix) {
  // A prefix longer than the file would describe bytes that are not there.
  if (prefix.size() > file_size) prefix = prefix.first(file_size);
  return internal::Parse(internal::FdSource(fd, file_size, prefix));
}

}  // namespace capspawn::elf
