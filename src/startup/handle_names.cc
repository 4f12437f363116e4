// SPDX-License-Identifier: Apache-2.0
// Names of typed startup handles in LISTEN_FDNAMES: "<type>.<arg>". The
// table is also the list of handle types capspawn accepts (handle_types.h).
#include "startup/handle_names.h"

#include <capspawn/processargs.h>

#include "startup/handle_types.h"

#include <cstdio>
#include <cstring>

namespace {

struct TypeName {
  uint32_t type;
  const char* name;
};

constexpr TypeName kTypeNames[] = {
    {CAPSPAWN_PA_PROC_SELF, "proc_self"},
    {CAPSPAWN_PA_THREAD_SELF, "thread_self"},
    {CAPSPAWN_PA_JOB_DEFAULT, "job_default"},
    {CAPSPAWN_PA_VMAR_ROOT, "vmar_root"},
    {CAPSPAWN_PA_VMAR_LOADED, "vmar_loaded"},
    {CAPSPAWN_PA_LDSVC_LOADER, "ldsvc_loader"},
    {CAPSPAWN_PA_VMO_VDSO, "vmo_vdso"},
    {CAPSPAWN_PA_VMO_STACK, "vmo_stack"},
    {CAPSPAWN_PA_VMO_EXECUTABLE, "vmo_executable"},
    {CAPSPAWN_PA_VMO_BOOTDATA, "vmo_bootdata"},
    {CAPSPAWN_PA_VMO_BOOTFS, "vmo_bootfs"},
    {CAPSPAWN_PA_VMO_KERNEL_FILE, "vmo_kernel_file"},
    {CAPSPAWN_PA_VMO_COMPONENT_CONFIG, "vmo_component_config"},
    {CAPSPAWN_PA_NS_DIR, "ns_dir"},
    {CAPSPAWN_PA_FD, "fd"},
    {CAPSPAWN_PA_LIFECYCLE, "lifecycle"},
    {CAPSPAWN_PA_DIRECTORY_REQUEST, "directory_request"},
    {CAPSPAWN_PA_RESOURCE, "resource"},
    {CAPSPAWN_PA_CLOCK_UTC, "clock_utc"},
    {CAPSPAWN_PA_MMIO_RESOURCE, "mmio_resource"},
    {CAPSPAWN_PA_IRQ_RESOURCE, "irq_resource"},
    {CAPSPAWN_PA_IOPORT_RESOURCE, "ioport_resource"},
    {CAPSPAWN_PA_SMC_RESOURCE, "smc_resource"},
    {CAPSPAWN_PA_SYSTEM_RESOURCE, "system_resource"},
    {CAPSPAWN_PA_USER0, "user0"},
    {CAPSPAWN_PA_USER1, "user1"},
    {CAPSPAWN_PA_USER2, "user2"},
};

// Parses a decimal or 0x-hex number of at most `max`, consuming all of [s, end).
bool ParseNumber(const char* s, const char* end, uint32_t max, uint32_t* out) {
  if (s == end) return false;
  uint32_t base = 10;
  if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  uint64_t v = 0;
  for (; s < end; ++s) {
    uint32_t d;
    if (*s >= '0' && *s <= '9') {
      d = static_cast<uint32_t>(*s - '0');
    } else if (base == 16 && *s >= 'a' && *s <= 'f') {
      d = static_cast<uint32_t>(*s - 'a' + 10);
    } else if (base == 16 && *s >= 'A' && *s <= 'F') {
      d = static_cast<uint32_t>(*s - 'A' + 10);
    } else {
      return false;
    }
    if (d >= base) return false;
    v = v * base + d;
    if (v > max) return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

namespace capspawn::startup {

bool IsKnownHandleType(uint32_t type) {
  for (const TypeName& t : kTypeNames) {
    if (t.type == type) return true;
  }
  return false;
}

int HandleName(uint32_t id, char* buf, size_t size) noexcept {
  const uint32_t type = CAPSPAWN_PA_TYPE(id);
  const uint32_t arg = CAPSPAWN_PA_ARG(id);
  int n = -1;
  for (const TypeName& t : kTypeNames) {
    if (t.type == type) n = std::snprintf(buf, size, "%s.%u", t.name, arg);
  }
  if (n < 0) n = std::snprintf(buf, size, "0x%02x.%u", type, arg);
  return n >= 0 && static_cast<size_t>(n) < size ? n : -1;
}

bool ParseHandleName(std::string_view text, uint32_t* id_out) noexcept {
  if (text.empty()) return false;
  const char* name = text.data();
  const size_t len = text.size();
  const char* end = name + len;
  const char* dot = static_cast<const char*>(std::memchr(name, '.', len));
  if (!dot) return false;
  uint32_t type = 0;
  bool found = false;
  const size_t type_len = static_cast<size_t>(dot - name);
  for (const TypeName& t : kTypeNames) {
    if (std::strlen(t.name) == type_len && std::memcmp(t.name, name, type_len) == 0) {
      type = t.type;
      found = true;
    }
  }
  if (!found &&
      !(type_len > 2 && name[0] == '0' && name[1] == 'x' && ParseNumber(name, dot, 0xFF, &type))) {
    return false;
  }
  uint32_t arg = 0;
  if (!ParseNumber(dot + 1, end, 0xFFFF, &arg)) return false;
  *id_out = CAPSPAWN_PA_HND(type, arg);
  return true;
}

}  // namespace capspawn::startup
