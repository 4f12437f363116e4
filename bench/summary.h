// SPDX-License-Identifier: Apache-2.0
// The closing summary: a method × scenario table of medians, the other
// benchmarks' medians, and the summary rows (ratios and their goals).
#ifndef CAPSPAWN_BENCH_SUMMARY_H_
#define CAPSPAWN_BENCH_SUMMARY_H_

#include <cstdio>

#include "collecting_reporter.h"

namespace capspawn_bench {

void PrintSummary(std::FILE* out, const CollectingReporter& results, int rounds);

}  // namespace capspawn_bench

#endif  // CAPSPAWN_BENCH_SUMMARY_H_
