// SPDX-License-Identifier: Apache-2.0
// soak_driver: drives capspawn_spawn* (in-process, or through the launcher
// when CAPSPAWN_LAUNCHER names its socket) from concurrent clients, mixing
// plain, namespaced, job and create-without-starting launches (then started),
// and checks every child's exit status.
//   soak_driver --program STATIC --launches N --clients C [--dir DIR]
// STATIC: a static program that exits with the code given as "--exit K"
// (tests/spawn's spawn_child). DIR: a directory handed as a namespace entry.
// Prints "launches=N ok=K wrong_status=W failed=F ..." and exits 0 only if
// every launch succeeded and returned its code.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <capspawn/job.h>
#include <capspawn/spawn.h>
#include <capspawn/start.h>

namespace {

enum Kind { kPlain, kNamespaced, kJob, kSuspended, kKinds };
const char* const kKindNames[kKinds] = {"plain", "namespaced", "job", "suspended"};

struct Options {
  std::string program;
  std::string dir = "/";
  long launches = 1000;
  int clients = 4;
};

struct Totals {
  std::atomic<long> ok{0}, wrong_status{0}, failed{0};
  std::atomic<long> per_kind[kKinds] = {};
  std::mutex mu;
  std::string first_error;
};

void Note(Totals& t, const std::string& e) {
  std::lock_guard<std::mutex> l(t.mu);
  if (t.first_error.empty()) t.first_error = e;
}

void Client(const Options& o, long first, long count, int job, Totals& t) {
  for (long i = first; i < first + count; ++i) {
    const Kind kind = static_cast<Kind>(i % kKinds);
    const int code = static_cast<int>(i % 200);
    const std::string code_s = std::to_string(code);
    const char* argv[] = {"soak", "--report-fd", "-1", "--exit", code_s.c_str(), nullptr};
    std::vector<capspawn_action_t> actions;
    uint32_t flags = CAPSPAWN_CLONE_ALL;
    int target_job = -1;
    if (kind == kNamespaced) {
      flags &= ~CAPSPAWN_CLONE_NAMESPACE;
      capspawn_action_t a{};
      a.action = CAPSPAWN_ACTION_ADD_NS_ENTRY;
      a.ns.prefix = "/data";
      a.ns.handle = open(o.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      actions.push_back(a);
    } else if (kind == kJob) {
      target_job = job;
    }
    int process = -1;
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    capspawn_status_t st;
    if (kind == kSuspended) {
      // Created stopped before its first instruction, then started.
      capspawn_start_data_t data{};
      st = capspawn_create_without_starting(-1, flags, o.program.c_str(), -1, argv, nullptr, 0,
                                            nullptr, &data, err);
      if (st == CAPSPAWN_OK) {
        process = data.process;
        close(data.root_vmar);
        st = capspawn_start(process);
        if (st != CAPSPAWN_OK) {
          std::snprintf(err, sizeof err, "capspawn_start");
          capspawn_process_kill(process);
          capspawn_process_wait(process, -1, nullptr);
          close(process);
        }
      }
    } else {
      st = capspawn_spawn_etc(target_job, flags, o.program.c_str(), argv, nullptr, actions.size(),
                              actions.data(), &process, err);
    }
    if (st != CAPSPAWN_OK) {
      t.failed++;
      Note(t, std::string(kKindNames[kind]) + ": " + capspawn_status_string(st) + " " + err);
      continue;
    }
    int64_t rc = INT64_MIN;
    st = capspawn_process_wait(process, -1, &rc);
    close(process);
    if (st != CAPSPAWN_OK) {
      t.failed++;
      Note(t, std::string("wait: ") + capspawn_status_string(st));
    } else if (rc != code) {
      t.wrong_status++;
      Note(t,
           "launch " + std::to_string(i) + " returned " + std::to_string(rc) + ", not " + code_s);
    } else {
      t.ok++;
      t.per_kind[kind]++;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--program")
      o.program = argv[i + 1];
    else if (a == "--launches")
      o.launches = std::atol(argv[i + 1]);
    else if (a == "--clients")
      o.clients = std::atoi(argv[i + 1]);
    else if (a == "--dir")
      o.dir = argv[i + 1];
    else {
      std::fprintf(stderr, "soak_driver: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.program.empty() || o.launches <= 0 || o.clients <= 0) {
    std::fprintf(stderr,
                 "usage: soak_driver --program STATIC [--launches N] [--clients C] [--dir DIR]\n");
    return 2;
  }
  // One job for the job launches, destroyed at the end (no cgroup may remain).
  capspawn::Result<capspawn::Job> root = capspawn::Job::Default();
  capspawn::Result<capspawn::Job> job =
      root.ok() ? root->CreateChild() : capspawn::Result<capspawn::Job>(root.error());
  if (!job.ok()) {
    std::fprintf(stderr, "soak_driver: no job (%s); job launches use the default job\n",
                 job.error().message().c_str());
  }
  const int job_fd = job.ok() ? job->fd().get() : -1;

  Totals t;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  const long per = o.launches / o.clients;
  for (int c = 0; c < o.clients; ++c) {
    const long count = c == o.clients - 1 ? o.launches - per * c : per;
    threads.emplace_back(Client, std::cref(o), per * c, count, job_fd, std::ref(t));
  }
  for (std::thread& th : threads) th.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bool job_gone = true;
  if (job.ok()) {
    capspawn::Status d = job->Destroy(10'000'000'000);
    job_gone = d.ok();
    if (!d.ok())
      std::fprintf(stderr, "soak_driver: destroy job: %s\n", d.error().message().c_str());
  }
  std::printf(
      "launches=%ld clients=%d ok=%ld wrong_status=%ld failed=%ld plain=%ld namespaced=%ld "
      "job=%ld suspended=%ld seconds=%.2f per_second=%.0f job_destroyed=%s\n",
      o.launches, o.clients, t.ok.load(), t.wrong_status.load(), t.failed.load(),
      t.per_kind[kPlain].load(), t.per_kind[kNamespaced].load(), t.per_kind[kJob].load(),
      t.per_kind[kSuspended].load(), secs, o.launches / secs, job_gone ? "yes" : "no");
  if (!t.first_error.empty()) std::printf("first error: %s\n", t.first_error.c_str());
  return t.ok == o.launches && job_gone ? 0 : 1;
}
