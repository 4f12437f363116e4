// SPDX-License-Identifier: Apache-2.0
// capspawn-oci against runc (and both under containerd): a busybox bundle
// running /bin/true, end to end, as a container runtime's user sees it; the
// floor under both (the bundle's kernel work alone, raw syscalls). And
// the container's namespace (the rootfs as a read-only root directory, plus
// a tmpfs) spawned by the library in-process, first time and repeated (the
// namespace cache, which the library does not use for a root directory). See docs/oci.md ("Speed").
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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
    static char t[] = "/tmp/oci-bench-XXXXXX";  // static: read at exit, after `dir` is gone
    std::string d = mkdtemp(t);
    chmod(d.c_str(), 0755);
    // The bundle and both runtimes' state roots go with the run.
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(t, ignored);
    });
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

// The floor under any runtime for this bundle on this machine: the kernel
// work its config asks for, done with raw syscalls and nothing else. A child
// in the spec's namespaces (pid, ipc, uts, mount, network) sets the hostname,
// makes the rootfs its read-only root with the spec's mounts, masked and
// read-only paths (bind, mounts, pivot_root, the old root detached, as runc
// does) and executes busybox true; the parent waits. Left out, so that it is
// a lower bound: the runtime's own start (a command exec'd per container
// operation), its state, the cgroup, device nodes and hooks.
namespace oci_floor {

// The bundle's linux.maskedPaths and linux.readonlyPaths (capspawn-oci's
// default spec), relative to the rootfs, read in the parent: the child only
// walks these arrays (null-terminated).
struct Paths {
  std::vector<std::string> masked, read_only;
  std::vector<const char*> masked_c, read_only_c;
};
std::string FromBundle(Paths* out) {
  std::ifstream in(Bundle() + "/config.json");
  const nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) return "the bundle's config.json does not parse";
  auto take = [&](const char* field, std::vector<std::string>* v, std::vector<const char*>* c) {
    const nlohmann::json section = config.value("linux", nlohmann::json::object());
    for (const auto& p : section.value(field, nlohmann::json::array())) {
      if (p.is_string() && p.get<std::string>().starts_with("/")) {
        v->push_back(p.get<std::string>().substr(1));  // "/proc/kcore" -> "proc/kcore"
      }
    }
    for (const std::string& p : *v) c->push_back(p.c_str());
    c->push_back(nullptr);
  };
  take("maskedPaths", &out->masked, &out->masked_c);
  take("readonlyPaths", &out->read_only, &out->read_only_c);
  if (out->masked.empty() || out->read_only.empty()) {
    return "the bundle's config.json lists no masked or no read-only paths: not the default spec";
  }
  return "";
}
// What each child exit code means: the step that failed.
constexpr const char* kSteps[] = {"",
                                  "make / private",
                                  "bind the rootfs",
                                  "chdir to the rootfs",
                                  "mount /proc",
                                  "mount /dev",
                                  "mount /dev/pts",
                                  "mount /dev/shm",
                                  "mount /dev/mqueue",
                                  "mount /sys",
                                  "mask a path",
                                  "a read-only path",
                                  "pivot_root",
                                  "detach the old root",
                                  "chdir /",
                                  "read-only /",
                                  "sethostname"};

// Only syscalls: the child of a raw clone of a threaded process.
[[noreturn]] void Child(const char* rootfs, const Paths& paths) {
  auto step = [](bool ok, int n) {
    if (!ok) _exit(n);
  };
  constexpr unsigned long kNoDevSuidExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  step(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, 1);
  step(mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) == 0, 2);
  step(chdir(rootfs) == 0, 3);
  step(mount("proc", "proc", "proc", kNoDevSuidExec, nullptr) == 0, 4);
  step(mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") == 0, 5);
  mkdir("dev/pts", 0755);
  step(mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
             "newinstance,ptmxmode=0666,mode=0620,gid=5") == 0,
       6);
  mkdir("dev/shm", 01777);
  step(mount("shm", "dev/shm", "tmpfs", kNoDevSuidExec, "mode=1777,size=65536k") == 0, 7);
  mkdir("dev/mqueue", 0755);
  step(mount("mqueue", "dev/mqueue", "mqueue", kNoDevSuidExec, nullptr) == 0, 8);
  step(mount("sysfs", "sys", "sysfs", kNoDevSuidExec | MS_RDONLY, nullptr) == 0, 9);
  for (const char* const* m = paths.masked_c.data(); *m; ++m) {
    const char* p = *m;
    if (mount("/dev/null", p, nullptr, MS_BIND, nullptr) == 0 || errno == ENOENT) continue;
    step(errno == ENOTDIR && mount("tmpfs", p, "tmpfs", MS_RDONLY, nullptr) == 0, 10);
  }
  for (const char* const* r = paths.read_only_c.data(); *r; ++r) {
    const char* p = *r;
    if (mount(p, p, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      step(errno == ENOENT, 11);
      continue;
    }
    step(mount(p, p, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, nullptr) == 0, 11);
  }
  step(syscall(SYS_pivot_root, ".", ".") == 0, 12);
  step(umount2(".", MNT_DETACH) == 0, 13);
  step(chdir("/") == 0, 14);
  step(mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) == 0, 15);
  step(sethostname("capspawn", 8) == 0, 16);
  const char* argv[] = {"true", nullptr};
  const char* envp[] = {"PATH=/bin", nullptr};
  execve("/bin/true", const_cast<char**>(argv), const_cast<char**>(envp));
  _exit(0x7f);  // 127: exec failed
}

}  // namespace oci_floor

void BM_oci_floor(benchmark::State& state) {
  if (geteuid() != 0) {
    state.SkipWithError("the floor needs root (it mounts)");
    return;
  }
  const std::string rootfs = std::string(CAPSPAWN_BENCH_OCI_IMAGE) + "/rootfs";
  oci_floor::Paths paths;
  if (Bundle().empty()) {
    state.SkipWithError("capspawn-oci spec failed");
    return;
  }
  if (std::string why = oci_floor::FromBundle(&paths); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  constexpr unsigned long kNamespaces =
      CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWNET;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    pid_t pid = static_cast<pid_t>(
        syscall(SYS_clone, kNamespaces | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid == 0) oci_floor::Child(rootfs.c_str(), paths);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (pid < 0) {
      state.SkipWithError((std::string("clone: ") + std::strerror(errno)).c_str());
      return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::string why = code == 0x7f ? "exec of /bin/true"
                        : code > 0 && code < static_cast<int>(std::size(oci_floor::kSteps))
                            ? oci_floor::kSteps[code]
                            : "status " + std::to_string(status);
      state.SkipWithError(("the floor's child failed: " + why).c_str());
      return;
    }
  }
}
BENCHMARK(BM_oci_floor)
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
  AddSummaryRow({"floor: the bundle's kernel work alone, raw syscalls (us)", "BM_oci_floor", "",
                 Goal{}, 703});
  AddSummaryRow(
      {"floor / runc run (no runtime goes below)", "BM_oci_floor", "BM_oci_run_runc", Goal{}, 704});
  AddSummaryRow({"capspawn-oci run / floor", "BM_oci_run_capspawn", "BM_oci_floor", Goal{}, 705});
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
