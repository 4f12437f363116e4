// SPDX-License-Identifier: Apache-2.0
// For the attacks on capspawn-launcherd (attack_test.cc, bounds_test.cc):
// running part of a test as nobody, commands as nobody, and looking at the
// daemon's processes (the serving one, the whole tree's footprint).
#ifndef CAPSPAWN_TESTS_LAUNCHER_ATTACK_UTIL_H_
#define CAPSPAWN_TESTS_LAUNCHER_ATTACK_UTIL_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "test_util.h"

namespace capspawn_test {

inline constexpr uid_t kNobody = 65534;
inline constexpr gid_t kNogroup = 65534;

// Runs `body` in a forked child that, when this process is root, first
// became nobody (uid and gid 65534, no groups; dumpable, as a nobody process
// started by login is). Returns body's result (0..255) as the child's exit
// code; 250 if the ids could not be dropped; 256 + signo if it was killed.
int RunAsNobody(const std::function<int()>& body);

struct CommandResult {
  int status = -1;     // wait status
  std::string output;  // stdout and stderr together
  bool timed_out = false;
};
// Runs argv (argv[0] a path) as nobody (see RunAsNobody) with stdout and
// stderr on a pipe; SIGKILLs it after timeout_ms.
CommandResult RunCommandAsNobody(const Strings& argv, int timeout_ms = 60000);

// A directory under /var/tmp (not /tmp: it may be nosuid or noexec), mode
// 0755, removed with its content.
class VarTmpDir {
 public:
  explicit VarTmpDir(const std::string& prefix = "cs");
  ~VarTmpDir();
  VarTmpDir(const VarTmpDir&) = delete;
  VarTmpDir& operator=(const VarTmpDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Copies a file (mode as given); false if it could not.
bool CopyFileTo(const std::string& from, const std::string& to, mode_t mode);

// What a daemon holds: its process and every process below it.
struct Footprint {
  int processes = 0;
  int threads = 0;
  int fds = 0;
  std::string Describe() const;
};
Footprint FootprintOf(pid_t root);
// Waits (timeout_ms at most) until no count is above the baseline's.
bool FootprintReturnsTo(pid_t root, const Footprint& baseline, int timeout_ms, Footprint* last);

// The process at or below `root` that holds a pidfd of `client`: the one
// serving that client. -1 when there is none.
pid_t ServingProcess(pid_t root, pid_t client);
// A "kB" field of /proc/PID/status ("VmRSS", "VmHWM"); -1 if unreadable.
long StatusKb(pid_t pid, const char* field);

}  // namespace capspawn_test

#endif  // CAPSPAWN_TESTS_LAUNCHER_ATTACK_UTIL_H_
