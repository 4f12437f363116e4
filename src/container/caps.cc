// SPDX-License-Identifier: Apache-2.0
#include "container/caps.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>

namespace capspawn::container {
namespace {

constexpr const char* kNames[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int kNamed = static_cast<int>(sizeof kNames / sizeof kNames[0]);

int ReadLast() {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16] = {};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
      int v = std::atoi(buf);
      if (v > 0 && v < 64) return v;
    }
  }
  return CAP_LAST_CAP;
}

}  // namespace

int LastCapability() {
  static const int last = ReadLast();
  return last;
}

uint64_t KnownCapabilities() {
  const int last = LastCapability();
  return last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
}

std::string CapabilityNames(uint64_t bits) {
  std::string out;
  for (int c = 0; c < 64; ++c) {
    if (!(bits & (uint64_t{1} << c))) continue;
    if (!out.empty()) out += ", ";
    out += c < kNamed ? kNames[c] : "capability " + std::to_string(c);
  }
  return out;
}

int CapabilityFromName(const char* name) noexcept {
  if (!name) return -1;
  const char* bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
  for (int c = 0; c < kNamed; ++c) {
    if (strcasecmp(kNames[c] + 4, bare) == 0) return c;
  }
  return -1;
}

const char* CapabilityName(int capability) noexcept {
  if (capability < 0 || capability >= kNamed) return nullptr;
  return kNames[capability];
}

}  // namespace capspawn::container
