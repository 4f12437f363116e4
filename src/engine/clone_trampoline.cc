// SPDX-License-Identifier: Apache-2.0
#include "engine/clone_trampoline.h"

#include <sys/syscall.h>

// rdi=args rsi=size rdx=fn rcx=arg. fn/arg survive the syscall in r8/r9 (the
// child starts with a copy of the parent's registers, rax=0, rsp=new stack).
#if defined(__x86_64__)
asm(R"(
  .text
  .globl capspawn_clone3
  .hidden capspawn_clone3
  .type capspawn_clone3,@function
capspawn_clone3:
  .cfi_startproc
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jnz 1f
  .cfi_undefined rip
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  hlt
1:
  ret
  .cfi_endproc
  .size capspawn_clone3, .-capspawn_clone3
  .section .note.GNU-stack,"",@progbits
)");
#elif defined(__aarch64__)
asm(R"(
  .text
  .globl capspawn_clone3
  .hidden capspawn_clone3
  .type capspawn_clone3,%function
capspawn_clone3:
  mov x9, x2
  mov x10, x3
  mov x8, #435
  svc #0
  cbnz x0, 1f
  mov x29, #0
  mov x30, #0
  mov x0, x10
  blr x9
  mov x8, #93
  svc #0
1:
  ret
  .size capspawn_clone3, .-capspawn_clone3
  .section .note.GNU-stack,"",%progbits
)");
#else
#error "capspawn supports x86_64 and aarch64"
#endif
