// SPDX-License-Identifier: Apache-2.0
// bubblewrap as a competitor: the same program started through `bwrap`
// with read-only binds. Later benchmarks (private namespaces) compare their
// own bind sets with BwrapCommand(...) over the same directories.
#ifndef CAPSPAWN_BENCH_BWRAP_H_
#define CAPSPAWN_BENCH_BWRAP_H_

#include <string>
#include <vector>

namespace capspawn_bench {

// A ready-to-exec bwrap command line.
class BwrapCommand {
 public:
  // `bwrap --ro-bind B B ... --ro-bind PROGRAM PROGRAM PROGRAM`: every path
  // in `ro_binds` bound read-only at the same place, plus the program file.
  BwrapCommand(const std::vector<std::string>& ro_binds, const std::string& program);
  // argv_ points into args_.
  BwrapCommand(const BwrapCommand&) = delete;
  BwrapCommand& operator=(const BwrapCommand&) = delete;

  // Why bwrap cannot run here (not installed, or cannot create its
  // namespaces: its own stderr is quoted), or "". Runs the command once.
  std::string Unavailable() const;
  // Runs the command and waits; "" when it exited with status 0.
  std::string SpawnAndWait() const;

 private:
  std::string bwrap_;  // absolute path, empty when not found
  std::vector<std::string> args_;
  std::vector<char*> argv_;
};

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_BWRAP_H_
