// SPDX-License-Identifier: Apache-2.0
// Helpers of the process builder tests: the target programs, builders for
// them, and independent looks at a built process (its auxv, maps, state and
// registers, read by the test itself).
#ifndef CAPSPAWN_TESTS_BUILDER_BUILDER_UTIL_H_
#define CAPSPAWN_TESTS_BUILDER_BUILDER_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <capspawn/process_builder.h>

#include "namespace/namespace.h"
#include "test_util.h"

namespace capspawn_test {

// The caller's open fds, not counting the namespace cache's own (its watcher
// of the mount table and the namespaces it keeps, docs/namespaces.md): the
// cache is emptied first and its watcher opened, so the count is stable.
inline int CountOpenFdsBesidesNsCache() {
  capspawn::ns::ClearCache();
  (void)capspawn::ns::GetCacheStats();
  return CountOpenFds();
}

// pb_target built three ways (see pb_target.c).
enum class Target { kStatic, kStaticPie, kDynamic };
const char* TargetPath(Target t);
const char* TargetName(Target t);

// The directory holding the system's dynamic linker (its real path): a
// loader directory for dynamic programs.
std::string SystemLibDir();

UniqueFd OpenExecutable(const std::string& path);
UniqueFd OpenDirectory(const std::string& path);

// A builder for `path` named `name`, with the system loader when the program
// is dynamic (or spawn_child is, in sanitizer builds).
capspawn::ProcessBuilder MakeBuilder(const std::string& path, const std::string& name = "pb");

// A PA_FD handle: a dup of `fd` landing at `target` in the child.
capspawn::StartupHandle FdHandle(int fd, int target);

std::map<uint64_t, uint64_t> ReadAuxv(pid_t pid);

struct Mapping {
  uint64_t start = 0, end = 0, offset = 0, inode = 0;
  std::string perms, path;
};
std::vector<Mapping> ReadMaps(pid_t pid);

// The state letter in /proc/PID/stat ('R', 'S', 'T', 't', 'Z'), or 0.
char StateOf(pid_t pid);
// The state once it is not 'R' (a process a debugger just left runs for an
// instant to re-enter its group stop), waiting up to 2 s.
char SettledStateOf(pid_t pid);

// Seizes the (group-stopped) process, reads its registers, detaches; it
// stays stopped. pc/sp, or nullopt with *why set.
struct Regs {
  uint64_t pc = 0, sp = 0;
};
std::optional<Regs> PeekRegisters(pid_t pid, std::string* why);

// Whether fd has bytes to read right now.
bool Readable(int fd);

// Waits for the pidfd's process; the return code (or INT64_MIN).
int64_t WaitCode(const capspawn::Process& p);

}  // namespace capspawn_test

#endif  // CAPSPAWN_TESTS_BUILDER_BUILDER_UTIL_H_
