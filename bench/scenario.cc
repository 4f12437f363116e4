// SPDX-License-Identifier: Apache-2.0
// The parent-state scenarios: a large touched heap, a large fd table.
// Each is set up once when the first benchmark of its group runs and torn
// down when the next group starts, so the scenarios never overlap.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

namespace capspawn_bench {
namespace {

constexpr size_t kHeapBytes = size_t{2} << 30;
constexpr int kExtraFds = 19000;

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Reads MemAvailable (kB) so a small machine gets a clear skip instead of
// the OOM killer.
long long MemAvailableKb() {
  FILE* f = std::fopen("/proc/meminfo", "re");
  if (f == nullptr) return -1;
  char line[256];
  long long kb = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

class Heap {
 public:
  std::string Acquire() {
    long long avail_kb = MemAvailableKb();
    long long need_kb = static_cast<long long>(kHeapBytes / 1024) + (256 << 10);
    if (avail_kb >= 0 && avail_kb < need_kb) {
      return "heap_2GiB needs 2.25 GiB of available memory; /proc/meminfo MemAvailable is " +
             std::to_string(avail_kb) + " kB";
    }
    void* p = mmap(nullptr, kHeapBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return Errno("heap_2GiB: mmap 2 GiB");
    // 4 KiB pages, not transparent huge pages: a long-running process's heap
    // is mostly small pages, and that is what makes fork() copy ~524k PTEs.
    if (madvise(p, kHeapBytes, MADV_NOHUGEPAGE) != 0) {
      std::string error = Errno("heap_2GiB: madvise(MADV_NOHUGEPAGE)");
      munmap(p, kHeapBytes);
      return error;
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    volatile char* bytes = static_cast<char*>(p);
    for (size_t off = 0; off < kHeapBytes; off += page) bytes[off] = 1;
    base_ = p;
    return "";
  }

  void Release() {
    if (base_ != nullptr) munmap(base_, kHeapBytes);
    base_ = nullptr;
  }

 private:
  void* base_ = nullptr;
};

class Fds {
 public:
  std::string Acquire() {
    rlimit old{};
    if (getrlimit(RLIMIT_NOFILE, &old) != 0) return Errno("fds_19k: getrlimit(RLIMIT_NOFILE)");
    // Room for the extra fds above the few open already. Only the soft limit
    // moves unless the hard one is too low (raising that needs CAP_SYS_RESOURCE).
    const rlim_t need = static_cast<rlim_t>(kExtraFds) + 256;
    if (old.rlim_cur < need) {
      rlimit raised = old;
      raised.rlim_cur = need;
      if (raised.rlim_max < need) raised.rlim_max = need;
      if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
        return Errno(("fds_19k: setrlimit(RLIMIT_NOFILE, " + std::to_string(raised.rlim_cur) +
                      ") (hard limit " + std::to_string(old.rlim_max) + ")")
                         .c_str());
      }
      saved_limit_ = old;
      limit_raised_ = true;
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
      std::string error = Errno("fds_19k: open /dev/null");
      Release();
      return error;
    }
    fds_.reserve(kExtraFds);
    fds_.push_back(null_fd);
    // dup() leaves the copies without FD_CLOEXEC: a careless parent, which is
    // what a spawner must be immune to.
    while (fds_.size() < static_cast<size_t>(kExtraFds)) {
      int fd = dup(null_fd);
      if (fd < 0) {
        std::string error = Errno(
            ("fds_19k: dup /dev/null (after " + std::to_string(fds_.size()) + " fds)").c_str());
        Release();
        return error;
      }
      fds_.push_back(fd);
    }
    return "";
  }

  void Release() {
    for (int fd : fds_) close(fd);
    fds_.clear();
    if (limit_raised_) setrlimit(RLIMIT_NOFILE, &saved_limit_);
    limit_raised_ = false;
  }

 private:
  std::vector<int> fds_;
  rlimit saved_limit_{};
  bool limit_raised_ = false;
};

Heap g_heap;
Fds g_fds;
Scenario g_current = Scenario::kBaseline;
// A scenario that failed to set up is not retried by every benchmark of its
// group; they all skip with the same message.
std::string g_failure;

void ReleaseCurrent() {
  switch (g_current) {
    case Scenario::kHeap2GiB:
      g_heap.Release();
      break;
    case Scenario::kFds19k:
      g_fds.Release();
      break;
    case Scenario::kBaseline:
      break;
  }
  g_current = Scenario::kBaseline;
}

}  // namespace

bool EnterScenario(benchmark::State& state, Scenario scenario) {
  if (scenario != g_current) {
    ReleaseCurrent();
    g_failure.clear();
    switch (scenario) {
      case Scenario::kHeap2GiB:
        g_failure = g_heap.Acquire();
        break;
      case Scenario::kFds19k:
        g_failure = g_fds.Acquire();
        break;
      case Scenario::kBaseline:
        break;
    }
    g_current = scenario;
  }
  if (!g_failure.empty()) {
    state.SkipWithError(g_failure.c_str());
    return false;
  }
  return true;
}

void LeaveScenario() {
  ReleaseCurrent();
  g_failure.clear();
}

}  // namespace capspawn_bench
