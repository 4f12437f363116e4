// SPDX-License-Identifier: Apache-2.0
// Capability numbers, names and the kernel's last one.
#ifndef CAPSPAWN_SRC_CONTAINER_CAPS_H_
#define CAPSPAWN_SRC_CONTAINER_CAPS_H_

#include <cstdint>
#include <string>

namespace capspawn::container {

// /proc/sys/kernel/cap_last_cap (read once), else the headers' CAP_LAST_CAP.
int LastCapability();
// The number of "CAP_SYS_ADMIN" or "sys_admin" (any case); -1 when unknown.
int CapabilityFromName(const char* name) noexcept;
// "CAP_SYS_ADMIN" for 21; nullptr for a number without a name.
const char* CapabilityName(int capability) noexcept;
// Bits 0..LastCapability().
uint64_t KnownCapabilities();
// "CAP_CHOWN, CAP_SYS_ADMIN" for the set bits.
std::string CapabilityNames(uint64_t bits);

}  // namespace capspawn::container

#endif  // CAPSPAWN_SRC_CONTAINER_CAPS_H_
