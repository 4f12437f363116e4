// SPDX-License-Identifier: Apache-2.0
// The launcher: the same spawn+wait of the static targets (glibc and
// libc-free) in-process and through a capspawn-launcherd started for the
// run, its overhead per launch against the floor of any launcher (one
// SEQPACKET round trip with an fd each way, seqpacket_floor.cc), and
// launches per second with 1, 2 and 4 concurrent clients against the same
// spawns made in-process on as many threads.
#include <capspawn/spawn.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <barrier>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "launcher/client_internal.h"

extern char** environ;

namespace capspawn_bench {
namespace {

// Starts argv[0] with ready_w as its fd 3, so that it gets SIGTERM when this
// process dies, also of a signal (when no atexit handler runs). The parent
// death signal follows the thread that forked, not the process, so a thread
// that lives as long as the process forks it.
pid_t StartTied(char** argv, int ready_r, int ready_w) {
  std::promise<pid_t> started;
  std::thread([&started, argv, ready_r, ready_w] {
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {  // only async-signal-safe calls until execve
      if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
      if (ready_r != 3) close(ready_r);
      if (ready_w != 3 && dup2(ready_w, 3) != 3) _exit(127);
      execve(argv[0], argv, environ);
      _exit(127);
    }
    started.set_value(pid);
    for (;;) pause();
  }).detach();
  return started.get_future().get();
}

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
    d->pid = StartTied(argv.data(), ready[0], ready[1]);
    close(ready[1]);
    char buf[16] = {};
    if (d->pid < 0 || read(ready[0], buf, sizeof buf) <= 0) {
      d->unavailable = "capspawn-launcherd (" + daemon + ") did not start";
    }
    close(ready[0]);
    std::atexit([] {
      Daemon& d = GetDaemon();
      if (d.pid > 0) {
        kill(d.pid, SIGTERM);
        waitpid(d.pid, nullptr, 0);
      }
      // The daemon removed its socket; the directory is ours.
      if (!d.socket.empty()) rmdir(d.socket.substr(0, d.socket.rfind('/')).c_str());
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
// client (its own connection to the daemon). The threads, and so their
// connections, live for the whole benchmark, as a build system's or a
// supervisor's clients do: what is measured is launches, not connecting
// (a thread per iteration measured a new connection, and so a new worker,
// every 16 / clients launches). With `in_process`, the same spawns made
// in-process on as many threads: the host's own ceiling for parallel
// spawning, the control for the launcher's ratio.
void Throughput(benchmark::State& state, int clients, bool in_process = false) {
  if (!in_process && !GetDaemon().unavailable.empty()) {
    state.SkipWithError(GetDaemon().unavailable.c_str());
    return;
  }
  const Target& t = GetTarget(Program::kTinyStatic);
  auto one = [&t, in_process] {
    return in_process ? CapspawnSpawnAndWait(t, -1, CAPSPAWN_CLONE_ALL) : ViaLauncher(t);
  };
  std::barrier go(clients + 1);
  std::barrier done(clients + 1);
  bool stop = false;  // written before `go`, read after it
  std::vector<std::string> errors(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      while (true) {
        go.arrive_and_wait();
        if (stop) return;
        for (int i = 0; i < kLaunchesPerIteration / clients && errors[c].empty(); ++i) {
          errors[c] = one();
        }
        done.arrive_and_wait();
      }
    });
  }
  std::string failed;
  for (auto _ : state) {
    go.arrive_and_wait();
    done.arrive_and_wait();
    for (const std::string& e : errors) {
      if (!e.empty()) failed = e;
    }
    if (!failed.empty()) break;
  }
  stop = true;
  go.arrive_and_wait();
  for (std::thread& th : threads) th.join();
  if (!failed.empty()) {
    state.SkipWithError(failed.c_str());
    return;
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
  AddSpawnMethod({.name = "capspawn_launcher_nolibc",
                  .order = 81,
                  .program = Program::kTinyNolibc,
                  .scenarios = {Scenario::kBaseline},
                  .unavailable = [] { return GetDaemon().unavailable; },
                  .spawn_and_wait = ViaLauncher});
  for (int n : {1, 2, 4}) {
    const std::string clients = std::to_string(n) + (n == 1 ? "_client" : "_clients");
    const std::string threads = std::to_string(n) + (n == 1 ? "_thread" : "_threads");
    AddBenchmark("launcher/16_launches/" + clients, [n](benchmark::State& s) { Throughput(s, n); });
    AddBenchmark("launcher/16_launches/" + threads + "_in_process",
                 [n](benchmark::State& s) { Throughput(s, n, true); });
  }
  const std::string via = SpawnBenchmarkName("capspawn_launcher", Scenario::kBaseline);
  const std::string in = SpawnBenchmarkName("capspawn", Scenario::kBaseline);
  const std::string via_nolibc =
      SpawnBenchmarkName("capspawn_launcher_nolibc", Scenario::kBaseline);
  const std::string in_nolibc = SpawnBenchmarkName("capspawn_nolibc", Scenario::kBaseline);
  const std::string floor = "launcher/floor/seqpacket_round_trip_1fd";
  AddSummaryRow(
      {"capspawn via launcher / capspawn in-process", via, in, {Goal::kAtMost, 1.12}, 400});
  AddSummaryRow({"the same, libc-free target", via_nolibc, in_nolibc, {Goal::kAtMost, 1.35}, 401});
  AddSummaryRow({"launcher overhead per launch, us", via, "", {Goal::kAtMost, 100}, 402, in});
  AddSummaryRow(
      {"the same, libc-free target, us", via_nolibc, "", {Goal::kAtMost, 100}, 403, in_nolibc});
  AddSummaryRow({"floor: SEQPACKET round trip, 1 fd each way, us", floor, "", Goal{}, 404});
  AddSummaryRow({"launcher overhead / floor", via, floor, Goal{}, 405, in});
  AddSummaryRow({"the same, libc-free target", via_nolibc, floor, Goal{}, 406, in_nolibc});
  // Throughput ratios: the time of 16 in-process spawns over the time of 16
  // launches at the same concurrency (launcher launches/s / in-process).
  int order = 410;
  for (int n : {1, 2, 4}) {
    const std::string clients = std::to_string(n) + (n == 1 ? "_client" : "_clients");
    const std::string threads = std::to_string(n) + (n == 1 ? "_thread" : "_threads");
    AddSummaryRow({"launches/s via launcher / in-process, " + std::to_string(n) +
                       (n == 1 ? " client" : " clients"),
                   "launcher/16_launches/" + threads + "_in_process",
                   "launcher/16_launches/" + clients,
                   {Goal::kAtLeast, 0.9},
                   order++});
  }
  AddSummaryRow({"control: in-process spawns/s, 4 threads / 1",
                 "launcher/16_launches/1_thread_in_process",
                 "launcher/16_launches/4_threads_in_process", Goal{}, order++});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
