// SPDX-License-Identifier: Apache-2.0
// How a child reports a failed setup step to its parent before exec.
// The child shares the parent's memory (CLONE_VM), so it writes here directly.
#ifndef CAPSPAWN_SRC_ENGINE_CHILD_ERROR_H_
#define CAPSPAWN_SRC_ENGINE_CHILD_ERROR_H_

namespace capspawn::engine {

struct ChildError {
  // A static string naming the step ("dup3", "execveat", "mount /data: open_tree"...).
  // Must point at memory that outlives the spawn (a literal, or a string in the plan).
  const char* step = nullptr;
  int err = 0;  // errno of the failed syscall
  // capspawn status the parent should report; 0 means "derive it from err".
  int status = 0;
  // Which item failed (an fd assignment's index, a mount entry's index...), or -1.
  long detail = -1;
};

// Child-side helper: records the failure. Async-signal-safe, allocation-free.
inline int ChildFail(ChildError* e, const char* step, int err, int status = 0, long detail = -1) {
  e->step = step;
  e->err = err;
  e->status = status;
  e->detail = detail;
  return -1;
}

// Code that runs in the child shares the parent's memory on a borrowed stack:
// keep sanitizer instrumentation (and its shadow-stack bookkeeping) out of it.
#define CAPSPAWN_CHILD_CODE __attribute__((no_sanitize_address, no_sanitize("undefined")))

}  // namespace capspawn::engine

#endif  // CAPSPAWN_SRC_ENGINE_CHILD_ERROR_H_
