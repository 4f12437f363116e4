// SPDX-License-Identifier: Apache-2.0
// Helpers for the container actions of capspawn/spawn.h (capabilities by
// name). See docs/containers.md.
#ifndef CAPSPAWN_CONTAINER_H_
#define CAPSPAWN_CONTAINER_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The capability's number for "CAP_SYS_ADMIN" or "sys_admin" (any case), or
// -1 when the name is unknown.
int capspawn_capability_from_name(const char* name);

// "CAP_SYS_ADMIN" for 21; NULL for a number without a name.
const char* capspawn_capability_name(int capability);

// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
int capspawn_capability_last(void);

// Each of these fails inside the library (-1, or NULL) only with errno ENOMEM
// or ENOTRECOVERABLE; their ordinary -1 or NULL leaves errno unspecified.

#ifdef __cplusplus
}
#endif

#endif  // CAPSPAWN_CONTAINER_H_
