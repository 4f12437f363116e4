// SPDX-License-Identifier: Apache-2.0
// Registries of spawn methods, other benchmarks and summary rows; the
// benchmark body every spawn method shares; one pass's registration.
#include "harness.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>

#include "cpu_meter.h"

namespace capspawn_bench {
namespace {

// Function-local statics: methods register from static initializers in other
// translation units, whose order is unspecified.
std::vector<std::unique_ptr<SpawnMethod>>& MethodRegistry() {
  static std::vector<std::unique_ptr<SpawnMethod>> methods;
  return methods;
}

struct ExtraBenchmark {
  std::string name;
  std::function<void(benchmark::State&)> body;
  Scenario scenario;
};

std::vector<std::unique_ptr<ExtraBenchmark>>& ExtraRegistry() {
  static std::vector<std::unique_ptr<ExtraBenchmark>> extras;
  return extras;
}

std::vector<SummaryRow>& RowRegistry() {
  static std::vector<SummaryRow> rows;
  return rows;
}

struct ProgramSlot {
  std::string path;
  std::array<char*, 2> argv{};
  Target target{};
};

ProgramSlot& Slot(Program program) {
  static ProgramSlot slots[2];
  return slots[program == Program::kTinyStatic ? 0 : 1];
}

// The availability answer is computed once per method: some checks spawn a
// process (bwrap) and must not run inside the timed loop.
const std::string& Unavailable(const SpawnMethod& method) {
  static std::map<const SpawnMethod*, std::string> answers;
  auto it = answers.find(&method);
  if (it == answers.end()) {
    it = answers.emplace(&method, method.unavailable ? method.unavailable() : "").first;
  }
  return it->second;
}

void RunSpawn(benchmark::State& state, const SpawnMethod& method, Scenario scenario) {
  if (const std::string& why = Unavailable(method); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const Target& target = GetTarget(method.program);
  if (target.path == nullptr || target.path[0] == '\0') {
    state.SkipWithError("the target program was not built for this architecture");
    return;
  }
  if (!EnterScenario(state, scenario)) return;
  CpuMeter cpu;
  for (auto _ : state) {
    std::string error = method.spawn_and_wait(target);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  cpu.Report(state);
}

}  // namespace

const char* ScenarioName(Scenario scenario) {
  switch (scenario) {
    case Scenario::kBaseline:
      return "baseline";
    case Scenario::kHeap2GiB:
      return "heap_2GiB";
    case Scenario::kFds19k:
      return "fds_19k";
  }
  return "unknown";
}

void SetProgramPath(Program program, std::string path) {
  ProgramSlot& slot = Slot(program);
  slot.path = std::move(path);
  slot.argv = {slot.path.data(), nullptr};
  slot.target = Target{slot.path.c_str(), slot.argv.data(), environ};
}

const Target& GetTarget(Program program) { return Slot(program).target; }

int AddSpawnMethod(SpawnMethod method) {
  MethodRegistry().push_back(std::make_unique<SpawnMethod>(std::move(method)));
  return 0;
}

std::string SpawnBenchmarkName(std::string_view method, Scenario scenario) {
  return "spawn/" + std::string(method) + "/" + ScenarioName(scenario);
}

std::vector<const SpawnMethod*> SpawnMethods() {
  std::vector<const SpawnMethod*> methods;
  for (const auto& m : MethodRegistry()) methods.push_back(m.get());
  std::stable_sort(methods.begin(), methods.end(),
                   [](const SpawnMethod* a, const SpawnMethod* b) { return a->order < b->order; });
  return methods;
}

int AddBenchmark(std::string name, std::function<void(benchmark::State&)> body, Scenario scenario) {
  ExtraRegistry().push_back(
      std::make_unique<ExtraBenchmark>(ExtraBenchmark{std::move(name), std::move(body), scenario}));
  return 0;
}

void RegisterPass(Scenario scenario) {
  for (const SpawnMethod* method : SpawnMethods()) {
    if (std::find(method->scenarios.begin(), method->scenarios.end(), scenario) ==
        method->scenarios.end()) {
      continue;
    }
    benchmark::RegisterBenchmark(
        SpawnBenchmarkName(method->name, scenario).c_str(),
        [method, scenario](benchmark::State& state) { RunSpawn(state, *method, scenario); })
        // The work happens in the child and the kernel: only wall time means anything.
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (const auto& extra : ExtraRegistry()) {
    if (extra->scenario != scenario) continue;
    const ExtraBenchmark* e = extra.get();
    benchmark::RegisterBenchmark(e->name.c_str(),
                                 [e](benchmark::State& state) {
                                   if (!EnterScenario(state, e->scenario)) return;
                                   CpuMeter cpu;
                                   e->body(state);
                                   cpu.Report(state);
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

int AddSummaryRow(SummaryRow row) {
  RowRegistry().push_back(std::move(row));
  return 0;
}

std::vector<SummaryRow> SummaryRows() {
  std::vector<SummaryRow> rows = RowRegistry();
  std::stable_sort(rows.begin(), rows.end(),
                   [](const SummaryRow& a, const SummaryRow& b) { return a.order < b.order; });
  return rows;
}

}  // namespace capspawn_bench
