// SPDX-License-Identifier: Apache-2.0
// The benchmark harness: spawn methods, other benchmarks, the parent-state
// scenarios they run in, and the summary rows (ratios with goals) printed
// after the run.
//
// A run is a few rounds; a round is one Google Benchmark pass per scenario.
// A pass registers only its scenario's benchmarks, so the scenario is set up
// once per pass and the library's random interleaving shuffles repetitions
// among benchmarks of the same scenario; the rounds spread every scenario
// over the whole run. Both keep a burst of load on a small shared machine
// from landing on one benchmark only.
//
// A spawn method is "spawn the target program once and wait for it"; each
// becomes the benchmark "spawn/<method>/<scenario>". Summary rows name
// benchmarks by name, so later components add their own rows.
#ifndef CAPSPAWN_BENCH_HARNESS_H_
#define CAPSPAWN_BENCH_HARNESS_H_

#include <benchmark/benchmark.h>
#include <capspawn/spawn.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace capspawn_bench {

// What the parent holds while it spawns, in pass order.
enum class Scenario {
  kBaseline,  // nothing special
  kHeap2GiB,  // 2 GiB of touched anonymous memory in 4 KiB pages
  kFds19k,    // 19,000 extra open fds (not close-on-exec)
};
inline constexpr Scenario kAllScenarios[] = {Scenario::kBaseline, Scenario::kHeap2GiB,
                                             Scenario::kFds19k};
const char* ScenarioName(Scenario scenario);

// Puts this process into `scenario`, leaving the previous one. The harness
// calls it before every benchmark it registers. On failure it calls
// state.SkipWithError and returns false.
bool EnterScenario(benchmark::State& state, Scenario scenario);
// Releases whatever the current scenario holds (after each pass).
void LeaveScenario();

// The programs being spawned.
enum class Program {
  kTinyStatic,  // static glibc `int main(void) { return 0; }` (the main target)
  kTinyNolibc,  // -nostdlib: _start calls exit_group(0); no libc start-up
};
struct Target {
  const char* path;
  char* const* argv;  // {path, NULL}
  char* const* envp;  // the benchmark's own environment
};
// Set once by main before any benchmark runs.
void SetProgramPath(Program program, std::string path);
const Target& GetTarget(Program program);

struct SpawnMethod {
  std::string name;  // row name in the summary, e.g. "capspawn"
  int order = 0;     // row order in the summary (ascending)
  Program program = Program::kTinyStatic;
  std::vector<Scenario> scenarios = {std::begin(kAllScenarios), std::end(kAllScenarios)};
  // Why the method cannot run on this host, or "" (asked once, lazily).
  std::function<std::string()> unavailable;
  // Spawns the target and waits for it. Returns "" when it exited with
  // status 0, otherwise what failed (syscall and errno, or the exit status).
  std::function<std::string(const Target&)> spawn_and_wait;
};
// Returns a dummy value so a .cc file can register from a static initializer.
int AddSpawnMethod(SpawnMethod method);

// Waits for a capspawn process and closes its pidfd: "" when it exited with
// status 0, otherwise what failed.
std::string WaitAndClose(int pidfd);
// capspawn_spawn_etc of the target with its argv, then WaitAndClose. The
// capspawn rows of every benchmark file use it.
std::string CapspawnSpawnAndWait(const Target& t, int job, uint32_t flags,
                                 const char* const* envp = nullptr, size_t action_count = 0,
                                 const capspawn_action_t* actions = nullptr);
std::string SpawnBenchmarkName(std::string_view method, Scenario scenario);
// The methods in summary order.
std::vector<const SpawnMethod*> SpawnMethods();

// Any other benchmark, registered in every pass of `scenario` (wall time,
// µs). The body runs after EnterScenario succeeded. Prefer this to
// BENCHMARK(), which runs in the first pass only.
int AddBenchmark(std::string name, std::function<void(benchmark::State&)> body,
                 Scenario scenario = Scenario::kBaseline);

// Registers the benchmarks of one pass.
void RegisterPass(Scenario scenario);

// A summary row: median(numerator) / median(denominator), with a goal that
// is printed (met or missed) but never asserted.
struct Goal {
  enum Kind { kNone, kAtMost, kAtLeast };
  Kind kind = kNone;
  double value = 0;
};
struct SummaryRow {
  std::string label;
  std::string numerator;    // benchmark name, e.g. SpawnBenchmarkName("capspawn", ...)
  std::string denominator;  // benchmark name; empty: the row is numerator's median in µs
                            // (say so in the label)
  Goal goal;
  int order = 0;  // ascending
  // A benchmark whose median is subtracted from the numerator's first: the
  // row is (numerator - subtrahend) / denominator, e.g. an overhead in µs
  // (no denominator) or an overhead against a floor.
  std::string subtrahend;
};
int AddSummaryRow(SummaryRow row);
std::vector<SummaryRow> SummaryRows();

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_HARNESS_H_
