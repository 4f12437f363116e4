// The launcher (issue 6's closing numbers): the same spawn+wait of the static
// target in-process and through a capspawn-launcherd started for the run, and
// launches per second with 1 and 4 concurrent clients.
#include <capspawn/spawn.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "launcher/client_internal.h"

extern char** environ;

namespace capspawn_bench {
namespace {

// One daemon for the whole run, started on first use and stopped at exit.
struct Daemon {
  std::string socket;
  std::string unavailable;
  pid_t pid = -1;
};

Daemon& GetDaemon() {
  static Daemon* d = [] {
    auto* d = new Daemon;
    char dir[] = "/tmp/capspawn-bench-launcherd.XXXXXX";
    if (!mkdtemp(dir)) {
      d->unavailable = "mkdtemp failed";
      return d;
    }
    d->socket = std::string(dir) + "/launcher.sock";
    int ready[2];
    if (pipe(ready) != 0) {
      d->unavailable = "pipe failed";
      return d;
    }
    std::string daemon = CAPSPAWN_BENCH_LAUNCHERD;
    std::vector<std::string> args = {daemon, "--socket", d->socket, "--quiet", "--ready-fd", "3"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (ready[0] != 3) posix_spawn_file_actions_addclose(&fa, ready[0]);
    posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
    int r = posix_spawn(&d->pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(ready[1]);
    char buf[16] = {};
    if (r != 0 || read(ready[0], buf, sizeof buf) <= 0) {
      d->unavailable = "capspawn-launcherd (" + daemon + ") did not start";
    }
    close(ready[0]);
    std::atexit([] {
      Daemon& d = GetDaemon();
      if (d.pid > 0) {
        kill(d.pid, SIGTERM);
        waitpid(d.pid, nullptr, 0);
      }
    });
    return d;
  }();
  return *d;
}

// What capspawn_spawn_etc does when CAPSPAWN_LAUNCHER names the socket
// (setting the variable would route the other methods through it too).
std::string ViaLauncher(const Target& t) {
  int pidfd = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
  capspawn_status_t status = capspawn::launcher_internal::SpawnViaLauncher(
      GetDaemon().socket.c_str(), -1, CAPSPAWN_CLONE_ALL, false, t.path, -1, t.argv, nullptr, 0,
      nullptr, &pidfd, err);
  if (status != CAPSPAWN_OK) {
    return std::string("spawn via the launcher: ") + capspawn_status_string(status) + ": " + err;
  }
  int64_t rc = -1;
  status = capspawn_process_wait(pidfd, -1, &rc);
  close(pidfd);
  if (status != CAPSPAWN_OK) return std::string("wait: ") + capspawn_status_string(status);
  return rc == 0 ? "" : "the spawned program returned " + std::to_string(rc);
}

constexpr int kLaunchesPerIteration = 16;

// kLaunchesPerIteration launches spread over `clients` threads, each its own
// client (its own connection to the daemon). With `in_process`, the same
// spawns made in-process: the host's own ceiling for parallel spawning, the
// control for the launcher's ratio.
void Throughput(benchmark::State& state, int clients, bool in_process = false) {
  if (!in_process && !GetDaemon().unavailable.empty()) {
    state.SkipWithError(GetDaemon().unavailable.c_str());
    return;
  }
  const Target& t = GetTarget(Program::kTinyStatic);
  auto one = [&t, in_process] {
    return in_process ? CapspawnSpawnAndWait(t, -1, CAPSPAWN_CLONE_ALL) : ViaLauncher(t);
  };
  for (auto _ : state) {
    std::vector<std::thread> threads;
    std::vector<std::string> errors(static_cast<size_t>(clients));
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        for (int i = 0; i < kLaunchesPerIteration / clients && errors[c].empty(); ++i) {
          errors[c] = one();
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (const std::string& e : errors) {
      if (!e.empty()) {
        state.SkipWithError(e.c_str());
        return;
      }
    }
  }
  state.counters["launches/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kLaunchesPerIteration, benchmark::Counter::kIsRate);
}

const int kRegistered = [] {
  AddSpawnMethod({.name = "capspawn_launcher",
                  .order = 80,
                  .scenarios = {Scenario::kBaseline},
                  .unavailable = [] { return GetDaemon().unavailable; },
                  .spawn_and_wait = ViaLauncher});
  AddBenchmark("launcher/16_launches/1_client", [](benchmark::State& s) { Throughput(s, 1); });
  AddBenchmark("launcher/16_launches/4_clients", [](benchmark::State& s) { Throughput(s, 4); });
  AddBenchmark("launcher/16_launches/1_thread_in_process",
               [](benchmark::State& s) { Throughput(s, 1, true); });
  AddBenchmark("launcher/16_launches/4_threads_in_process",
               [](benchmark::State& s) { Throughput(s, 4, true); });
  AddSummaryRow({"capspawn via launcher / capspawn in-process",
                 SpawnBenchmarkName("capspawn_launcher", Scenario::kBaseline),
                 SpawnBenchmarkName("capspawn", Scenario::kBaseline),
                 {Goal::kAtMost, 1.3},
                 400});
  AddSummaryRow({"launches/s, 4 clients / 1 client",
                 "launcher/16_launches/1_client",
                 "launcher/16_launches/4_clients",
                 {Goal::kAtLeast, 1.6},
                 410});
  AddSummaryRow({"control: in-process spawns/s, 4 threads / 1",
                 "launcher/16_launches/1_thread_in_process",
                 "launcher/16_launches/4_threads_in_process", Goal{}, 411});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
