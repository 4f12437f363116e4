// SPDX-License-Identifier: Apache-2.0
// ELF utilities of Fuchsia's process_builder, for Linux: parse and validate an
// executable's headers before any process exists, find its PT_INTERP, and the
// initial-stack formulas. Only 64-bit little-endian files for the host machine
// (EM_X86_64 on x86_64, EM_AARCH64 on aarch64) are accepted. See docs/elf.md.
#ifndef CAPSPAWN_ELF_H_
#define CAPSPAWN_ELF_H_

#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#if __cplusplus >= 202002L
#include <span>
#endif
#include <string>
#include <string_view>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::elf {

// A file that is not a loadable ELF executable for this host. Fuchsia's
// process_builder (elf_parse's as_zx_status) and its older elfload library
// (ERR_ELF_BAD_FORMAT) report every ELF format error as ZX_ERR_NOT_FOUND, and
// capspawn keeps fdio's statuses (docs/design.md), so it does the same. The message
// always starts with "ELF: " and names the rule that failed.
inline constexpr capspawn_status_t kBadFormatStatus = CAPSPAWN_ERR_NOT_FOUND;
// A file that ends before something its headers describe (the header itself,
// the program header table, PT_INTERP, a PT_LOAD's bytes), or is empty. Fuchsia
// reads headers from a VMO, and zx_vmo_read past its end is
// ZX_ERR_OUT_OF_RANGE. The message says "truncated".
inline constexpr capspawn_status_t kTruncatedStatus = CAPSPAWN_ERR_OUT_OF_RANGE;
// A PT_INTERP without its terminating NUL, or not UTF-8: Fuchsia's
// InvalidInterpHeader (get_dynamic_linker).
inline constexpr capspawn_status_t kInvalidInterpStatus = CAPSPAWN_ERR_INVALID_ARGS;

#if defined(__x86_64__)
inline constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
inline constexpr uint16_t kHostMachine = EM_AARCH64;
#else
#error "capspawn supports x86_64 and aarch64 hosts only"
#endif

// The kernel refuses program header tables over 64 KiB (fs/binfmt_elf.c).
inline constexpr size_t kMaxProgramHeaderTableBytes = 65536;
// PT_INTERP is a path: at most PATH_MAX bytes with its NUL.
inline constexpr size_t kMaxInterpBytes = 4096;
// Fuchsia's stack for a program without a dynamic linker and without a
// PT_GNU_STACK size (ZIRCON_DEFAULT_STACK_SIZE).
inline constexpr uint64_t kDefaultStackSize = 256 << 10;
// Fuchsia's PTHREAD_STACK_MIN in calculate_initial_linker_stack_size.
inline constexpr uint64_t kLinkerStackMin = 3072;

struct ElfHeaders {
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  std::optional<std::string> interp;  // PT_INTERP path without its NUL, if any

  bool is_dynamic() const { return interp.has_value(); }
  bool is_pie() const { return ehdr.e_type == ET_DYN; }
  // The first program header of `type`, or nullptr.
  const Elf64_Phdr* FindProgramHeader(uint32_t type) const;
  // PT_GNU_STACK's p_memsz when it is present and non-zero: the main-thread
  // stack size the program asks for.
  std::optional<uint64_t> requested_stack_size() const;
};

// Parses and validates the ELF header and program headers of the file open
// at `fd` (read with pread; the file offset is untouched). `prefix` may hold
// the file's first bytes, already read by the caller: whatever lies inside it
// is not read again. A non-regular fd is CAPSPAWN_ERR_NOT_FILE; a read error
// carries the errno's status.
#if __cplusplus >= 202002L
Result<ElfHeaders> ParseHeaders(int fd, std::span<const uint8_t> prefix = {});
// As above, for a caller that has already checked `fd` is a regular file of
// `file_size` bytes (saves the fstat).
Result<ElfHeaders> ParseHeaders(int fd, uint64_t file_size, std::span<const uint8_t> prefix);
// The same rules over a whole file held in memory (tests, fuzzing).
Result<ElfHeaders> ParseHeaders(std::span<const uint8_t> whole_file);
#endif
// The std::span forms above with a pointer and a size, for any C++ standard
// (C++17 has no std::span).
Result<ElfHeaders> ParseHeadersPrefix(int fd, const uint8_t* prefix, size_t prefix_size);
Result<ElfHeaders> ParseHeadersInMemory(const uint8_t* whole_file, size_t size);
#if __cplusplus < 202002L
inline Result<ElfHeaders> ParseHeaders(int fd) { return ParseHeadersPrefix(fd, nullptr, 0); }
#endif

// The PT_INTERP path; CAPSPAWN_ERR_NOT_FOUND for a program without one.
Result<std::string> GetDynamicLinker(const ElfHeaders& headers);

// Fuchsia's get_dynamic_linker: the program's dynamic linker taken from its
// loader, a library directory (capspawn's PA_LDSVC_LOADER). The loader is
// what the process sees at the interpreter's directory, so the linker is the
// PT_INTERP's file name inside `loader_dir`. Returns it opened read-only and
// checked with ParseHeaders (it must be ET_DYN without a PT_INTERP of its
// own). NOT_FOUND: no PT_INTERP, or the loader has no such file; otherwise
// ParseHeaders' statuses, the message naming the file.
Result<UniqueFd> GetDynamicLinker(int loader_dir, const ElfHeaders& program);

// ---- The dynamic section (Fuchsia's Elf64DynSection) -------------------------

// Every entry of the PT_DYNAMIC segment, in file order: p_filesz / 16 of them,
// DT_NULL and what follows it included, as Fuchsia's dynamic_entries().
struct DynamicSection {
  std::vector<Elf64_Dyn> entries;
  // The first entry with `tag`, or nullptr (dynamic_entry_with_tag).
  const Elf64_Dyn* EntryWithTag(int64_t tag) const;
};

// Reads the PT_DYNAMIC segment of a file whose headers ParseHeaders accepted.
// NOT_FOUND (kBadFormatStatus): no PT_DYNAMIC ("Dynamic header not found")
// or more than one (MultipleHeaders), or over kMaxDynamicEntries entries;
// OUT_OF_RANGE: the segment extends past the end of the file.
Result<DynamicSection> ReadDynamicSection(int fd, const ElfHeaders& headers);
#if __cplusplus >= 202002L
Result<DynamicSection> ReadDynamicSection(std::span<const uint8_t> whole_file,
                                          const ElfHeaders& headers);
#endif
// 1 MiB of entries: far beyond any real program, a bound for a hostile file.
inline constexpr size_t kMaxDynamicEntries = 65536;

// What the dynamic section says about a file, its strings read from the
// dynamic string table (DT_STRTAB, an address mapped to the file through the
// PT_LOAD holding it, and DT_STRSZ).
struct DynamicInfo {
  std::vector<std::string> needed;     // DT_NEEDED, in order
  std::optional<std::string> soname;   // DT_SONAME
  std::optional<std::string> runpath;  // DT_RUNPATH
  std::optional<std::string> rpath;    // DT_RPATH
  uint64_t flags = 0;                  // DT_FLAGS
  uint64_t flags_1 = 0;                // DT_FLAGS_1 (DF_1_PIE marks an executable)
};
// NOT_FOUND when a string's offset or DT_STRTAB lies outside the table or
// the file; the section's own errors as ReadDynamicSection.
Result<DynamicInfo> ReadDynamicInfo(int fd, const ElfHeaders& headers);
#if __cplusplus >= 202002L
Result<DynamicInfo> ReadDynamicInfo(std::span<const uint8_t> whole_file, const ElfHeaders& headers);
#endif

// What a file is, for people (capspawn elf). Read from e_type, PT_INTERP,
// e_entry and the dynamic section (null: the file has none).
enum class FileKind {
  kExecutable,     // ET_EXEC: loaded at fixed addresses (static or with PT_INTERP)
  kPie,            // ET_DYN with PT_INTERP: a position-independent executable
  kStaticPie,      // ET_DYN without PT_INTERP that relocates itself and runs
  kSharedLibrary,  // ET_DYN that a program loads: DT_SONAME without DF_1_PIE, or entry 0
};
FileKind Classify(const ElfHeaders& headers, const DynamicInfo* dynamic);
// "executable", "PIE", "static PIE", "shared library".
std::string_view FileKindName(FileKind kind);
// Whether running the file starts a program: false for a library whose entry
// point is 0 (the kernel would jump to its ELF header). Libraries with an
// entry point (libc.so.6, the dynamic linker itself) do run.
bool IsRunnable(const ElfHeaders& headers);

// The system page size (sysconf(_SC_PAGESIZE)).
size_t PageSize();

// Bytes of NUL-terminated strings: the sum of strlen(s) + 1.
#if __cplusplus >= 202002L
size_t StringsBytes(std::span<const std::string> strings);
#endif
size_t StringsBytes(const std::vector<std::string>& strings);
// The same over a NULL-terminated array such as argv or envp (nullptr: 0).
size_t StringsBytes(const char* const* strings);

// Size of Fuchsia's processargs bootstrap message (Message::calculate_size):
// its 36-byte header, one 32-bit handle info per handle, then the argument,
// environment and namespace-name strings with their NULs (`*_bytes` as
// StringsBytes() counts them).
uint64_t ProcessargsMessageSize(size_t args_bytes, size_t env_bytes, size_t handle_count,
                                size_t names_bytes = 0);

// Fuchsia's calculate_initial_linker_stack_size: the stack the dynamic linker
// needs to read its bootstrap message, i.e.
//   page_round_up(ProcessargsMessageSize(...) + handle_count * 4 + 3072).
// `handle_count` counts every handle in the message, including any the caller
// adds later (Fuchsia passes one extra for the stack VMO).
uint64_t CalculateInitialLinkerStackSize(size_t args_bytes, size_t env_bytes, size_t handle_count,
                                         size_t names_bytes = 0);

// Fuchsia's choice of initial stack size for a program: the linker stack above
// for a PT_INTERP program; else PT_GNU_STACK's size if non-zero, else
// kDefaultStackSize; rounded up to a page.
uint64_t InitialStackSize(const ElfHeaders& headers, size_t args_bytes, size_t env_bytes,
                          size_t handle_count);

// Fuchsia's compute_initial_stack_pointer (elf-psabi sp.h): the top of the
// block [base, base + size) aligned down to 16 bytes, minus 8 on x86_64 (the
// ABI wants %rsp % 16 == 8 at function entry). 0 if base + size overflows.
uint64_t ComputeInitialStackPointer(uint64_t base, uint64_t size);

// Names for humans and tools. The segment names are readelf's ("LOAD",
// "GNU_STACK"); unknown values give an empty string_view.
std::string_view MachineName(uint16_t machine);  // "EM_X86_64"
std::string_view TypeName(uint16_t type);        // "ET_DYN"
std::string_view SegmentTypeName(uint32_t type);
std::string SegmentFlagsString(uint32_t flags);  // "R E", as readelf prints it

}  // namespace capspawn::elf

#endif  // CAPSPAWN_ELF_H_
