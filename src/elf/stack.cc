// SPDX-License-Identifier: Apache-2.0
// Fuchsia's initial-stack formulas (process_builder's
// calculate_initial_linker_stack_size and elf-psabi's
// compute_initial_stack_pointer), written down in docs/elf.md.
#include <unistd.h>

#include <cstring>

#include <capspawn/elf.h>

namespace capspawn::elf {
namespace {

// Fuchsia's processargs header: nine 32-bit fields (protocol, version,
// handle_info_off, args_off, args_num, environ_off, environ_num, names_off,
// names_num).
constexpr uint64_t kProcessargsHeaderBytes = 9 * sizeof(uint32_t);
// One handle info per handle in the message, and one zx_handle_t per handle
// read off the channel onto the linker's stack: both 32-bit.
constexpr uint64_t kHandleInfoBytes = sizeof(uint32_t);
constexpr uint64_t kHandleBytes = sizeof(uint32_t);

// Saturates at the last page boundary: a PT_GNU_STACK may ask for any size.
uint64_t PageRoundUp(uint64_t value) {
  const uint64_t mask = PageSize() - 1;
  if (value > UINT64_MAX - mask) return UINT64_MAX & ~mask;
  return (value + mask) & ~mask;
}

}  // namespace

size_t PageSize() {
  static const size_t page = [] {
    const long v = ::sysconf(_SC_PAGESIZE);
    return v > 0 ? static_cast<size_t>(v) : size_t{4096};
  }();
  return page;
}

size_t StringsBytes(std::span<const std::string> strings) {
  size_t total = 0;
  for (const std::string& s : strings) total += s.size() + 1;
  return total;
}

size_t StringsBytes(const char* const* strings) {
  size_t total = 0;
  for (; strings != nullptr && *strings != nullptr; ++strings) total += std::strlen(*strings) + 1;
  return total;
}

uint64_t ProcessargsMessageSize(size_t args_bytes, size_t env_bytes, size_t handle_count,
                                size_t names_bytes) {
  return kProcessargsHeaderBytes + handle_count * kHandleInfoBytes + args_bytes + env_bytes +
         names_bytes;
}

uint64_t CalculateInitialLinkerStackSize(size_t args_bytes, size_t env_bytes, size_t handle_count,
                                         size_t names_bytes) {
  const uint64_t message =
      ProcessargsMessageSize(args_bytes, env_bytes, handle_count, names_bytes) +
      handle_count * kHandleBytes;
  return PageRoundUp(message + kLinkerStackMin);
}

uint64_t InitialStackSize(const ElfHeaders& headers, size_t args_bytes, size_t env_bytes,
                          size_t handle_count) {
  if (headers.is_dynamic()) {
    return CalculateInitialLinkerStackSize(args_bytes, env_bytes, handle_count);
  }
  return PageRoundUp(headers.requested_stack_size().value_or(kDefaultStackSize));
}

uint64_t ComputeInitialStackPointer(uint64_t base, uint64_t size) {
  uint64_t sp;
  if (__builtin_add_overflow(base, size, &sp)) return 0;
  // Both psABIs want a 16-byte aligned stack.
  sp &= ~uint64_t{15};
#if defined(__x86_64__)
  // ...as it is just before a call: at entry %rsp % 16 == 8, and the zero
  // word at (%rsp) is the outermost frame's return address.
  sp -= 8;
#endif
  return sp;
}

}  // namespace capspawn::elf
