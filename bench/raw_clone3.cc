// SPDX-License-Identifier: Apache-2.0
// A raw clone3 vfork-style spawn.
//
// Why assembly: with CLONE_VM the child shares the parent's memory but must
// run on its own stack, and clone3 (unlike glibc's clone()) takes no entry
// function: the child resumes right after the syscall instruction with the
// stack pointer at the top of the new stack. Resuming in C code would make
// it use stack slots, saved registers and return addresses that belong to
// the parent's frame. So the syscall and everything the child does sit in
// one asm block that uses registers only: the child's three syscalls
// (rt_sigprocmask, execve, exit_group) take their arguments from
// callee-saved registers loaded before the clone, which the child inherits.
// The child never touches its stack. It is still allocated (mmap'd once)
// and passed to clone3, so that the call has the same shape as capspawn's
// engine, which runs C code in the child and needs one.
#include "raw_clone3.h"

#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace capspawn_bench {
namespace {

// The kernel's sigset_t is 64 bits on both architectures.
constexpr long kKernelSigsetSize = 8;

#if defined(__x86_64__) || defined(__aarch64__)
constexpr bool kHaveTrampoline = true;

// Returns what clone3 returned in the parent (pid or -errno). The child
// never returns from here.
long Clone3ExecTrampoline(clone_args* args, const char* path, char* const* argv, char* const* envp,
                          const sigset_t* restore_mask) {
#if defined(__x86_64__)
  register long nr asm("rax") = __NR_clone3;
  register clone_args* a0 asm("rdi") = args;
  register unsigned long a1 asm("rsi") = sizeof(*args);
  register const char* r_path asm("r12") = path;
  register char* const* r_argv asm("r13") = argv;
  register char* const* r_envp asm("r14") = envp;
  register const sigset_t* r_mask asm("r15") = restore_mask;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      // Child: rt_sigprocmask(SIG_SETMASK, restore_mask, NULL, 8).
      "mov %[nr_mask], %%eax\n\t"
      "mov %[how], %%edi\n\t"
      "mov %%r15, %%rsi\n\t"
      "xor %%edx, %%edx\n\t"
      "mov %[setsize], %%r10d\n\t"
      "syscall\n\t"
      // execve(path, argv, envp); returns only on failure.
      "mov %[nr_execve], %%eax\n\t"
      "mov %%r12, %%rdi\n\t"
      "mov %%r13, %%rsi\n\t"
      "mov %%r14, %%rdx\n\t"
      "syscall\n\t"
      "mov %[nr_exit], %%eax\n\t"
      "mov $127, %%edi\n\t"
      "syscall\n\t"
      "ud2\n\t"
      "1:\n\t"
      : "+r"(nr)
      : "r"(a0), "r"(a1), "r"(r_path), "r"(r_argv), "r"(r_envp),
        "r"(r_mask), [nr_mask] "i"(__NR_rt_sigprocmask), [how] "i"(SIG_SETMASK),
        [setsize] "i"(kKernelSigsetSize), [nr_execve] "i"(__NR_execve),
        [nr_exit] "i"(__NR_exit_group)
      // The syscall instruction clobbers rcx and r11; the kernel writes the
      // pidfd through args->pidfd.
      : "rcx", "r11", "memory", "cc");
  return nr;
#elif defined(__aarch64__)
  register long x8 asm("x8") = __NR_clone3;
  register long x0 asm("x0") = reinterpret_cast<long>(args);
  register unsigned long x1 asm("x1") = sizeof(*args);
  register const char* x19 asm("x19") = path;
  register char* const* x20 asm("x20") = argv;
  register char* const* x21 asm("x21") = envp;
  register const sigset_t* x22 asm("x22") = restore_mask;
  asm volatile(
      "svc #0\n\t"
      "cbnz x0, 1f\n\t"
      // Child: rt_sigprocmask(SIG_SETMASK, restore_mask, NULL, 8).
      "mov x8, %[nr_mask]\n\t"
      "mov x0, %[how]\n\t"
      "mov x1, x22\n\t"
      "mov x2, xzr\n\t"
      "mov x3, %[setsize]\n\t"
      "svc #0\n\t"
      // execve(path, argv, envp); returns only on failure.
      "mov x8, %[nr_execve]\n\t"
      "mov x0, x19\n\t"
      "mov x1, x20\n\t"
      "mov x2, x21\n\t"
      "svc #0\n\t"
      "mov x8, %[nr_exit]\n\t"
      "mov x0, #127\n\t"
      "svc #0\n\t"
      "brk #0\n\t"
      "1:\n\t"
      : "+r"(x0)
      : "r"(x8), "r"(x1), "r"(x19), "r"(x20), "r"(x21),
        "r"(x22), [nr_mask] "i"(__NR_rt_sigprocmask), [how] "i"(SIG_SETMASK),
        [setsize] "i"(kKernelSigsetSize), [nr_execve] "i"(__NR_execve),
        [nr_exit] "i"(__NR_exit_group)
      : "memory", "cc");
  return x0;
#endif
}
#else
constexpr bool kHaveTrampoline = false;
#endif

// One stack for every spawn: CLONE_VFORK suspends the parent until the child
// has exec'd or exited, so two children never use it at once. It is mapped
// once, as a spawner that keeps its stack would do.
struct ChildStack {
  static constexpr size_t kSize = 64 * 1024;
  void* base = MAP_FAILED;
  ChildStack() {
    base = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1,
                0);
  }
  ~ChildStack() {
    if (base != MAP_FAILED) munmap(base, kSize);
  }
};

std::string Errno(const char* what, int err) { return std::string(what) + ": " + strerror(err); }

}  // namespace

bool RawClone3Supported() { return kHaveTrampoline; }

std::string RawClone3Exec(const char* path, char* const* argv, char* const* envp, int* pidfd_out) {
#if defined(__x86_64__) || defined(__aarch64__)
  static ChildStack stack;
  if (stack.base == MAP_FAILED) return Errno("mmap child stack", errno);

  int pidfd = -1;
  clone_args args;
  std::memset(&args, 0, sizeof args);
  args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<uint64_t>(stack.base);
  args.stack_size = ChildStack::kSize;

  // No handler may run in the child while it shares our memory: block
  // everything, and let the child restore the caller's mask before exec.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long ret = Clone3ExecTrampoline(&args, path, argv, envp, &old);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (ret < 0) return Errno("clone3", static_cast<int>(-ret));
  *pidfd_out = pidfd;
  return "";
#else
  (void)path;
  (void)argv;
  (void)envp;
  (void)pidfd_out;
  return "raw clone3 spawn: the trampoline is written for x86_64 and aarch64 only";
#endif
}

}  // namespace capspawn_bench
