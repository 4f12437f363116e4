// SPDX-License-Identifier: Apache-2.0
// A seccomp profile shaped like the OCI runtime spec's linux.seccomp,
// compiled with libseccomp into the classic BPF program that
// CAPSPAWN_ACTION_SET_SECCOMP_FILTER installs. See docs/containers.md.
//
//   capspawn::seccomp::Profile p;
//   p.default_action = capspawn::seccomp::Action::kAllow;
//   p.syscalls.push_back({{"mount", "umount2"}, capspawn::seccomp::Action::kErrno, EPERM});
//   auto prog = capspawn::seccomp::Compile(p);  // -> std::vector<capspawn_sock_filter_t>
#ifndef CAPSPAWN_SECCOMP_H_
#define CAPSPAWN_SECCOMP_H_

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include <capspawn/result.h>
#include <capspawn/spawn.h>

namespace capspawn::seccomp {

// SCMP_ACT_*: KILL (the thread), KILL_PROCESS, TRAP, ERRNO, TRACE, ALLOW, LOG.
enum class Action { kKillThread, kKillProcess, kTrap, kErrno, kTrace, kAllow, kLog };
// SCMP_CMP_*.
enum class Op {
  kNotEqual,
  kLessThan,
  kLessEqual,
  kEqualTo,
  kGreaterEqual,
  kGreaterThan,
  kMaskedEqual
};

struct Arg {
  unsigned index = 0;  // 0..5
  uint64_t value = 0;
  uint64_t value_two = 0;  // kMaskedEqual: the value to compare with after masking by `value`
  Op op = Op::kEqualTo;
};

struct Rule {
  std::vector<std::string> names;  // system call names ("openat")
  Action action = Action::kAllow;
  int errno_ret = EPERM;  // kErrno; for kTrace, the value the tracer sees
  std::vector<Arg> args;  // all must match
};

struct Profile {
  Action default_action = Action::kAllow;
  int default_errno = EPERM;
  // Extra architectures by OCI name ("SCMP_ARCH_X86", "SCMP_ARCH_X32"...);
  // the native one is always included.
  std::vector<std::string> architectures;
  std::vector<Rule> syscalls;
  // A name this libseccomp does not know: skipped (as runc does, so that a
  // profile written for newer kernels loads) or an error naming it.
  bool skip_unknown_syscalls = false;
};

// The BPF program, or INVALID_ARGS naming the rule (its index), the system
// call, the architecture or the argument that libseccomp refused.
Result<std::vector<capspawn_sock_filter_t>> Compile(const Profile& profile);

}  // namespace capspawn::seccomp

#endif  // CAPSPAWN_SECCOMP_H_
