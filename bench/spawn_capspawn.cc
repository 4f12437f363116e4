// SPDX-License-Identifier: Apache-2.0
// capspawn's fast path through the public C API, and the summary rows that
// hold it to DESIGN §3 (issue 2's goals).
#include <capspawn/spawn.h>
#include <unistd.h>

#include <string>

#include "harness.h"

namespace capspawn_bench {

std::string WaitAndClose(int pidfd) {
  int64_t return_code = -1;
  capspawn_status_t status = capspawn_process_wait(pidfd, -1, &return_code);
  close(pidfd);
  if (status != CAPSPAWN_OK) {
    return std::string("capspawn_process_wait: ") + capspawn_status_string(status);
  }
  return return_code == 0 ? "" : "the spawned program returned " + std::to_string(return_code);
}

std::string CapspawnSpawnAndWait(const Target& t, int job, uint32_t flags, const char* const* envp,
                                 size_t action_count, const capspawn_action_t* actions) {
  int pidfd = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
  capspawn_status_t status =
      capspawn_spawn_etc(job, flags, t.path, t.argv, envp, action_count, actions, &pidfd, err);
  if (status != CAPSPAWN_OK) {
    return std::string("capspawn_spawn_etc: ") + capspawn_status_string(status) + ": " + err;
  }
  return WaitAndClose(pidfd);
}

namespace {

std::string CapspawnSpawn(const Target& t) {
  return CapspawnSpawnAndWait(t, -1, CAPSPAWN_CLONE_ALL);
}

std::string Name(const char* method, Scenario scenario) {
  return SpawnBenchmarkName(method, scenario);
}

const int kRegistered = [] {
  AddSpawnMethod({.name = "capspawn", .order = 10, .spawn_and_wait = CapspawnSpawn});
  AddSpawnMethod({.name = "capspawn_nolibc",
                  .order = 70,
                  .program = Program::kTinyNolibc,
                  .scenarios = {Scenario::kBaseline},
                  .spawn_and_wait = CapspawnSpawn});

  constexpr Goal kNoGoal{};
  const Scenario base = Scenario::kBaseline;
  const Scenario heap = Scenario::kHeap2GiB;
  const Scenario fds = Scenario::kFds19k;
  AddSummaryRow({"capspawn / raw_clone3",
                 Name("capspawn", base),
                 Name("raw_clone3", base),
                 {Goal::kAtMost, 1.10},
                 100});
  AddSummaryRow({"capspawn / posix_spawn",
                 Name("capspawn", base),
                 Name("posix_spawn", base),
                 {Goal::kAtMost, 0.80},
                 110});
  AddSummaryRow(
      {"capspawn / fork_exec", Name("capspawn", base), Name("fork_exec", base), kNoGoal, 120});
  AddSummaryRow(
      {"capspawn / vfork_exec", Name("capspawn", base), Name("vfork_exec", base), kNoGoal, 130});
  AddSummaryRow({"capspawn heap_2GiB / capspawn baseline",
                 Name("capspawn", heap),
                 Name("capspawn", base),
                 {Goal::kAtMost, 1.20},
                 140});
  AddSummaryRow({"capspawn fds_19k / capspawn baseline",
                 Name("capspawn", fds),
                 Name("capspawn", base),
                 {Goal::kAtMost, 1.20},
                 150});
  // Context for the goals: the same comparisons inside each scenario.
  AddSummaryRow({"capspawn / raw_clone3 (heap_2GiB)", Name("capspawn", heap),
                 Name("raw_clone3", heap), kNoGoal, 160});
  AddSummaryRow({"capspawn / raw_clone3 (fds_19k)", Name("capspawn", fds), Name("raw_clone3", fds),
                 kNoGoal, 170});
  AddSummaryRow({"capspawn / posix_spawn (heap_2GiB)", Name("capspawn", heap),
                 Name("posix_spawn", heap), kNoGoal, 180});
  AddSummaryRow({"capspawn / posix_spawn (fds_19k)", Name("capspawn", fds),
                 Name("posix_spawn", fds), kNoGoal, 190});
  AddSummaryRow({"capspawn / fork_exec (heap_2GiB)", Name("capspawn", heap),
                 Name("fork_exec", heap), kNoGoal, 200});
  AddSummaryRow({"capspawn_nolibc / raw_clone3_nolibc", Name("capspawn_nolibc", base),
                 Name("raw_clone3_nolibc", base), kNoGoal, 210});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
