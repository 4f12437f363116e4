// SPDX-License-Identifier: Apache-2.0
// Creating a process without starting it, then starting it, against a plain
// spawn of the same static target in the same run (issue 5's goal: <= 3x).
// The extra cost is the exec stop: ptrace, reading registers and auxv,
// opening /proc/PID/mem, the detach into a group stop, and SIGCONT.
#include <capspawn/process_builder.h>
#include <capspawn/spawn.h>
#include <capspawn/start.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.h"

namespace capspawn_bench {
namespace {

// capspawn_spawn_etc, flags 0, no namespace entries: the empty private root
// ProcessBuilder gives too, so the two differ only in the build/start steps.
std::string SpawnEmptyNamespace(const Target& t) { return CapspawnSpawnAndWait(t, -1, 0, t.envp); }

std::string BuilderBuildStart(const Target& t) {
  capspawn::ProcessBuilder b("bench", -1, capspawn::UniqueFd(open(t.path, O_RDONLY | O_CLOEXEC)));
  std::vector<std::string> args, env;
  for (char* const* a = t.argv; *a; ++a) args.emplace_back(*a);
  for (char* const* e = t.envp; e && *e; ++e) env.emplace_back(*e);
  b.add_arguments(std::move(args));
  b.add_environment_variables(std::move(env));
  capspawn::Result<capspawn::BuiltProcess> built = b.build();
  if (!built.ok()) return "build: " + built.error().message();
  capspawn::Status started = built->start();
  if (!started.ok()) return "start: " + started.error().message();
  return WaitAndClose(built->process.release());
}

std::string CreateWithoutStartingThenStart(const Target& t) {
  capspawn_start_data_t data;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
  capspawn_status_t status = capspawn_create_without_starting(
      -1, CAPSPAWN_CLONE_ALL, t.path, -1, t.argv, nullptr, 0, nullptr, &data, err);
  if (status != CAPSPAWN_OK) {
    return std::string("capspawn_create_without_starting: ") + capspawn_status_string(status) +
           ": " + err;
  }
  close(data.root_vmar);
  status = capspawn_start(data.process);
  if (status != CAPSPAWN_OK) {
    capspawn_process_kill(data.process);
    WaitAndClose(data.process);
    return std::string("capspawn_start: ") + capspawn_status_string(status);
  }
  return WaitAndClose(data.process);
}

const int kRegistered = [] {
  const std::vector<Scenario> base_only = {Scenario::kBaseline};
  AddSpawnMethod({.name = "capspawn_empty_ns",
                  .order = 80,
                  .scenarios = base_only,
                  .spawn_and_wait = SpawnEmptyNamespace});
  AddSpawnMethod({.name = "builder",
                  .order = 81,
                  .scenarios = base_only,
                  .spawn_and_wait = BuilderBuildStart});
  AddSpawnMethod({.name = "create_start",
                  .order = 82,
                  .scenarios = base_only,
                  .spawn_and_wait = CreateWithoutStartingThenStart});
  const Scenario base = Scenario::kBaseline;
  AddSummaryRow({"builder build+start / capspawn (same empty namespace)",
                 SpawnBenchmarkName("builder", base),
                 SpawnBenchmarkName("capspawn_empty_ns", base),
                 {Goal::kAtMost, 3.0},
                 300});
  AddSummaryRow({"create_without_starting+start / capspawn (CLONE_ALL)",
                 SpawnBenchmarkName("create_start", base),
                 SpawnBenchmarkName("capspawn", base),
                 {Goal::kAtMost, 3.0},
                 310});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
