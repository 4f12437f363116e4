#include "summary.h"

#include <algorithm>
#include <set>

#include "harness.h"

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

// The benchmark's name without the decorations the library appends
// ("/real_time", "/repeats:N", aggregate suffixes).
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

std::string GoalText(const Goal& goal) {
  char buf[32];
  switch (goal.kind) {
    case Goal::kNone:
      return "";
    case Goal::kAtMost:
      std::snprintf(buf, sizeof buf, "<= %.2f", goal.value);
      return buf;
    case Goal::kAtLeast:
      std::snprintf(buf, sizeof buf, ">= %.2f", goal.value);
      return buf;
  }
  return "";
}

bool GoalMet(const Goal& goal, double value) {
  return goal.kind == Goal::kAtMost ? value <= goal.value : value >= goal.value;
}

void PrintMedianTable(std::FILE* out, const CollectingReporter& results,
                      std::set<std::string>* shown) {
  std::fprintf(out, "%-20s", "method");
  for (Scenario s : kAllScenarios) std::fprintf(out, " %12s", ScenarioName(s));
  std::fprintf(out, "\n");
  for (const SpawnMethod* method : SpawnMethods()) {
    std::fprintf(out, "%-20s", method->name.c_str());
    for (Scenario s : kAllScenarios) {
      const std::string name = SpawnBenchmarkName(method->name, s);
      shown->insert(name);
      double us;
      std::string why;
      if (results.MedianMicros(name, &us, &why)) {
        std::fprintf(out, " %12.1f", us);
      } else {
        const bool registered = std::find(method->scenarios.begin(), method->scenarios.end(), s) !=
                                method->scenarios.end();
        std::fprintf(out, " %12s", registered ? (why.empty() ? "not run" : "skipped") : "-");
      }
    }
    std::fprintf(out, "\n");
  }
}

void PrintOthers(std::FILE* out, const CollectingReporter& results,
                 const std::set<std::string>& shown) {
  bool header = false;
  for (const std::string& name : results.Names()) {
    if (shown.count(name) != 0) continue;
    if (!header) std::fprintf(out, "\nother benchmarks (median us)\n");
    header = true;
    double us;
    std::string why;
    if (results.MedianMicros(name, &us, &why)) {
      std::fprintf(out, "%-44s %12.1f\n", name.c_str(), us);
    } else {
      std::fprintf(out, "%-44s %12s\n", name.c_str(), "skipped");
    }
  }
}

void PrintRows(std::FILE* out, const CollectingReporter& results) {
  std::fprintf(out, "\n%-44s %8s  %-10s %s\n", "summary", "value", "goal", "");
  for (const SummaryRow& row : SummaryRows()) {
    double num, den = 1;
    std::string why;
    bool ok = results.MedianMicros(row.numerator, &num, &why);
    if (ok && !row.denominator.empty()) ok = results.MedianMicros(row.denominator, &den, &why);
    const std::string label = row.denominator.empty() ? row.label + " (us)" : row.label;
    if (!ok || den <= 0) {
      std::fprintf(out, "%-44s %8s  %-10s %s\n", label.c_str(), "n/a", GoalText(row.goal).c_str(),
                   why.empty() ? "(not run)" : "(skipped)");
      continue;
    }
    const double value = num / den;
    const char* verdict =
        row.goal.kind == Goal::kNone ? "" : (GoalMet(row.goal, value) ? "met" : "MISSED");
    std::fprintf(out, "%-44s %8.2f  %-10s %s\n", label.c_str(), value, GoalText(row.goal).c_str(),
                 verdict);
  }
}

void PrintSkips(std::FILE* out, const CollectingReporter& results) {
  bool header = false;
  for (const std::string& name : results.Names()) {
    double us;
    std::string why;
    if (results.MedianMicros(name, &us, &why) || why.empty()) continue;
    if (!header) std::fprintf(out, "\nskipped\n");
    header = true;
    std::fprintf(out, "  %s: %s\n", name.c_str(), why.c_str());
  }
}

}  // namespace

CollectingReporter::CollectingReporter(
    std::vector<std::unique_ptr<benchmark::BenchmarkReporter>> sinks)
    : sinks_(std::move(sinks)) {}

bool CollectingReporter::ReportContext(const Context& context) {
  if (!context_reported_) {
    for (auto& sink : sinks_) context_ok_ = sink->ReportContext(context) && context_ok_;
    context_reported_ = true;
  }
  return context_ok_;
}

void CollectingReporter::Close() {
  if (!context_reported_) return;
  for (auto& sink : sinks_) sink->Finalize();
}

CollectingReporter::Result& CollectingReporter::At(const std::string& name) {
  auto [it, inserted] = results_.try_emplace(name);
  if (inserted) order_.push_back(name);
  return it->second;
}

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (auto& sink : sinks_) sink->ReportRuns(runs);
  for (const Run& run : runs) {
    Result& result = At(BaseName(run));
    repetitions_ = std::max(repetitions_, run.repetitions);
    if (run.error_occurred) {
      result.error = run.error_message;
      continue;
    }
    const double us = ToMicros(run.GetAdjustedRealTime(), run.time_unit);
    if (run.run_type == Run::RT_Aggregate) {
      if (run.aggregate_name == "median") result.median_us = us;
    } else {
      result.per_repetition_us.push_back(us);
    }
  }
}

bool CollectingReporter::MedianMicros(const std::string& name, double* micros,
                                      std::string* why) const {
  auto it = results_.find(name);
  if (it == results_.end()) {
    *why = "";
    return false;
  }
  const Result& r = it->second;
  if (!r.error.empty()) {
    *why = r.error;
    return false;
  }
  if (r.median_us >= 0) {
    *micros = r.median_us;
  } else if (!r.per_repetition_us.empty()) {
    *micros = Median(r.per_repetition_us);
  } else {
    *why = "";
    return false;
  }
  return true;
}

void PrintSummary(std::FILE* out, const CollectingReporter& results) {
  std::fprintf(out,
               "\ncapspawn_bench summary: median wall time per spawn+wait in us "
               "(median of %lld repetitions)\n",
               static_cast<long long>(results.Repetitions()));
  std::set<std::string> shown;
  PrintMedianTable(out, results, &shown);
  PrintOthers(out, results, shown);
  PrintRows(out, results);
  PrintSkips(out, results);
  std::fflush(out);
}

}  // namespace capspawn_bench
