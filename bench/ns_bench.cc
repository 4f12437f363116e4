// SPDX-License-Identifier: Apache-2.0
// Private namespaces (issue 3's closing numbers): the tiny static program
// with 5 read-only directory entries, built for the first time, entered from
// the cache, and through bwrap with the same binds; then 1,000 entries.
// Spawned through the public C API; the entries' fds are dup'ed from fds
// opened once, as an efficient caller would (ADD_NS_ENTRY consumes them).
#include <benchmark/benchmark.h>
#include <capspawn/spawn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bwrap.h"
#include "harness.h"
#include "namespace/namespace.h"

namespace capspawn_bench {
namespace {

constexpr uint32_t kPrivate = CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_NAMESPACE;

// n directories under a private temporary directory, opened once, removed at exit.
class EntrySet {
 public:
  explicit EntrySet(int n) {
    char tmpl[] = "/tmp/capspawn-bench-ns-XXXXXX";
    if (!mkdtemp(tmpl)) {
      error_ = "mkdtemp failed";
      return;
    }
    root_ = tmpl;
    chmod(root_.c_str(), 0755);
    for (int i = 0; i < n; ++i) {
      std::string dir = root_ + "/d" + std::to_string(i);
      if (mkdir(dir.c_str(), 0755) != 0) {
        error_ = "mkdir " + dir + " failed";
        return;
      }
      dirs_.push_back(dir);
      // Below /srv: several path components, as real binds have.
      targets_.push_back("/srv/data/d" + std::to_string(i));
    }
  }
  ~EntrySet() {
    Close();
    if (!root_.empty()) std::system(("rm -rf '" + root_ + "'").c_str());
  }
  // The directories' fds, held only while a benchmark runs: 1,000 of them
  // would not leave room for the fds_19k scenario.
  bool Open() const {
    for (const std::string& dir : dirs_) {
      int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return false;
      fds_.push_back(fd);
    }
    return true;
  }
  void Close() const {
    for (int fd : fds_) close(fd);
    fds_.clear();
  }
  const std::string& error() const { return error_; }
  const std::vector<std::string>& dirs() const { return dirs_; }

  // Spawns t with every entry read-only; "" when it exited 0.
  std::string Spawn(const Target& t) const {
    std::vector<capspawn_action_t> actions(fds_.size());
    for (size_t i = 0; i < fds_.size(); ++i) {
      actions[i].action = CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY;
      actions[i].ns.prefix = targets_[i].c_str();
      actions[i].ns.handle = fcntl(fds_[i], F_DUPFD_CLOEXEC, 3);
    }
    return CapspawnSpawnAndWait(t, -1, kPrivate, nullptr, actions.size(), actions.data());
  }

 private:
  std::string root_, error_;
  std::vector<std::string> dirs_, targets_;
  mutable std::vector<int> fds_;
};

// Made on first use, removed at exit.
const EntrySet& Entries(int n) {
  if (n == 5) {
    static const EntrySet five(5);
    return five;
  }
  static const EntrySet thousand(1000);
  return thousand;
}

// First-time: the cache is emptied (untimed) before every spawn, so each
// one builds its namespace (builder process + setns).
void SpawnLoop(benchmark::State& state, int n, bool first_time,
               Program program = Program::kTinyStatic) {
  const EntrySet& set = Entries(n);
  if (!set.error().empty()) {
    state.SkipWithError(set.error().c_str());
    return;
  }
  const Target& t = GetTarget(program);
  if (!set.Open()) {
    set.Close();
    state.SkipWithError("cannot open the entries' directories");
    return;
  }
  capspawn::ns::ClearCache();
  if (!first_time) {
    std::string warm = set.Spawn(t);  // builds it once
    if (!warm.empty()) {
      set.Close();
      state.SkipWithError(warm.c_str());
      return;
    }
  }
  for (auto _ : state) {
    if (first_time) {
      state.PauseTiming();
      capspawn::ns::ClearCache();
      state.ResumeTiming();
    }
    std::string error = set.Spawn(t);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  set.Close();
  capspawn::ns::ClearCache();
}

void BwrapLoop(benchmark::State& state, int n, Program program = Program::kTinyStatic) {
  const EntrySet& set = Entries(n);
  if (!set.error().empty()) {
    state.SkipWithError(set.error().c_str());
    return;
  }
  // One command (checked once) per entry count and target.
  struct Cached {
    std::unique_ptr<BwrapCommand> command;
    std::string unavailable;
  };
  static std::map<std::pair<int, Program>, Cached> commands;
  Cached& c = commands[{n, program}];
  if (!c.command) {
    c.command = std::make_unique<BwrapCommand>(set.dirs(), GetTarget(program).path);
    c.unavailable = c.command->Unavailable();
  }
  if (!c.unavailable.empty()) {
    state.SkipWithError(c.unavailable.c_str());
    return;
  }
  for (auto _ : state) {
    std::string error = c.command->SpawnAndWait();
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
}

const int kRegistered = [] {
  AddBenchmark("ns/capspawn_5ro_first", [](benchmark::State& s) { SpawnLoop(s, 5, true); });
  AddBenchmark("ns/capspawn_5ro_cached", [](benchmark::State& s) { SpawnLoop(s, 5, false); });
  AddBenchmark("ns/bwrap_5ro", [](benchmark::State& s) { BwrapLoop(s, 5); });
  // The same with the libc-free target: no glibc start-up, whose cpuid
  // instructions trap to the hypervisor on a VM and cost both sides the same
  // fixed time. What is left is the sandbox's own cost.
  AddBenchmark("ns/capspawn_5ro_cached_nolibc",
               [](benchmark::State& s) { SpawnLoop(s, 5, false, Program::kTinyNolibc); });
  AddBenchmark("ns/bwrap_5ro_nolibc",
               [](benchmark::State& s) { BwrapLoop(s, 5, Program::kTinyNolibc); });
  AddBenchmark("ns/capspawn_1000ro_first", [](benchmark::State& s) { SpawnLoop(s, 1000, true); });
  AddBenchmark("ns/capspawn_1000ro_cached", [](benchmark::State& s) { SpawnLoop(s, 1000, false); });
  AddBenchmark("ns/bwrap_1000ro", [](benchmark::State& s) { BwrapLoop(s, 1000); });

  const std::string plain = SpawnBenchmarkName("capspawn", Scenario::kBaseline);
  AddSummaryRow({"ns 5 ro, first-time / capspawn plain",
                 "ns/capspawn_5ro_first",
                 plain,
                 {Goal::kAtMost, 5.0},
                 500});
  AddSummaryRow({"ns 5 ro, repeated (cached) / capspawn plain",
                 "ns/capspawn_5ro_cached",
                 plain,
                 {Goal::kAtMost, 1.3},
                 510});
  AddSummaryRow({"bwrap 5 ro / capspawn ns 5 ro repeated",
                 "ns/bwrap_5ro",
                 "ns/capspawn_5ro_cached",
                 {Goal::kAtLeast, 10.0},
                 520});
  AddSummaryRow({"bwrap 5 ro / capspawn ns 5 ro repeated (libc-free target)",
                 "ns/bwrap_5ro_nolibc",
                 "ns/capspawn_5ro_cached_nolibc",
                 {Goal::kAtLeast, 10.0},
                 525});
  AddSummaryRow({"bwrap 5 ro / capspawn ns 5 ro first-time", "ns/bwrap_5ro",
                 "ns/capspawn_5ro_first", Goal{}, 530});
  AddSummaryRow(
      {"ns 1000 ro, first-time (us)", "ns/capspawn_1000ro_first", "", {Goal::kAtMost, 20000}, 540});
  AddSummaryRow({"ns 1000 ro, repeated (cached) (us)",
                 "ns/capspawn_1000ro_cached",
                 "",
                 {Goal::kAtMost, 20000},
                 550});
  AddSummaryRow({"bwrap 1000 ro / capspawn ns 1000 ro first-time", "ns/bwrap_1000ro",
                 "ns/capspawn_1000ro_first", Goal{}, 560});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
