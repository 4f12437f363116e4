// SPDX-License-Identifier: Apache-2.0
// The C API's one exception barrier and one error-buffer rule. Every
// extern "C" entry that answers a capspawn_status_t runs its body through
// Guard:
// - no exception crosses into C: std::bad_alloc is NO_MEMORY, any other
//   exception INTERNAL, each with a message saying so;
// - the error buffer (when not NULL) holds the message of a failure, and ""
//   after a success.
#ifndef CAPSPAWN_SRC_API_BARRIER_H_
#define CAPSPAWN_SRC_API_BARRIER_H_

#include <capspawn/spawn.h>
#include <capspawn/status.h>

#include <cstdio>
#include <exception>
#include <new>

namespace capspawn::api {

// Writes without allocating: it also serves when memory ran out.
inline capspawn_status_t Refuse(char* err_msg_out, capspawn_status_t status, const char* what,
                                const char* detail) {
  if (err_msg_out) std::snprintf(err_msg_out, CAPSPAWN_ERR_MSG_MAX_LENGTH, "%s%s", what, detail);
  return status;
}

template <typename Body>
capspawn_status_t Guard(char* err_msg_out, Body&& body) noexcept {
  capspawn_status_t status;
  try {
    status = body();
  } catch (const std::bad_alloc&) {
    return Refuse(err_msg_out, CAPSPAWN_ERR_NO_MEMORY, "out of memory", "");
  } catch (const std::exception& e) {
    return Refuse(err_msg_out, CAPSPAWN_ERR_INTERNAL, "internal error: ", e.what());
  } catch (...) {
    return Refuse(err_msg_out, CAPSPAWN_ERR_INTERNAL, "internal error: an unknown exception", "");
  }
  if (status == CAPSPAWN_OK && err_msg_out) err_msg_out[0] = '\0';
  return status;
}

}  // namespace capspawn::api

#endif  // CAPSPAWN_SRC_API_BARRIER_H_
