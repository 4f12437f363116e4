// SPDX-License-Identifier: Apache-2.0
// The parsed report of spawn_child (see spawn_child.cc for the format).
#ifndef CAPSPAWN_TESTS_SPAWN_CHILD_REPORT_H_
#define CAPSPAWN_TESTS_SPAWN_CHILD_REPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace capspawn_test {

struct FdInfo {
  int fd = -1;
  std::string type;  // reg dir chr blk fifo sock lnk anon
  std::string path;  // readlink /proc/self/fd/N
  int flags = 0;     // F_GETFL
  bool cloexec = false;
  std::string dev;  // "major:minor"
  uint64_t ino = 0;
};

struct HandleInfo {
  int fd = -1;     // first capspawn_take_startup_handle(id)
  int again = -1;  // second call: must be -1
};

struct Report {
  bool complete = false;  // saw the header and "end"
  pid_t pid = -1;
  pid_t ppid = -1;
  std::string comm;
  int argc = -1;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // in order, verbatim
  std::map<int, FdInfo> fds;
  std::map<uint32_t, HandleInfo> handles;
  std::string sig_blocked, sig_ignored, sig_caught;  // hex masks from /proc/self/status
  std::string cgroup;

  std::vector<int> FdNumbers() const;
  // The value of the first "NAME=" entry; nullopt when absent.
  std::optional<std::string> Getenv(const std::string& name) const;
  // How many entries are named NAME.
  int CountEnv(const std::string& name) const;
  // Whether any variable's name starts with prefix.
  bool HasEnvPrefix(const std::string& prefix) const;
};

// Parses the text; Report::complete tells whether it was whole.
Report ParseReport(const std::string& text);

// Undoes spawn_child's escaping ("\xHH", "\e" for the empty string).
std::string Unescape(const std::string& token);

}  // namespace capspawn_test

#endif  // CAPSPAWN_TESTS_SPAWN_CHILD_REPORT_H_
