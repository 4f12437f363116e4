// SPDX-License-Identifier: Apache-2.0
/* The smallest possible target: no libc, no start-up code; _start calls
   exit_group(0). Shows how much of a spawn is the spawner itself. */
#if defined(__x86_64__)
__asm__(
    ".globl _start\n"
    "_start:\n"
    "  mov $231, %eax\n" /* exit_group */
    "  xor %edi, %edi\n"
    "  syscall\n"
    "  hlt\n");
#elif defined(__aarch64__)
__asm__(
    ".globl _start\n"
    "_start:\n"
    "  mov x8, #94\n" /* exit_group */
    "  mov x0, #0\n"
    "  svc #0\n"
    "  brk #0\n");
#else
#error "tiny_nolibc: _start is written for x86_64 and aarch64 only"
#endif
