// SPDX-License-Identifier: Apache-2.0
// Statuses' names and errno's statuses, for the library's own code (the C
// API's capspawn_status_string and capspawn_status_from_errno wrap these).
#ifndef CAPSPAWN_SRC_BASE_STATUS_H_
#define CAPSPAWN_SRC_BASE_STATUS_H_

#include <capspawn/status.h>

namespace capspawn {

// The status's name ("CAPSPAWN_ERR_NOT_FOUND"); "(UNKNOWN)" for values with no name.
const char* StatusName(capspawn_status_t status) noexcept;

// The closest status for an errno value (ENOENT -> NOT_FOUND...). Allocation
// free: the engine's parent side calls it on a child's report.
capspawn_status_t StatusFromErrno(int err) noexcept;

}  // namespace capspawn

#endif  // CAPSPAWN_SRC_BASE_STATUS_H_
