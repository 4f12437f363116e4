// SPDX-License-Identifier: Apache-2.0
// Names of typed startup handles in LISTEN_FDNAMES: "<type>.<arg>" (the C
// API's capspawn_startup_handle_name and _parse_name wrap these).
#ifndef CAPSPAWN_SRC_STARTUP_HANDLE_NAMES_H_
#define CAPSPAWN_SRC_STARTUP_HANDLE_NAMES_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace capspawn::startup {

// Formats the name of `id` into buf (NUL-terminated). Returns the length, or
// -1 when buf is too small (32 bytes always suffice).
int HandleName(uint32_t id, char* buf, size_t size) noexcept;

// Parses a name back into an id: true and *id_out set, or false.
bool ParseHandleName(std::string_view name, uint32_t* id_out) noexcept;

}  // namespace capspawn::startup

#endif  // CAPSPAWN_SRC_STARTUP_HANDLE_NAMES_H_
