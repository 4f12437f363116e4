// SPDX-License-Identifier: Apache-2.0
// A program the job tests run inside jobs. Each mode reports to an fd it was handed.
//   tree OUT         a tree: a child, a child with a grandchild, a double-forked setsid
//                    daemon, and itself; each writes its pid (int32) to OUT, then sleeps.
//                    It writes its own once the daemon's short-lived parent is reaped, so
//                    the tree is settled when all five pids have arrived
//   many OUT N       itself and N-1 children, each writes its pid to OUT, then sleeps
//   pause OUT        writes its pid to OUT, then sleeps
//   echo IN OUT      writes its pid to OUT, then copies bytes from IN to OUT
//   count MEM        increments a uint64 counter in the shared file MEM forever
//   policy OUT       tries fork, vfork, clone, clone3, a thread and posix_spawn; writes
//                    "name=ok|ERRNO" lines to OUT, then exits 0
//   forks OUT N      tries N forks (children exit at once), writes "forked=K" to OUT
//   alloc MB         touches MB MiB of memory, then exits 0
//   subjob OUT PIDS HELPER  takes its PA_JOB_DEFAULT job, creates child job "sub",
//                    spawns "HELPER pause PIDS" into it; writes "create=S spawn=S" to OUT,
//                    then sleeps
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capspawn/job.h>
#include <capspawn/processargs.h>
#include <capspawn/spawn.h>
#include <capspawn/startup.h>

// Under the DENY policy LeakSanitizer's exit-time clone fails; leaks are not what this
// program is about.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace {

[[noreturn]] void SleepForever() {
  for (;;) pause();
}

void WritePid(int out) {
  int32_t pid = getpid();
  if (write(out, &pid, sizeof pid) != sizeof pid) _exit(3);
}

int Tree(int out) {
  if (fork() == 0) {  // a plain child
    WritePid(out);
    SleepForever();
  }
  if (fork() == 0) {  // a child with a grandchild
    if (fork() == 0) {
      WritePid(out);
      SleepForever();
    }
    WritePid(out);
    SleepForever();
  }
  pid_t mid = fork();
  if (mid == 0) {  // a daemon: new session, and its parent is gone
    setsid();
    if (fork() == 0) {
      WritePid(out);
      SleepForever();
    }
    _exit(0);
  }
  waitpid(mid, nullptr, 0);
  // Only now that the daemon's short-lived parent is gone.
  WritePid(out);
  SleepForever();
}

int Many(int out, int n) {
  WritePid(out);
  for (int i = 1; i < n; ++i) {
    pid_t p = fork();
    if (p < 0) return 4;
    if (p == 0) {
      WritePid(out);
      SleepForever();
    }
  }
  SleepForever();
}

int Echo(int in, int out) {
  WritePid(out);
  char c;
  for (;;) {
    ssize_t n = read(in, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    if (write(out, &c, 1) != 1) return 5;
  }
}

int Count(int mem) {
  if (ftruncate(mem, 4096) != 0) return 6;
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
  if (p == MAP_FAILED) return 7;
  auto* counter = static_cast<volatile uint64_t*>(p);
  for (;;) __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

void Report(int out, const char* name, int result_errno) {
  char line[64];
  int n = snprintf(line, sizeof line, "%s=%s\n", name,
                   result_errno == 0 ? "ok" : strerrorname_np(result_errno));
  if (write(out, line, static_cast<size_t>(n)) != n) _exit(8);
}

// The result of a process-creating call in the parent: 0 (and the child reaped) or errno.
int Reap(pid_t pid) {
  if (pid < 0) return errno;
  waitpid(pid, nullptr, 0);
  return 0;
}

void* ThreadMain(void*) { return nullptr; }

int PolicyAll(int out) {
  pid_t p = fork();
  if (p == 0) _exit(0);
  Report(out, "fork", Reap(p));
  p = vfork();
  if (p == 0) _exit(0);
  Report(out, "vfork", Reap(p));
  p = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  if (p == 0) _exit(0);
  Report(out, "clone", Reap(p));
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  p = static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof args));
  if (p == 0) _exit(0);
  Report(out, "clone3", Reap(p));
  pthread_t t;
  int rc = pthread_create(&t, nullptr, ThreadMain, nullptr);
  if (rc == 0) pthread_join(t, nullptr);
  Report(out, "thread", rc);
  pid_t child;
  char* const argv[] = {const_cast<char*>("true"), nullptr};
  char* const envp[] = {nullptr};
  rc = posix_spawn(&child, "/bin/true", nullptr, nullptr, argv, envp);
  if (rc == 0) waitpid(child, nullptr, 0);
  Report(out, "posix_spawn", rc);
  return 0;
}

int Forks(int out, int n) {
  pid_t children[256];
  if (n > 256) n = 256;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    pid_t p = fork();
    if (p == 0) {
      pause();  // held until the end so the children count together
      _exit(0);
    }
    if (p > 0) children[ok++] = p;
  }
  char line[32];
  int len = snprintf(line, sizeof line, "forked=%d\n", ok);
  if (write(out, line, static_cast<size_t>(len)) != len) return 9;
  for (int i = 0; i < ok; ++i) {
    kill(children[i], SIGKILL);
    waitpid(children[i], nullptr, 0);
  }
  return 0;
}

int Alloc(long mb) {
  size_t size = static_cast<size_t>(mb) << 20;
  char* p = static_cast<char*>(
      mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) return 10;
  for (size_t i = 0; i < size; i += 4096) p[i] = 1;
  return 0;
}

int SubJob(int out, int pids, const char* helper) {
  int job = capspawn_take_startup_handle(CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0));
  int sub = -1;
  capspawn_status_t create =
      job < 0 ? CAPSPAWN_ERR_NOT_FOUND : capspawn_job_create(job, "sub", &sub, nullptr);
  capspawn_status_t spawned = CAPSPAWN_ERR_BAD_STATE;
  if (create == CAPSPAWN_OK) {
    char out_text[16];
    snprintf(out_text, sizeof out_text, "%d", pids);
    const char* argv[] = {helper, "pause", out_text, nullptr};
    capspawn_action_t keep = {};
    keep.action = CAPSPAWN_ACTION_CLONE_FD;
    keep.fd.local_fd = pids;
    keep.fd.target_fd = pids;
    int process = -1;
    spawned = capspawn_spawn_etc(sub, CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_JOB, helper, argv,
                                 nullptr, 1, &keep, &process, nullptr);
  }
  char line[64];
  int n = snprintf(line, sizeof line, "create=%d spawn=%d\n", create, spawned);
  if (write(out, line, static_cast<size_t>(n)) != n) return 11;
  SleepForever();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: job_helper MODE ARGS...\n");
    return 2;
  }
  const char* mode = argv[1];
  int a = atoi(argv[2]);
  int b = argc > 3 ? atoi(argv[3]) : 0;
  if (strcmp(mode, "tree") == 0) return Tree(a);
  if (strcmp(mode, "many") == 0) return Many(a, b);
  if (strcmp(mode, "pause") == 0) {
    WritePid(a);
    SleepForever();
  }
  if (strcmp(mode, "echo") == 0) return Echo(a, b);
  if (strcmp(mode, "count") == 0) return Count(a);
  if (strcmp(mode, "policy") == 0) return PolicyAll(a);
  if (strcmp(mode, "forks") == 0) return Forks(a, b);
  if (strcmp(mode, "alloc") == 0) return Alloc(a);
  if (strcmp(mode, "subjob") == 0 && argc > 4) return SubJob(a, b, argv[4]);
  fprintf(stderr, "job_helper: unknown mode %s\n", mode);
  return 2;
}
