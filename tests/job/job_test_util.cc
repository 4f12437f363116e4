// SPDX-License-Identifier: Apache-2.0
#include "job_test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <capspawn/spawn.h>

namespace capspawn::jobtest {

const char* HelperPath() { return CAPSPAWN_JOB_HELPER; }

bool InDelegatedRun() { return getenv("CAPSPAWN_JOB_TEST_DELEGATED") != nullptr; }

std::string Describe(const Error& e) {
  return std::string(capspawn_status_string(e.status())) + ": " + e.message();
}

Pipe MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2: " << strerror(errno);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<Process> SpawnHelper(int job, const std::vector<std::string>& args,
                            const std::vector<std::pair<int, int>>& fds, uint32_t flags) {
  std::vector<const char*> argv = {HelperPath()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<capspawn_action_t> actions;
  for (auto [local, target] : fds) {
    capspawn_action_t a = {};
    a.action = CAPSPAWN_ACTION_CLONE_FD;
    a.fd.local_fd = local;
    a.fd.target_fd = target;
    actions.push_back(a);
  }
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t s = capspawn_spawn_etc(job, flags, HelperPath(), argv.data(), nullptr,
                                           actions.size(), actions.data(), &process, err);
  if (s != CAPSPAWN_OK) return Error(s, err);
  return Process(UniqueFd(process));
}

namespace {

// Reads up to `size` bytes, waiting at most kLongMs for each chunk; returns bytes read.
size_t ReadSome(int fd, char* buf, size_t size) {
  struct pollfd p = {fd, POLLIN, 0};
  int r = poll(&p, 1, kLongMs);
  if (r <= 0) {
    ADD_FAILURE() << "nothing to read on fd " << fd << " for " << kLongMs << " ms";
    return 0;
  }
  ssize_t n = read(fd, buf, size);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

}  // namespace

std::vector<pid_t> ReadPids(int fd, size_t n) {
  std::vector<int32_t> raw(n);
  char* buf = reinterpret_cast<char*>(raw.data());
  size_t want = n * sizeof(int32_t), got = 0;
  while (got < want) {
    size_t k = ReadSome(fd, buf + got, want - got);
    if (k == 0) break;
    got += k;
  }
  EXPECT_EQ(got, want) << "the helpers reported " << got / 4 << " of " << n << " pids";
  raw.resize(got / sizeof(int32_t));
  return std::vector<pid_t>(raw.begin(), raw.end());
}

std::string ReadLines(int fd, int lines) {
  std::string out;
  char buf[256];
  int seen = 0;
  while (seen < lines) {
    size_t k = ReadSome(fd, buf, sizeof buf);
    if (k == 0) break;
    for (size_t i = 0; i < k; ++i) seen += buf[i] == '\n';
    out.append(buf, k);
  }
  return out;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    size_t k = ReadSome(fd, buf, sizeof buf);
    if (k == 0) return out;
    out.append(buf, k);
  }
}

UniqueFd OpenPidfd(pid_t pid) {
  return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
}

bool Exited(int pidfd, int timeout_ms) {
  struct pollfd p = {pidfd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

void ReapOrphans(const std::vector<pid_t>& pids, pid_t except) {
  for (pid_t pid : pids) {
    if (pid == except) continue;
    while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
  }
}

ProcessGuard::~ProcessGuard() {
  if (!process.valid()) return;
  (void)process.Kill();
  (void)process.Wait();
}

void JobTest::SetUp() {
  // Orphans of the helpers come to us, so no zombie outlives the test even on hosts
  // whose init does not reap.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  Result<Job> def = Job::Default();
  if (!def.ok() && def.status() == CAPSPAWN_ERR_NOT_SUPPORTED && !InDelegatedRun()) {
    GTEST_SKIP() << "this host has no usable cgroup v2: " << def.error().message();
  }
  ASSERT_OK(def);
  static std::atomic<int> counter{0};
  std::string name = "capspawn-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  Result<Job> created = def->CreateChild(name);
  if (!created.ok() && !InDelegatedRun()) {
    // The host forbids cgroup writes: a user outside any delegated subtree, or a
    // read-only cgroup2 mount (containers).
    if (created.status() == CAPSPAWN_ERR_ACCESS_DENIED && geteuid() != 0) {
      GTEST_SKIP() << "this user may not create cgroups here (run as root, or inside a "
                      "delegated subtree as JobDelegated does): "
                   << created.error().message();
    }
    if (created.status() == CAPSPAWN_ERR_NOT_SUPPORTED) {
      GTEST_SKIP() << "cgroups cannot be created here: " << created.error().message();
    }
  }
  ASSERT_OK(created);
  root_ = std::move(*created);
  Result<std::string> path = root_.Path();
  ASSERT_OK(path);
  root_path_ = *path;
}

void JobTest::TearDown() {
  if (!root_.valid()) return;
  Status s = root_.Destroy(kLongNs);
  EXPECT_TRUE(s.ok()) << Describe(s.error());
  struct stat st;
  EXPECT_NE(stat(root_path_.c_str(), &st), 0) << "test cgroup " << root_path_ << " leaked";
  // Killed helpers' orphans were reparented to us: reap whatever is left.
  while (waitpid(-1, nullptr, __WALL | WNOHANG) > 0) {
  }
}

}  // namespace capspawn::jobtest
