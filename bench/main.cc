// SPDX-License-Identifier: Apache-2.0
// capspawn_bench: spawn+wait of a tiny static program through capspawn and
// the usual alternatives, in three parent states, then a summary of medians
// and ratios. See docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "collecting_reporter.h"
#include "harness.h"
#include "summary.h"

namespace capspawn_bench {
namespace {

// Defaults chosen for a noisy 2-core machine: many short repetitions,
// shuffled among the benchmarks of the same pass (random interleaving) and
// spread over several rounds of passes, so that a burst of load elsewhere
// hits every method and every scenario alike; judged by their median. Any
// of them given on the command line wins. Repetitions are per pass: a run
// has rounds × repetitions of each benchmark.
constexpr const char* kDefaultFlags[] = {
    "--benchmark_repetitions=5",
    "--benchmark_min_time=0.15",
    "--benchmark_enable_random_interleaving=true",
};
constexpr int kDefaultRounds = 3;

constexpr std::string_view kTinyFlag = "--capspawn_bench_tiny=";
constexpr std::string_view kTinyNolibcFlag = "--capspawn_bench_tiny_nolibc=";
constexpr std::string_view kRoundsFlag = "--capspawn_bench_rounds=";
// Handled here rather than by the library, which would reopen (truncate)
// the file for every scenario's pass.
constexpr std::string_view kOutFlag = "--benchmark_out=";
constexpr std::string_view kOutFormatFlag = "--benchmark_out_format=";

bool HasFlag(const std::vector<char*>& args, std::string_view flag) {
  std::string_view name = flag.substr(0, flag.find('=') + 1);
  for (char* arg : args) {
    if (std::string_view(arg).starts_with(name)) return true;
  }
  return false;
}

// The last occurrence wins, as in the library's own parsing.
std::string FlagValue(const std::vector<char*>& args, std::string_view name_with_eq) {
  std::string value;
  for (char* arg : args) {
    std::string_view a(arg);
    if (a.starts_with(name_with_eq)) value = a.substr(name_with_eq.size());
  }
  return value;
}

// Removes `name_with_eq` flags from args and returns the last value (or
// `fallback` when absent).
std::string TakeFlag(std::vector<char*>* args, std::string_view name_with_eq,
                     std::string fallback) {
  if (!HasFlag(*args, name_with_eq)) return fallback;
  std::string value = FlagValue(*args, name_with_eq);
  std::erase_if(*args, [&](char* a) { return std::string_view(a).starts_with(name_with_eq); });
  return value;
}

// The helper programs are built next to this executable.
std::string BesideExecutable(const char* file, const char* fallback) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    std::string dir(self);
    dir.resize(dir.rfind('/') + 1);
    std::string path = dir + file;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return fallback;
}

std::unique_ptr<benchmark::BenchmarkReporter> MakeReporter(const std::string& format, bool color) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  if (format == "csv") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
  }
  return std::make_unique<benchmark::ConsoleReporter>(
      color ? benchmark::ConsoleReporter::OO_ColorTabular : benchmark::ConsoleReporter::OO_Tabular);
}

void PrintHelp() {
  std::printf(
      "capspawn_bench: spawn+wait of a tiny static program through capspawn, a raw clone3\n"
      "spawn, posix_spawn, fork+exec and vfork+exec, with a 2 GiB heap and with 19,000 fds,\n"
      "then medians and ratios (docs/benchmarks.md).\n\n"
      "  --capspawn_bench_tiny=PATH         the static target (default: next to this program)\n"
      "  --capspawn_bench_tiny_nolibc=PATH  the no-libc target\n"
      "  --capspawn_bench_rounds=N          rounds of one pass per scenario (default 3)\n"
      "  --benchmark_out=FILE               also write every pass to FILE\n"
      "  --benchmark_out_format=json|csv|console\n\n"
      "Defaults that the command line overrides:");
  for (const char* flag : kDefaultFlags) std::printf(" %s", flag);
  std::printf("\n\nGoogle Benchmark's flags:\n");
  benchmark::PrintDefaultHelp();
}

int Main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  const std::string tiny =
      TakeFlag(&args, kTinyFlag, BesideExecutable("capspawn_bench_tiny", CAPSPAWN_BENCH_TINY));
  const std::string tiny_nolibc =
      TakeFlag(&args, kTinyNolibcFlag,
               BesideExecutable("capspawn_bench_tiny_nolibc", CAPSPAWN_BENCH_TINY_NOLIBC));
  const std::string out_path = TakeFlag(&args, kOutFlag, "");
  const std::string out_format = TakeFlag(&args, kOutFormatFlag, "json");
  const std::string rounds_text = TakeFlag(&args, kRoundsFlag, std::to_string(kDefaultRounds));
  int rounds = std::atoi(rounds_text.c_str());
  if (rounds < 1) {
    std::fprintf(stderr, "capspawn_bench: --capspawn_bench_rounds=%s: want a number >= 1\n",
                 rounds_text.c_str());
    return 1;
  }

  std::vector<std::string> defaults;
  for (const char* flag : kDefaultFlags) {
    if (!HasFlag(args, flag)) defaults.emplace_back(flag);
  }
  for (std::string& flag : defaults) args.insert(args.begin() + 1, flag.data());
  const std::string format = FlagValue(args, "--benchmark_format=");
  const std::string color = FlagValue(args, "--benchmark_color=");
  const bool listing = FlagValue(args, "--benchmark_list_tests=") == "true";

  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data(), PrintHelp);
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  const bool console = format.empty() || format == "console";
  std::unique_ptr<benchmark::BenchmarkReporter> display =
      MakeReporter(format, color == "true" || color == "yes" ||
                               ((color.empty() || color == "auto") && isatty(STDOUT_FILENO)));
  std::unique_ptr<benchmark::BenchmarkReporter> file;
  std::ofstream out_file;
  if (!out_path.empty()) {
    out_file.open(out_path, std::ios::out | std::ios::trunc);
    if (!out_file) {
      std::fprintf(stderr, "capspawn_bench: cannot open --benchmark_out=%s: %s\n", out_path.c_str(),
                   std::strerror(errno));
      return 1;
    }
    file = MakeReporter(out_format, false);
    file->SetOutputStream(&out_file);
    file->SetErrorStream(&out_file);
  }
  CollectingReporter reporter(std::move(display), std::move(file), console);
  // A pass whose scenario the filter excludes would complain that nothing
  // matched; the whole run is judged below instead.
  std::ostream discard(nullptr);
  reporter.SetErrorStream(&discard);

  SetProgramPath(Program::kTinyStatic, tiny);
  SetProgramPath(Program::kTinyNolibc, tiny_nolibc);
  if (listing) rounds = 1;
  size_t matched = 0;
  for (int round = 1; round <= rounds; ++round) {
    for (Scenario scenario : kAllScenarios) {
      // The very first pass also runs whatever BENCHMARK() registered.
      if (round > 1 || scenario != Scenario::kBaseline) benchmark::ClearRegisteredBenchmarks();
      RegisterPass(scenario);
      reporter.BeginPass("round " + std::to_string(round) + "/" + std::to_string(rounds) + ": " +
                         ScenarioName(scenario));
      matched += benchmark::RunSpecifiedBenchmarks(&reporter);
      LeaveScenario();
    }
  }
  reporter.Close();
  if (matched == 0) {
    std::fprintf(stderr, "capspawn_bench: no benchmark matches --benchmark_filter=%s\n",
                 benchmark::GetBenchmarkFilter().c_str());
    benchmark::Shutdown();
    return 1;
  }
  benchmark::Shutdown();
  if (!listing) {
    // Keep machine-readable output on stdout parseable.
    PrintSummary(console ? stdout : stderr, reporter, rounds);
  }
  return 0;
}

}  // namespace
}  // namespace capspawn_bench

int main(int argc, char** argv) { return capspawn_bench::Main(argc, argv); }
