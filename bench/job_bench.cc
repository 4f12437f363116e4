// SPDX-License-Identifier: Apache-2.0
// Jobs: spawning into a job (and into a DENY job) against spawning into the default job,
// and the time to kill a job tree of 1,000 processes (issue 4's closing numbers).
#include <benchmark/benchmark.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include <capspawn/job.h>
#include <capspawn/spawn.h>

#include "harness.h"

namespace capspawn_bench {
namespace {

// The bench's jobs under the default job, made on first use and destroyed at exit.
struct BenchJobs {
  std::optional<capspawn::Job> root, allow, deny;
  std::string unavailable;
};

BenchJobs& Jobs() {
  static BenchJobs* jobs = [] {
    auto* j = new BenchJobs;
    capspawn::Result<capspawn::Job> def = capspawn::Job::Default();
    if (!def.ok()) {
      j->unavailable = "no default job: " + def.error().message();
      return j;
    }
    capspawn::Result<capspawn::Job> root =
        def->CreateChild("capspawn-bench-" + std::to_string(getpid()));
    if (!root.ok()) {
      j->unavailable = "cannot create a job: " + root.error().message();
      return j;
    }
    j->root = std::move(*root);
    std::atexit([] { (void)Jobs().root->Destroy(-1); });
    capspawn::Result<capspawn::Job> allow = j->root->CreateChild("allow");
    capspawn::Result<capspawn::Job> deny = j->root->CreateChild("deny");
    if (!allow.ok() || !deny.ok()) {
      j->unavailable = "cannot create child jobs";
      return j;
    }
    capspawn::Status s = deny->SetNewProcessPolicy(capspawn::NewProcessPolicy::kDeny);
    if (!s.ok()) j->unavailable = "cannot set DENY: " + s.error().message();
    j->allow = std::move(*allow);
    j->deny = std::move(*deny);
    return j;
  }();
  return *jobs;
}

std::string SpawnInto(int job, const Target& t) {
  return CapspawnSpawnAndWait(t, job, CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_JOB);
}

// Kills a tree of 1,000 processes: /bin/sh starting 999 sleeps, then becoming one.
// Only the kill (cgroup.kill until cgroup.events says empty) is timed.
void BM_job_kill_1000(benchmark::State& state) {
  BenchJobs& jobs = Jobs();
  if (!jobs.unavailable.empty()) {
    state.SkipWithError(jobs.unavailable.c_str());
    return;
  }
  if (!EnterScenario(state, Scenario::kBaseline)) return;
  // The sleeps' parent dies with them: have the orphans come to us, to be reaped.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int round = 0;
  for (auto _ : state) {
    capspawn::Result<capspawn::Job> job = jobs.root->CreateChild("kill-" + std::to_string(round++));
    if (!job.ok()) {
      state.SkipWithError(job.error().message().c_str());
      break;
    }
    const char* argv[] = {"/bin/sh", "-c",
                          "i=0; while [ $i -lt 999 ]; do sleep 3600 & i=$((i+1)); done; "
                          "exec sleep 3600",
                          nullptr};
    int pidfd = -1;
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
    if (capspawn_spawn_etc(job->fd().get(), CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_JOB, argv[0], argv,
                           nullptr, 0, nullptr, &pidfd, err) != CAPSPAWN_OK) {
      state.SkipWithError(err);
      (void)job->Destroy(-1);
      break;
    }
    for (int waited = 0;; ++waited) {
      capspawn::Result<std::vector<pid_t>> pids = job->Processes();
      if (pids.ok() && pids->size() >= 1000) break;
      if (waited > 120000) break;  // 2 minutes: measure what there is
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto start = std::chrono::steady_clock::now();
    capspawn::Status killed = job->Kill(-1);
    auto elapsed = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
    int64_t rc = 0;
    capspawn_process_wait(pidfd, -1, &rc);
    close(pidfd);
    while (waitpid(-1, nullptr, __WALL) > 0 || errno == EINTR) {
    }
    (void)job->Destroy(-1);
    if (!killed.ok()) {
      state.SkipWithError(killed.error().message().c_str());
      break;
    }
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}
BENCHMARK(BM_job_kill_1000)
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->Unit(benchmark::kMillisecond);

const int kRegistered = [] {
  auto unavailable = [] { return Jobs().unavailable; };
  AddSpawnMethod(
      {.name = "capspawn_job",
       .order = 80,
       .scenarios = {Scenario::kBaseline},
       .unavailable = unavailable,
       .spawn_and_wait = [](const Target& t) { return SpawnInto(Jobs().allow->fd().get(), t); }});
  AddSpawnMethod(
      {.name = "capspawn_job_deny",
       .order = 81,
       .scenarios = {Scenario::kBaseline},
       .unavailable = unavailable,
       .spawn_and_wait = [](const Target& t) { return SpawnInto(Jobs().deny->fd().get(), t); }});
  const Scenario base = Scenario::kBaseline;
  AddSummaryRow({"capspawn_job / capspawn (default job)",
                 SpawnBenchmarkName("capspawn_job", base),
                 SpawnBenchmarkName("capspawn", base),
                 {Goal::kAtMost, 1.10},
                 400});
  AddSummaryRow({"capspawn_job_deny / capspawn (default job)",
                 SpawnBenchmarkName("capspawn_job_deny", base),
                 SpawnBenchmarkName("capspawn", base), Goal{}, 410});
  AddSummaryRow(
      {"BM_job_kill_1000: kill 1,000 processes (us)", "BM_job_kill_1000", "", Goal{}, 420});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
