// SPDX-License-Identifier: Apache-2.0
// The handle types capspawn knows: exactly those of Fuchsia's processargs.h.
#ifndef CAPSPAWN_SRC_STARTUP_HANDLE_TYPES_H_
#define CAPSPAWN_SRC_STARTUP_HANDLE_TYPES_H_

#include <cstdint>

namespace capspawn::startup {

// Whether `type` (CAPSPAWN_PA_TYPE of an id) is one of Fuchsia's PA_* types.
// Fuchsia's launcher turns an id into a HandleInfo, which fails for any other
// type, so spawn, the launcher and ProcessBuilder refuse the others
// (INVALID_ARGS).
bool IsKnownHandleType(uint32_t type);

}  // namespace capspawn::startup

#endif  // CAPSPAWN_SRC_STARTUP_HANDLE_TYPES_H_
