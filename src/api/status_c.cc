// SPDX-License-Identifier: Apache-2.0
// The C API of statuses: wrappers over base's StatusName and StatusFromErrno.
#include <capspawn/status.h>

#include "api/barrier.h"
#include "base/status.h"

extern "C" const char* capspawn_status_string(capspawn_status_t status) {
  return capspawn::api::GuardValue<const char*>("(UNKNOWN)",
                                                [&] { return capspawn::StatusName(status); });
}

extern "C" capspawn_status_t capspawn_status_from_errno(int err) {
  return capspawn::api::Guard(nullptr, [&] { return capspawn::StatusFromErrno(err); });
}
