// SPDX-License-Identifier: Apache-2.0
// PIDFD_GET_INFO (Linux 6.13; PIDFD_INFO_EXIT since 6.15). The uapi headers on
// Debian 12 predate it, so the first (VER0, 64-byte) layout is spelled out here.
#ifndef CAPSPAWN_SRC_BASE_PIDFD_INFO_H_
#define CAPSPAWN_SRC_BASE_PIDFD_INFO_H_

#include <linux/ioctl.h>

#include <cstdint>

namespace capspawn::pidfd {

struct Info {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid;
  uint32_t tgid;
  uint32_t ppid;
  uint32_t ruid;
  uint32_t rgid;
  uint32_t euid;
  uint32_t egid;
  uint32_t suid;
  uint32_t sgid;
  uint32_t fsuid;
  uint32_t fsgid;
  int32_t exit_code;  // a wait(2) status
};
static_assert(sizeof(Info) == 64, "PIDFD_INFO_SIZE_VER0");

inline constexpr uint64_t kInfoPid = 1u << 0;
inline constexpr uint64_t kInfoExit = 1u << 3;
inline constexpr unsigned long kGetInfo = _IOWR(0xFF, 11, Info);

}  // namespace capspawn::pidfd

#endif  // CAPSPAWN_SRC_BASE_PIDFD_INFO_H_
