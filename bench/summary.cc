// SPDX-License-Identifier: Apache-2.0
#include "summary.h"

#include <algorithm>
#include <set>
#include <string>

#include "harness.h"

namespace capspawn_bench {
namespace {

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

// "12.3", or why there is no number: "skipped", "not run", or "-" (no such
// metric).
std::string Cell(const CollectingReporter& results, const std::string& name, Metric metric) {
  double us;
  std::string why;
  if (!results.MedianMicros(name, metric, &us, &why)) {
    if (!why.empty()) return "skipped";
    // Ran, but without this metric (a benchmark that does not count CPU time).
    if (results.MedianMicros(name, Metric::kWall, &us, &why)) return "-";
    return "not run";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", us);
  return buf;
}

void PrintMedianTable(std::FILE* out, const CollectingReporter& results, Metric metric,
                      std::set<std::string>* shown) {
  std::fprintf(out, "%-20s", "method");
  for (Scenario s : kAllScenarios) std::fprintf(out, " %12s", ScenarioName(s));
  std::fprintf(out, "\n");
  for (const SpawnMethod* method : SpawnMethods()) {
    std::fprintf(out, "%-20s", method->name.c_str());
    for (Scenario s : kAllScenarios) {
      const std::string name = SpawnBenchmarkName(method->name, s);
      shown->insert(name);
      const bool registered = std::find(method->scenarios.begin(), method->scenarios.end(), s) !=
                              method->scenarios.end();
      std::fprintf(out, " %12s", registered ? Cell(results, name, metric).c_str() : "-");
    }
    std::fprintf(out, "\n");
  }
}

void PrintOthers(std::FILE* out, const CollectingReporter& results,
                 const std::set<std::string>& shown) {
  bool header = false;
  for (const std::string& name : results.Names()) {
    if (shown.count(name) != 0) continue;
    if (!header)
      std::fprintf(out, "\n%-44s %12s %12s\n", "other benchmarks (median us)", "wall", "cpu");
    header = true;
    std::fprintf(out, "%-44s %12s %12s\n", name.c_str(), Cell(results, name, Metric::kWall).c_str(),
                 Cell(results, name, Metric::kCpu).c_str());
  }
}

// The row's value for one metric, or why there is none.
bool RowValue(const CollectingReporter& results, const SummaryRow& row, Metric metric,
              double* value, std::string* why) {
  double num, den = 1, sub = 0;
  if (!results.MedianMicros(row.numerator, metric, &num, why)) return false;
  if (!row.subtrahend.empty() && !results.MedianMicros(row.subtrahend, metric, &sub, why)) {
    return false;
  }
  num -= sub;
  if (!row.denominator.empty() && !results.MedianMicros(row.denominator, metric, &den, why)) {
    return false;
  }
  if (den <= 0) return false;
  *value = num / den;
  return true;
}

void PrintRows(std::FILE* out, const CollectingReporter& results) {
  std::fprintf(out, "\n%-44s %9s  %-8s %-7s %9s\n", "summary (goals judge wall time)", "wall",
               "goal", "", "cpu");
  for (const SummaryRow& row : SummaryRows()) {
    double wall, cpu;
    std::string why, cpu_why;
    const bool have_wall = RowValue(results, row, Metric::kWall, &wall, &why);
    // CPU time misses what another process spends (the daemon's): a
    // difference of CPU times would mean nothing.
    const bool have_cpu =
        row.subtrahend.empty() && RowValue(results, row, Metric::kCpu, &cpu, &cpu_why);
    char wall_text[32], cpu_text[32];
    std::snprintf(wall_text, sizeof wall_text, have_wall ? "%.2f" : "n/a", wall);
    std::snprintf(cpu_text, sizeof cpu_text, have_cpu ? "%.2f" : "-", cpu);
    const char* verdict = !have_wall                     ? (why.empty() ? "not run" : "skipped")
                          : row.goal.kind == Goal::kNone ? ""
                          : GoalMet(row.goal, wall)      ? "met"
                                                         : "MISSED";
    std::fprintf(out, "%-44s %9s  %-8s %-7s %9s\n", row.label.c_str(), wall_text,
                 GoalText(row.goal).c_str(), verdict, cpu_text);
  }
}

void PrintSkips(std::FILE* out, const CollectingReporter& results) {
  bool header = false;
  for (const std::string& name : results.Names()) {
    double us;
    std::string why;
    if (results.MedianMicros(name, Metric::kWall, &us, &why) || why.empty()) continue;
    if (!header) std::fprintf(out, "\nskipped\n");
    header = true;
    std::fprintf(out, "  %s: %s\n", name.c_str(), why.c_str());
  }
}

}  // namespace

void PrintSummary(std::FILE* out, const CollectingReporter& results, int rounds) {
  std::fprintf(out,
               "\ncapspawn_bench summary: medians of up to %zu repetitions in %d rounds, "
               "per spawn+wait, in us\n\nwall time\n",
               results.Repetitions(), rounds);
  std::set<std::string> shown;
  PrintMedianTable(out, results, Metric::kWall, &shown);
  std::fprintf(out, "\nCPU time (this process + reaped children)\n");
  PrintMedianTable(out, results, Metric::kCpu, &shown);
  PrintOthers(out, results, shown);
  PrintRows(out, results);
  PrintSkips(out, results);
  std::fflush(out);
}

}  // namespace capspawn_bench
