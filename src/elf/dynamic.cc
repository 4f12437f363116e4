// SPDX-License-Identifier: Apache-2.0
// The dynamic section reader (Fuchsia's Elf64DynSection) and what it tells
// about a file: its needed libraries, its soname, its kind.
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

std::string Num(uint64_t v) { return std::to_string(v); }

Result<DynamicSection> ReadSection(const ByteSource& source, const ElfHeaders& h) {
  size_t index = h.phdrs.size();
  for (size_t i = 0; i < h.phdrs.size(); ++i) {
    if (h.phdrs[i].p_type != PT_DYNAMIC) continue;
    if (index != h.phdrs.size()) {
      return BadFormat("more than one PT_DYNAMIC (program headers " + Num(index) + " and " +
                       Num(i) + ")");
    }
    index = i;
  }
  if (index == h.phdrs.size()) return BadFormat("no PT_DYNAMIC: the file has no dynamic section");
  const Elf64_Phdr& ph = h.phdrs[index];
  const uint64_t count = ph.p_filesz / sizeof(Elf64_Dyn);
  if (count > kMaxDynamicEntries) {
    return BadFormat("PT_DYNAMIC " + Num(index) + " holds " + Num(count) + " entries, more than " +
                     Num(kMaxDynamicEntries));
  }
  const uint64_t bytes = count * sizeof(Elf64_Dyn);
  if (ph.p_offset > source.size() || bytes > source.size() - ph.p_offset) {
    return Truncated("PT_DYNAMIC " + Num(index) + " (" + Num(bytes) + " bytes at offset " +
                     Hex(ph.p_offset) + ") extends past the end of the file (" +
                     Num(source.size()) + " bytes)");
  }
  DynamicSection d;
  d.entries.resize(count);
  auto out = std::span(reinterpret_cast<uint8_t*>(d.entries.data()), bytes);
  if (Status st = source.ReadExact(ph.p_offset, out); !st) return st.error();
  return d;
}

// The file offset of `addr` (an address of the unrelocated image), through
// the PT_LOAD whose file bytes hold it.
std::optional<uint64_t> FileOffset(const ElfHeaders& h, uint64_t addr) {
  for (const Elf64_Phdr& ph : h.phdrs) {
    if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz) {
      return ph.p_offset + (addr - ph.p_vaddr);
    }
  }
  return std::nullopt;
}

Result<DynamicInfo> ReadInfo(const ByteSource& source, const ElfHeaders& h) {
  Result<DynamicSection> d = ReadSection(source, h);
  if (!d) return d.error();
  DynamicInfo info;
  const Elf64_Dyn* strtab = d->EntryWithTag(DT_STRTAB);
  const Elf64_Dyn* strsz = d->EntryWithTag(DT_STRSZ);
  std::string table;
  auto need_table = [&]() -> Status {
    if (!table.empty()) return {};
    if (!strtab || !strsz)
      return BadFormat("strings in the dynamic section, but no DT_STRTAB/DT_STRSZ");
    std::optional<uint64_t> off = FileOffset(h, strtab->d_un.d_ptr);
    if (!off) {
      return BadFormat("DT_STRTAB " + Hex(strtab->d_un.d_ptr) + " lies in no PT_LOAD's file bytes");
    }
    const uint64_t size = strsz->d_un.d_val;
    if (size == 0 || *off > source.size() || size > source.size() - *off || size > (64u << 20)) {
      return BadFormat("the dynamic string table (" + Num(size) + " bytes at offset " + Hex(*off) +
                       ") is not inside the file");
    }
    table.resize(size);
    return source.ReadExact(*off, std::span(reinterpret_cast<uint8_t*>(table.data()), size));
  };
  auto string_at = [&](const Elf64_Dyn& e, const char* tag) -> Result<std::string> {
    if (Status st = need_table(); !st) return st.error();
    const uint64_t at = e.d_un.d_val;
    const size_t end = at < table.size() ? table.find('\0', at) : std::string::npos;
    if (end == std::string::npos) {
      return BadFormat(std::string(tag) + " " + Hex(at) +
                       " is not a NUL-terminated string of the dynamic string table");
    }
    return table.substr(at, end - at);
  };
  for (const Elf64_Dyn& e : d->entries) {
    if (e.d_tag == DT_NULL) break;  // what follows is padding
    switch (e.d_tag) {
      case DT_NEEDED: {
        Result<std::string> s = string_at(e, "DT_NEEDED");
        if (!s) return s.error();
        info.needed.push_back(std::move(*s));
        break;
      }
      case DT_SONAME:
      case DT_RUNPATH:
      case DT_RPATH: {
        const char* tag = e.d_tag == DT_SONAME    ? "DT_SONAME"
                          : e.d_tag == DT_RUNPATH ? "DT_RUNPATH"
                                                  : "DT_RPATH";
        Result<std::string> s = string_at(e, tag);
        if (!s) return s.error();
        std::optional<std::string>& slot = e.d_tag == DT_SONAME    ? info.soname
                                           : e.d_tag == DT_RUNPATH ? info.runpath
                                                                   : info.rpath;
        if (!slot) slot = std::move(*s);
        break;
      }
      case DT_FLAGS:
        info.flags = e.d_un.d_val;
        break;
      case DT_FLAGS_1:
        info.flags_1 = e.d_un.d_val;
        break;
      default:
        break;
    }
  }
  return info;
}

}  // namespace
}  // namespace internal

const Elf64_Dyn* DynamicSection::EntryWithTag(int64_t tag) const {
  for (const Elf64_Dyn& e : entries) {
    if (e.d_tag == tag) return &e;
  }
  return nullptr;
}

namespace {

// The fd as a byte source: fstat for its size, no prefix.
Result<uint64_t> FileSize(int fd) {
  struct stat st;
  if (fd < 0) return Error(CAPSPAWN_ERR_BAD_HANDLE, "ELF: invalid fd " + std::to_string(fd));
  if (::fstat(fd, &st) != 0) return Error::FromErrno(errno, "ELF: fstat fd " + std::to_string(fd));
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

Result<DynamicSection> ReadDynamicSection(int fd, const ElfHeaders& headers) {
  Result<uint64_t> size = FileSize(fd);
  if (!size) return size.error();
  return internal::ReadSection(internal::FdSource(fd, *size, {}), headers);
}

Result<DynamicSection> ReadDynamicSection(std::span<const uint8_t> whole_file,
                                          const ElfHeaders& headers) {
  return internal::ReadSection(internal::MemorySource(whole_file), headers);
}

Result<DynamicInfo> ReadDynamicInfo(int fd, const ElfHeaders& headers) {
  Result<uint64_t> size = FileSize(fd);
  if (!size) return size.error();
  return internal::ReadInfo(internal::FdSource(fd, *size, {}), headers);
}

Result<DynamicInfo> ReadDynamicInfo(std::span<const uint8_t> whole_file,
                                    const ElfHeaders& headers) {
  return internal::ReadInfo(internal::MemorySource(whole_file), headers);
}

FileKind Classify(const ElfHeaders& h, const DynamicInfo* dynamic) {
  if (h.ehdr.e_type == ET_EXEC) return FileKind::kExecutable;
  const bool pie_flag = dynamic && (dynamic->flags_1 & DF_1_PIE);
  if (pie_flag) return h.is_dynamic() ? FileKind::kPie : FileKind::kStaticPie;
  // Without DF_1_PIE (older linkers, or a library): a soname or no entry
  // point says library. libc.so.6 has a PT_INTERP and runs, yet is a library.
  if (h.ehdr.e_entry == 0 || (dynamic && dynamic->soname)) return FileKind::kSharedLibrary;
  return h.is_dynamic() ? FileKind::kPie : FileKind::kStaticPie;
}

std::string_view FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kExecutable:
      return "executable";
    case FileKind::kPie:
      return "PIE";
    case FileKind::kStaticPie:
      return "static PIE";
    case FileKind::kSharedLibrary:
      return "shared library";
  }
  return "?";
}

bool IsRunnable(const ElfHeaders& h) { return !(h.ehdr.e_type == ET_DYN && h.ehdr.e_entry == 0); }

}  // namespace capspawn::elf
