// Collects every benchmark's median while the normal reporter prints, then
// prints the summary: a method × scenario table of medians and the summary
// rows (ratios and their goals).
#ifndef CAPSPAWN_BENCH_SUMMARY_H_
#define CAPSPAWN_BENCH_SUMMARY_H_

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace capspawn_bench {

// Forwards everything to its sinks (the console or --benchmark_format
// reporter, and the --benchmark_out file reporter) and keeps, per benchmark
// name, the per-repetition times, the median aggregate, or the error it was
// skipped with. main runs one pass per scenario through it: the sinks see
// one context and one Finalize for the whole run.
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  explicit CollectingReporter(std::vector<std::unique_ptr<benchmark::BenchmarkReporter>> sinks);

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  // End of a pass: nothing to do.
  void Finalize() override {}
  // End of the run: finalizes the sinks.
  void Close();

  // Median real time per iteration in µs; false when the benchmark did not
  // run or was skipped (then *why says so).
  bool MedianMicros(const std::string& name, double* micros, std::string* why) const;
  // Names in the order they ran.
  const std::vector<std::string>& Names() const { return order_; }
  int64_t Repetitions() const { return repetitions_; }

 private:
  struct Result {
    std::vector<double> per_repetition_us;
    double median_us = -1;  // from the "median" aggregate, when there is one
    std::string error;
  };
  Result& At(const std::string& name);

  std::vector<std::unique_ptr<benchmark::BenchmarkReporter>> sinks_;
  bool context_reported_ = false;
  bool context_ok_ = true;
  std::map<std::string, Result> results_;
  std::vector<std::string> order_;
  int64_t repetitions_ = 0;
};

void PrintSummary(std::FILE* out, const CollectingReporter& results);

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_SUMMARY_H_
