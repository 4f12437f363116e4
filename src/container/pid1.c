// SPDX-License-Identifier: Apache-2.0
/* capspawn's pid-1 init (CAPSPAWN_NEW_NS_PID_INIT; docs/containers.md).
   Built without libc and embedded in libcapspawn, it is executed from a
   sealed memfd by pid 1 of a new pid namespace once the program (its child,
   argv[1] its pid) exists. It needs nothing of the container's filesystem.
   It reaps every child, the orphans re-parented to it included; forwards
   every signal it receives but SIGCHLD to the program; and when the program
   ends, exits with its exit code, or 128 + N when signal N killed it. Its
   own exit ends the namespace: the kernel kills and reaps what is left. */
#include <asm/unistd.h>
#include <linux/prctl.h>
#include <linux/wait.h>

#define kSigchld 17

#if defined(__x86_64__)
static long sys4(long n, long a, long b, long c, long d) {
  register long r10 __asm__("r10") = d;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}
__asm__(
    ".text\n"
    ".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call init_main\n"
    "  hlt\n");
#elif defined(__aarch64__)
static long sys4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
__asm__(
    ".text\n"
    ".globl _start\n"
    "_start:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, sp\n"
    "  bl init_main\n"
    "  brk #0\n");
#else
#error "the pid-1 init is written for x86_64 and aarch64 only"
#endif

static __attribute__((noreturn)) void Exit(long code) {
  for (;;) sys4(__NR_exit_group, code, 0, 0, 0);
}

/* The program's status as an exit code: the code itself, or 128 + signal. */
static long ExitCode(int status) {
  if ((status & 0x7f) == 0) return (status >> 8) & 0xff;
  return 128 + (status & 0x7f);
}

__attribute__((noreturn, used)) void init_main(long* sp) {
  const long argc = sp[0];
  const char* arg = argc > 1 ? (const char*)sp[2] : 0;
  long program = 0;
  for (; arg && *arg >= '0' && *arg <= '9' && program < 1000000000L; ++arg) {
    program = program * 10 + (*arg - '0');
  }
  if (program <= 0) Exit(127);  // not started by capspawn

  /* Named for ps; not dumpable, so that the program (which runs under
     filters the init does not) cannot ptrace it without CAP_SYS_PTRACE. */
  sys4(__NR_prctl, PR_SET_NAME, (long)"capspawn-init", 0, 0);
  sys4(__NR_prctl, PR_SET_DUMPABLE, 0, 0, 0);

  /* Every signal blocked and taken with sigtimedwait: none interrupts the
     loop, and signals sent to pid 1 from inside its namespace, which the
     kernel drops for an init without a handler, are queued instead. */
  unsigned long all = ~0UL;
  sys4(__NR_rt_sigprocmask, 0 /* SIG_BLOCK */, (long)&all, 0, sizeof all);
  for (;;) {
    for (;;) {
      int status = 0;
      long pid = sys4(__NR_wait4, -1, (long)&status, WNOHANG | __WALL, 0);
      if (pid == program) Exit(ExitCode(status));
      if (pid == -10 /* ECHILD */) Exit(127);
      if (pid <= 0) break;
    }
    unsigned char info[128];
    long sig = sys4(__NR_rt_sigtimedwait, (long)&all, (long)info, 0, sizeof all);
    if (sig > 0 && sig != kSigchld) sys4(__NR_kill, program, sig, 0, 0);
  }
}
