// SPDX-License-Identifier: Apache-2.0
// The reporter main hands to Google Benchmark: it shows a short console
// report, writes the --benchmark_out file, and keeps every benchmark's
// times for the summary.
#ifndef CAPSPAWN_BENCH_COLLECTING_REPORTER_H_
#define CAPSPAWN_BENCH_COLLECTING_REPORTER_H_

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace capspawn_bench {

enum class Metric {
  kWall,  // real time per iteration
  kCpu,   // the kCpuCounter counter: CPU time of this process and its reaped children
};

// main runs many passes through one CollectingReporter; its sinks see one
// context and one Finalize for the whole run.
//  - `display` (console, or --benchmark_format's reporter) gets one line
//    per benchmark and pass: the median of the pass's repetitions (or the
//    single run when there are no repetitions), and a skipped benchmark's
//    error once.
//  - `file` (--benchmark_out; may be null) gets every run.
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  CollectingReporter(std::unique_ptr<benchmark::BenchmarkReporter> display,
                     std::unique_ptr<benchmark::BenchmarkReporter> file, bool console);

  // Names the next pass; the console shows it as a separator line.
  void BeginPass(std::string label) { pass_label_ = std::move(label); }
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  // End of a pass: nothing to do.
  void Finalize() override {}
  // End of the run: finalizes the sinks.
  void Close();

  // The median per iteration over every repetition of every pass, in µs.
  // False when the benchmark did not run, was skipped (then *why holds its
  // error; empty when it did not run) or has no such metric.
  bool MedianMicros(const std::string& name, Metric metric, double* micros, std::string* why) const;
  // Names in the order they first ran.
  const std::vector<std::string>& Names() const { return order_; }
  // The largest number of repetitions any benchmark had, over all passes.
  size_t Repetitions() const;

 private:
  struct Samples {
    std::vector<double> per_repetition_us;
    std::vector<double> pass_medians_us;  // when only aggregates were reported
  };
  struct Result {
    Samples wall, cpu;
    std::string error;
  };
  Result& At(const std::string& name);

  std::unique_ptr<benchmark::BenchmarkReporter> display_;
  std::unique_ptr<benchmark::BenchmarkReporter> file_;
  bool console_;
  std::string pass_label_;
  bool context_reported_ = false;
  bool context_ok_ = true;
  std::map<std::string, Result> results_;
  std::vector<std::string> order_;
  std::set<std::string> errors_shown_;
};

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_COLLECTING_REPORTER_H_
