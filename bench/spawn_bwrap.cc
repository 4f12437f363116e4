// SPDX-License-Identifier: Apache-2.0
// BM_bwrap: the tiny program through bubblewrap with /usr bound read-only,
// the reference for a sandboxing spawner. Skips (with bwrap's own message)
// where bwrap cannot create its namespaces.
#include <benchmark/benchmark.h>

#include "bwrap.h"
#include "harness.h"

namespace capspawn_bench {
namespace {

void BM_bwrap(benchmark::State& state) {
  // Built and checked on first use: main sets the program path after static
  // initialization.
  static const BwrapCommand command({"/usr"}, GetTarget(Program::kTinyStatic).path);
  static const std::string unavailable = command.Unavailable();
  if (!unavailable.empty()) {
    state.SkipWithError(unavailable.c_str());
    return;
  }
  for (auto _ : state) {
    std::string error = command.SpawnAndWait();
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
}

const int kRegistered = [] {
  AddBenchmark("BM_bwrap", BM_bwrap);
  AddSummaryRow({"BM_bwrap / capspawn", "BM_bwrap",
                 SpawnBenchmarkName("capspawn", Scenario::kBaseline), Goal{}, 300});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
