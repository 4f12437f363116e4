// capspawn_bench: spawn+wait of a tiny static program through capspawn and
// the usual alternatives, in three parent states, then a summary of medians
// and ratios. See docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness.h"
#include "summary.h"

namespace capspawn_bench {
namespace {

// Defaults chosen for a noisy 2-core machine: many short repetitions, judged
// by their median. Any of them given on the command line wins.
constexpr const char* kDefaultFlags[] = {
    "--benchmark_repetitions=12",
    "--benchmark_min_time=0.2",
    "--benchmark_display_aggregates_only=true",
};

constexpr std::string_view kTinyFlag = "--capspawn_bench_tiny=";
constexpr std::string_view kTinyNolibcFlag = "--capspawn_bench_tiny_nolibc=";

bool HasFlag(const std::vector<char*>& args, std::string_view flag_with_eq) {
  std::string_view name = flag_with_eq.substr(0, flag_with_eq.find('=') + 1);
  for (char* arg : args) {
    if (std::string_view(arg).starts_with(name)) return true;
  }
  return false;
}

std::string FlagValue(const std::vector<char*>& args, std::string_view name_with_eq) {
  std::string value;
  for (char* arg : args) {
    std::string_view a(arg);
    if (a.starts_with(name_with_eq)) value = a.substr(name_with_eq.size());
  }
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

std::unique_ptr<benchmark::BenchmarkReporter> MakeInnerReporter(const std::string& format,
                                                                const std::string& color) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  if (format == "csv") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
  }
  const bool use_color = color == "true" || color == "yes" ||
                         ((color.empty() || color == "auto") && isatty(STDOUT_FILENO));
  return std::make_unique<benchmark::ConsoleReporter>(
      use_color ? benchmark::ConsoleReporter::OO_ColorTabular
                : benchmark::ConsoleReporter::OO_Tabular);
}

int Main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  std::string tiny = BesideExecutable("capspawn_bench_tiny", CAPSPAWN_BENCH_TINY);
  std::string tiny_nolibc =
      BesideExecutable("capspawn_bench_tiny_nolibc", CAPSPAWN_BENCH_TINY_NOLIBC);
  if (HasFlag(args, kTinyFlag)) tiny = FlagValue(args, kTinyFlag);
  if (HasFlag(args, kTinyNolibcFlag)) tiny_nolibc = FlagValue(args, kTinyNolibcFlag);
  std::erase_if(args, [](char* a) {
    std::string_view s(a);
    return s.starts_with(kTinyFlag) || s.starts_with(kTinyNolibcFlag);
  });

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
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  SetProgramPath(Program::kTinyStatic, tiny);
  SetProgramPath(Program::kTinyNolibc, tiny_nolibc);
  RegisterSpawnBenchmarks();

  CollectingReporter reporter(MakeInnerReporter(format, color));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  LeaveScenario();
  if (!listing) {
    // Keep machine-readable output on stdout parseable.
    PrintSummary(format.empty() || format == "console" ? stdout : stderr, reporter);
  }
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace capspawn_bench

int main(int argc, char** argv) { return capspawn_bench::Main(argc, argv); }
