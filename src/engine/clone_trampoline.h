// SPDX-License-Identifier: Apache-2.0
// clone3 with a function entry point on a new stack. The raw syscall returns
// in the child on an empty stack, so the child must never return into C code
// of the parent's frame: a few instructions of assembly call fn(arg) and exit.
#ifndef CAPSPAWN_SRC_ENGINE_CLONE_TRAMPOLINE_H_
#define CAPSPAWN_SRC_ENGINE_CLONE_TRAMPOLINE_H_

#include <linux/sched.h>

#include <cstddef>

extern "C" {
// Returns the child's pid in the parent, -errno on failure. The child runs
// fn(arg) on clone_args->stack and exits with its return value.
long capspawn_clone3(struct clone_args* args, size_t size, int (*fn)(void*), void* arg);
}

#endif  // CAPSPAWN_SRC_ENGINE_CLONE_TRAMPOLINE_H_
