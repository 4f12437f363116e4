// SPDX-License-Identifier: Apache-2.0
#include <capspawn/result.h>
#include <capspawn/spawn.h>

#include <cstdio>
#include <cstring>

#include "base/c_error.h"
#include "base/status.h"

namespace capspawn {

capspawn_status_t Fail(const Error& e, char* err_msg_out) {
  if (err_msg_out)
    std::snprintf(err_msg_out, CAPSPAWN_ERR_MSG_MAX_LENGTH, "%s", e.message().c_str());
  return e.status();
}

Error Error::FromErrno(int err, const std::string& what) {
  return Error(StatusFromErrno(err), what + ": " + std::strerror(err));
}

}  // namespace capspawn
