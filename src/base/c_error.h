// SPDX-License-Identifier: Apache-2.0
// How the C API fails: the message into the caller's buffer, the status back.
#ifndef CAPSPAWN_SRC_BASE_C_ERROR_H_
#define CAPSPAWN_SRC_BASE_C_ERROR_H_

#include <capspawn/result.h>

namespace capspawn {

// Copies e's message into err_msg_out (if not NULL; truncated to
// CAPSPAWN_ERR_MSG_MAX_LENGTH, NUL-terminated) and returns its status.
capspawn_status_t Fail(const Error& e, char* err_msg_out);

}  // namespace capspawn

#endif  // CAPSPAWN_SRC_BASE_C_ERROR_H_
