// SPDX-License-Identifier: Apache-2.0
// The child's side of typed startup handles: taking the fds its creator
// handed it in LISTEN_* variables (the C API's capspawn_take_startup_handle
// and _by_name wrap these).
#ifndef CAPSPAWN_SRC_STARTUP_TAKE_HANDLE_H_
#define CAPSPAWN_SRC_STARTUP_TAKE_HANDLE_H_

#include <cstdint>

namespace capspawn::startup {

// The fd handed with `id`, forgotten (a second call returns -1); -1 when no
// handle with that id was handed to this process.
int TakeHandle(uint32_t id);

// The first not yet taken fd whose LISTEN_FDNAMES name is `name`, forgotten;
// -1 when there is none (or name is NULL).
int TakeHandleByName(const char* name);

}  // namespace capspawn::startup

#endif  // CAPSPAWN_SRC_STARTUP_TAKE_HANDLE_H_
