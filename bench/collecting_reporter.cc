// SPDX-License-Identifier: Apache-2.0
#include "collecting_reporter.h"

#include <algorithm>
#include <ostream>

#include "cpu_meter.h"

namespace capspawn_bench {
namespace {

double ToMicros(double value, benchmark::TimeUnit unit) {
  switch (unit) {
    case benchmark::kNanosecond:
      return value / 1e3;
    case benchmark::kMicrosecond:
      return value;
    case benchmark::kMillisecond:
      return value * 1e3;
    case benchmark::kSecond:
      return value * 1e6;
  }
  return value;
}

// The benchmark's name without what the library appends ("/real_time",
// "/repeats:N", the aggregate suffixes).
std::string BaseName(const benchmark::BenchmarkReporter::Run& run) {
  std::string name = run.run_name.function_name;
  if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
  if (!run.run_name.threads.empty()) name += "/" + run.run_name.threads;
  return name;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

CollectingReporter::CollectingReporter(std::unique_ptr<benchmark::BenchmarkReporter> display,
                                       std::unique_ptr<benchmark::BenchmarkReporter> file,
                                       bool console)
    : display_(std::move(display)), file_(std::move(file)), console_(console) {}

bool CollectingReporter::ReportContext(const Context& context) {
  if (!context_reported_) {
    context_ok_ = display_->ReportContext(context);
    if (file_ != nullptr) context_ok_ = file_->ReportContext(context) && context_ok_;
    context_reported_ = true;
  }
  if (console_ && !pass_label_.empty()) {
    display_->GetOutputStream() << "-- " << pass_label_ << "\n";
  }
  return context_ok_;
}

void CollectingReporter::Close() {
  if (!context_reported_) return;
  display_->Finalize();
  if (file_ != nullptr) file_->Finalize();
}

CollectingReporter::Result& CollectingReporter::At(const std::string& name) {
  auto [it, inserted] = results_.try_emplace(name);
  if (inserted) order_.push_back(name);
  return it->second;
}

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  if (file_ != nullptr) file_->ReportRuns(runs);
  std::vector<Run> shown;
  for (const Run& run : runs) {
    const std::string name = BaseName(run);
    Result& result = At(name);
    if (run.error_occurred) {
      result.error = run.error_message;
      if (errors_shown_.insert(name).second) shown.push_back(run);
      continue;
    }
    const double wall_us = ToMicros(run.GetAdjustedRealTime(), run.time_unit);
    auto cpu = run.counters.find(kCpuCounter);
    if (run.run_type == Run::RT_Aggregate) {
      if (run.aggregate_name != "median") continue;
      result.wall.pass_medians_us.push_back(wall_us);
      if (cpu != run.counters.end()) result.cpu.pass_medians_us.push_back(cpu->second.value);
      shown.push_back(run);
    } else {
      result.wall.per_repetition_us.push_back(wall_us);
      if (cpu != run.counters.end()) result.cpu.per_repetition_us.push_back(cpu->second.value);
      if (run.repetitions <= 1) shown.push_back(run);
    }
  }
  if (!shown.empty()) display_->ReportRuns(shown);
}

bool CollectingReporter::MedianMicros(const std::string& name, Metric metric, double* micros,
                                      std::string* why) const {
  why->clear();
  auto it = results_.find(name);
  if (it == results_.end()) return false;
  const Result& r = it->second;
  if (!r.error.empty()) {
    *why = r.error;
    return false;
  }
  const Samples& samples = metric == Metric::kWall ? r.wall : r.cpu;
  if (!samples.per_repetition_us.empty()) {
    *micros = Median(samples.per_repetition_us);
  } else if (!samples.pass_medians_us.empty()) {
    *micros = Median(samples.pass_medians_us);
  } else {
    return false;
  }
  return true;
}

size_t CollectingReporter::Repetitions() const {
  size_t n = 0;
  for (const auto& [name, r] : results_) n = std::max(n, r.wall.per_repetition_us.size());
  return n;
}

}  // namespace capspawn_bench
