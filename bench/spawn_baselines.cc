// SPDX-License-Identifier: Apache-2.0
// The spawners capspawn is compared with: a raw clone3 vfork-style spawn
// (the floor), glibc posix_spawn, fork+exec and vfork+exec. Each spawns the
// target with the benchmark's own environment and reaps it.
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness.h"
#include "raw_clone3.h"
#include "wait_child.h"

namespace capspawn_bench {
namespace {

std::string RawClone3(const Target& t) {
  int pidfd = -1;
  std::string error = RawClone3Exec(t.path, t.argv, t.envp, &pidfd);
  if (!error.empty()) return error;
  return WaitPidfdAndClose(pidfd);
}

std::string PosixSpawn(const Target& t) {
  pid_t pid = -1;
  int err = posix_spawn(&pid, t.path, nullptr, nullptr, t.argv, t.envp);
  if (err != 0) return std::string("posix_spawn: ") + std::strerror(err);
  return WaitPid(pid);
}

std::string ForkExec(const Target& t) {
  pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    execve(t.path, t.argv, t.envp);
    _exit(127);
  }
  return WaitPid(pid);
}

// noinline: the vfork child borrows this frame until it execs, so the frame
// must not be shared with (or reshaped by) the caller.
[[gnu::noinline]] pid_t VforkExecve(const Target& t) {
  pid_t pid = vfork();
  if (pid == 0) {
    execve(t.path, t.argv, t.envp);
    _exit(127);
  }
  return pid;
}

std::string VforkExec(const Target& t) {
  pid_t pid = VforkExecve(t);
  if (pid < 0) return std::string("vfork: ") + std::strerror(errno);
  return WaitPid(pid);
}

std::string RawClone3Unavailable() {
  return RawClone3Supported() ? "" : "raw clone3: no trampoline for this architecture";
}

const int kRegistered = [] {
  AddSpawnMethod({.name = "raw_clone3",
                  .order = 20,
                  .unavailable = RawClone3Unavailable,
                  .spawn_and_wait = RawClone3});
  AddSpawnMethod({.name = "posix_spawn", .order = 30, .spawn_and_wait = PosixSpawn});
  AddSpawnMethod({.name = "fork_exec", .order = 40, .spawn_and_wait = ForkExec});
  AddSpawnMethod({.name = "vfork_exec", .order = 50, .spawn_and_wait = VforkExec});
  // The floor without libc start-up in the child: how much of a spawn is
  // the spawner rather than the program.
  AddSpawnMethod({.name = "raw_clone3_nolibc",
                  .order = 80,
                  .program = Program::kTinyNolibc,
                  .scenarios = {Scenario::kBaseline},
                  .unavailable = RawClone3Unavailable,
                  .spawn_and_wait = RawClone3});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
