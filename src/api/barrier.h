// SPDX-License-Identifier: Apache-2.0
// The C API's one exception barrier and one error-buffer rule. Every
// extern "C" entry runs its body through one of these guards, chosen by what
// it returns (docs/architecture.md, "The C API"):
// - capspawn_status_t, Guard: std::bad_alloc is NO_MEMORY, any other
//   exception INTERNAL, each with a message in the error buffer when the
//   entry has one; the buffer holds "" after a success.
// - int or const char*, GuardValue: the entry's documented failure value
//   (-1, NULL, or a static string), with errno ENOMEM for std::bad_alloc and
//   ENOTRECOVERABLE for any other exception, which
//   capspawn_status_from_errno maps to NO_MEMORY and INTERNAL.
// Nothing on the failure path allocates: it also serves when memory ran out.
#ifndef CAPSPAWN_SRC_API_BARRIER_H_
#define CAPSPAWN_SRC_API_BARRIER_H_

#include <capspawn/spawn.h>
#include <capspawn/status.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <new>

namespace capspawn::api {

// Tests only: when set, every entry calls it first, inside its barrier, so a
// test can make any entry throw. Never set by the library; not exported
// from libcapspawn.so (the tests link the static library).
using EntryHook = void (*)();
extern std::atomic<EntryHook> g_entry_hook;

inline void RunEntryHook() {
  if (EntryHook hook = g_entry_hook.load(std::memory_order_relaxed)) hook();
}

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
    RunEntryHook();
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

// For the entries that answer a value (int, const char*) and have no status
// or buffer to say why: `failure` and errno.
template <typename T, typename Body>
T GuardValue(T failure, Body&& body) noexcept {
  try {
    RunEntryHook();
    return body();
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
  } catch (...) {
    errno = ENOTRECOVERABLE;
  }
  return failure;
}

}  // namespace capspawn::api

#endif  // CAPSPAWN_SRC_API_BARRIER_H_
