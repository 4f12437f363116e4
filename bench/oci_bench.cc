// SPDX-License-Identifier: Apache-2.0
// capspawn-oci against runc (and both under containerd): a busybox bundle
// running /bin/true, end to end, as a container runtime's user sees it. And
// the container's namespace (the rootfs as a read-only root directory, plus
// a tmpfs) spawned by the library in-process, first time and repeated (the
// namespace cache, which the library does not use for a root directory). See docs/oci.md ("Speed").
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <capspawn/spawn.h>

#include "harness.h"
#include "namespace/ns_cache.h"

extern char** environ;

namespace capspawn_bench {
namespace {

std::string Tmp() {
  static std::string dir = [] {
    char t[] = "/tmp/oci-bench-XXXXXX";
    std::string d = mkdtemp(t);
    chmod(d.c_str(), 0755);
    return d;
  }();
  return dir;
}

// Runs argv, output to /dev/null; returns its exit status (-1: not run).
int RunQuiet(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> a;
  for (const std::string& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A bundle for /bin/true: capspawn-oci's default spec on the test image's rootfs.
std::string Bundle() {
  static std::string b = [] {
    std::string d = Tmp() + "/bundle";
    mkdir(d.c_str(), 0755);
    unlink((d + "/config.json").c_str());
    if (RunQuiet({CAPSPAWN_BENCH_OCI, "spec", "--bundle", d}) != 0) return std::string();
    std::ifstream in(d + "/config.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto replace = [&](const std::string& from, const std::string& to) {
      size_t at = text.find(from);
      if (at != std::string::npos) text.replace(at, from.size(), to);
    };
    replace("\"path\": \"rootfs\"",
            "\"path\": \"" + std::string(CAPSPAWN_BENCH_OCI_IMAGE) + "/rootfs\"");
    replace("\"sh\"", "\"/bin/true\"");
    std::ofstream(d + "/config.json", std::ios::trunc) << text;
    return d;
  }();
  return b;
}

// `RUNTIME --root ROOT run --bundle B ID` per iteration.
void RuntimeRun(benchmark::State& state, const std::string& runtime) {
  if (Bundle().empty()) {
    state.SkipWithError("capspawn-oci spec failed");
    return;
  }
  std::string root = Tmp() + "/root-" + runtime.substr(runtime.rfind('/') + 1);
  int n = 0;
  for (auto _ : state) {
    std::string id = "b" + std::to_string(getpid()) + "-" + std::to_string(++n);
    auto start = std::chrono::steady_clock::now();
    int rc = RunQuiet({runtime, "--root", root, "run", "--bundle", Bundle(), id});
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (rc != 0) {
      state.SkipWithError((runtime + " run failed (exit " + std::to_string(rc) + ")").c_str());
      return;
    }
  }
}

void BM_oci_run_capspawn(benchmark::State& s) { RuntimeRun(s, CAPSPAWN_BENCH_OCI); }
void BM_oci_run_runc(benchmark::State& s) { RuntimeRun(s, "runc"); }
BENCHMARK(BM_oci_run_capspawn)
    ->UseManualTime()
    ->Iterations(20)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_oci_run_runc)
    ->UseManualTime()
    ->Iterations(20)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);

// A containerd of the benchmark's own (root only), started on first use.
struct Containerd {
  std::string dir, error;
  pid_t pid = -1;
  Containerd() {
    if (geteuid() != 0) {
      error = "containerd needs root";
      return;
    }
    dir = Tmp() + "/ctd";
    mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/config.toml")
        << "version = 2\nroot = \"" << dir << "/root\"\nstate = \"" << dir
        << "/state\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \""
        << dir << "/c.sock\"\n[ttrpc]\n  address = \"" << dir << "/c.sock.ttrpc\"\n";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, (dir + "/log").c_str(), O_WRONLY | O_CREAT, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::string conf = dir + "/config.toml";
    const char* argv[] = {"containerd", "--config", conf.c_str(), nullptr};
    if (posix_spawnp(&pid, "containerd", &fa, nullptr, const_cast<char**>(argv), environ) != 0) {
      error = "containerd did not start";
      pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 500 && pid > 0; ++i) {
      if (RunQuiet({"ctr", "--address", dir + "/c.sock", "version"}) == 0) return;
      usleep(20000);
    }
    error = "containerd did not answer";
  }
  ~Containerd() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};
Containerd& Ctd() {
  static Containerd c;
  return c;
}

void CtrRun(benchmark::State& state, const std::string& runtime) {
  Containerd& c = Ctd();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  if (Bundle().empty()) {
    state.SkipWithError("capspawn-oci spec failed");
    return;
  }
  int n = 0;
  for (auto _ : state) {
    std::string id = "c" + std::to_string(getpid()) + "-" + std::to_string(++n);
    auto start = std::chrono::steady_clock::now();
    int rc = RunQuiet({"ctr", "--address", c.dir + "/c.sock", "--namespace", "bench", "run", "--rm",
                       "--runc-binary", runtime, "--runc-root", c.dir + "/runc-root", "--config",
                       Bundle() + "/config.json", id});
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (rc != 0) {
      state.SkipWithError(("ctr run --rm with " + runtime + " failed").c_str());
      return;
    }
  }
}
void BM_oci_ctr_capspawn(benchmark::State& s) { CtrRun(s, CAPSPAWN_BENCH_OCI); }
void BM_oci_ctr_runc(benchmark::State& s) { CtrRun(s, "runc"); }
BENCHMARK(BM_oci_ctr_capspawn)
    ->UseManualTime()
    ->Iterations(10)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_oci_ctr_runc)
    ->UseManualTime()
    ->Iterations(10)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);

// The container's namespace through the library, in-process: the rootfs as
// a read-only root directory and a tmpfs mounted at /tmp, as capspawn-oci
// maps a bundle (without a pid namespace).
void NsSpawn(benchmark::State& state, bool first_time) {
  std::string rootfs = std::string(CAPSPAWN_BENCH_OCI_IMAGE) + "/rootfs";
  std::string exe = rootfs + "/bin/busybox";
  const char* argv[] = {"true", nullptr};
  const char* envp[] = {nullptr};
  for (auto _ : state) {
    if (first_time) capspawn::ns::ClearCache();
    std::vector<capspawn_action_t> actions;
    capspawn_action_t root{};
    root.action = CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY;
    root.ns = {"/", open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
    actions.push_back(root);
    capspawn_mount_t tmpfs = {CAPSPAWN_MOUNT_TMPFS, CAPSPAWN_MOUNT_NOSUID | CAPSPAWN_MOUNT_NODEV,
                              "/tmp", -1, nullptr};
    capspawn_action_t t{};
    t.action = CAPSPAWN_ACTION_ADD_MOUNT;
    t.mount = {&tmpfs};
    actions.push_back(t);
    auto start = std::chrono::steady_clock::now();
    int process = -1;
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
    capspawn_status_t st = capspawn_spawn_vmo(-1, 0, open(exe.c_str(), O_RDONLY | O_CLOEXEC), argv,
                                              envp, actions.size(), actions.data(), &process, err);
    int64_t rc = -1;
    if (st == CAPSPAWN_OK) capspawn_process_wait(process, -1, &rc);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (process >= 0) close(process);
    if (st != CAPSPAWN_OK || rc != 0) {
      state.SkipWithError(err[0] ? err : "busybox true failed");
      return;
    }
  }
  capspawn::ns::ClearCache();
}
void BM_oci_ns_first(benchmark::State& s) { NsSpawn(s, true); }
void BM_oci_ns_repeated(benchmark::State& s) { NsSpawn(s, false); }
BENCHMARK(BM_oci_ns_first)
    ->UseManualTime()
    ->Iterations(50)
    ->Repetitions(3)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_oci_ns_repeated)
    ->UseManualTime()
    ->Iterations(50)
    ->Repetitions(3)
    ->Unit(benchmark::kMicrosecond);

const int kRegistered = [] {
  AddSummaryRow({"capspawn-oci run / runc run (busybox true)",
                 "BM_oci_run_capspawn",
                 "BM_oci_run_runc",
                 {Goal::kAtMost, 0.10},
                 700});
  AddSummaryRow(
      {"BM_oci_run_capspawn: capspawn-oci run (us)", "BM_oci_run_capspawn", "", Goal{}, 701});
  AddSummaryRow({"BM_oci_run_runc: runc run (us)", "BM_oci_run_runc", "", Goal{}, 702});
  AddSummaryRow(
      {"ctr run --rm: capspawn-oci / runc", "BM_oci_ctr_capspawn", "BM_oci_ctr_runc", Goal{}, 710});
  AddSummaryRow({"BM_oci_ctr_capspawn: ctr run --rm (us)", "BM_oci_ctr_capspawn", "", Goal{}, 711});
  AddSummaryRow({"BM_oci_ctr_runc: ctr run --rm, runc (us)", "BM_oci_ctr_runc", "", Goal{}, 712});
  AddSummaryRow({"container ns, first-time (us)", "BM_oci_ns_first", "", Goal{}, 720});
  AddSummaryRow({"container ns, repeated (cached) (us)", "BM_oci_ns_repeated", "", Goal{}, 721});
  AddSummaryRow(
      {"container ns repeated / first-time", "BM_oci_ns_repeated", "BM_oci_ns_first", Goal{}, 722});
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
