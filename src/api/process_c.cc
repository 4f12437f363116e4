// SPDX-License-Identifier: Apache-2.0
// The C API's wait and kill on a borrowed pidfd: wrappers over base's
// WaitPidfd and KillPidfd.
#include <capspawn/process.h>
#include <capspawn/spawn.h>

#include <signal.h>

#include "api/barrier.h"

extern "C" capspawn_status_t capspawn_process_wait(int process, int64_t timeout_ns,
                                                   int64_t* return_code) {
  return capspawn::api::Guard(nullptr, [&]() -> capspawn_status_t {
    capspawn::Result<int64_t> r = capspawn::WaitPidfd(process, timeout_ns);
    if (!r.ok()) return r.status();
    if (return_code) *return_code = *r;
    return CAPSPAWN_OK;
  });
}

extern "C" capspawn_status_t capspawn_process_kill(int process) {
  return capspawn::api::Guard(nullptr,
                              [&] { return capspawn::KillPidfd(process, SIGKILL).status(); });
}
