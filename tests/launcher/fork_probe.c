// SPDX-License-Identifier: Apache-2.0
/* fork_probe: tries each way of creating a process (fork, vfork, clone
 * without CLONE_THREAD, clone3) and prints one word each: "fork=ok" or
 * "fork=EPERM" (the errno's name or number). Exits 0 when none worked, 1
 * when one did. Every process it creates exits at once and is reaped. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* ErrName(int err) {
  switch (err) {
    case EPERM:
      return "EPERM";
    case ENOSYS:
      return "ENOSYS";
    case EAGAIN:
      return "EAGAIN";
    case EACCES:
      return "EACCES";
    default:
      return "other";
  }
}

/* One attempt: the raw result of the syscall (child: 0, parent: pid, -1). */
static int Report(const char* what, long pid) {
  if (pid == 0) _exit(0); /* the new process */
  if (pid < 0) {
    printf("%s=%s ", what, ErrName(errno));
    return 0;
  }
  waitpid((pid_t)pid, NULL, __WALL);
  printf("%s=ok ", what);
  return 1;
}

int main(void) {
  int created = 0;
  created += Report("fork", syscall(SYS_fork));
  pid_t v = vfork();
  if (v == 0) _exit(0);
  created += Report("vfork", v);
  created += Report("clone", syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  created += Report("clone3", syscall(SYS_clone3, &args, sizeof args));
  printf("\n");
  fflush(stdout);
  return created ? 1 : 0;
}
