// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the job tests: a per-test root job that is always destroyed, spawning
// the helper program into a job, reading what it reports, and reaping orphans.
#ifndef CAPSPAWN_TESTS_JOB_JOB_TEST_UTIL_H_
#define CAPSPAWN_TESTS_JOB_JOB_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/job.h>
#include <capspawn/process.h>
#include <capspawn/result.h>

namespace capspawn::jobtest {

// Guards against a hang when something is broken; never a timing assertion.
inline constexpr int64_t kLongNs = 60'000'000'000;
inline constexpr int kLongMs = 60'000;

const char* HelperPath();
// Set in the unprivileged re-run of the suite: skipping is then a failure.
bool InDelegatedRun();

std::string Describe(const Error& e);
#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    auto&& assert_ok_r = (expr);                                                     \
    ASSERT_TRUE(assert_ok_r.ok()) << #expr << ": " << Describe(assert_ok_r.error()); \
  } while (0)

struct Pipe {
  UniqueFd read, write;
};
Pipe MakePipe();

// Spawns `HelperPath() args...` into `job` (-1: the default job) through capspawn_spawn_etc,
// with each (local fd, child fd) pair cloned into the child.
Result<Process> SpawnHelper(int job, const std::vector<std::string>& args,
                            const std::vector<std::pair<int, int>>& fds = {},
                            uint32_t flags = 0xFFFFu & ~1u /* CLONE_ALL without CLONE_JOB */);

// Reads exactly n int32 pids that processes wrote to fd.
std::vector<pid_t> ReadPids(int fd, size_t n);
// Reads until a newline has been seen at least `lines` times.
std::string ReadLines(int fd, int lines);
// Reads everything until EOF.
std::string ReadAll(int fd);

// A pidfd for a process that is not our child (to see it exit).
UniqueFd OpenPidfd(pid_t pid);
// Whether the process of pidfd has exited, waiting at most timeout_ms.
bool Exited(int pidfd, int timeout_ms);
// Reaps (blocking) each pid that was reparented to us (we are a child subreaper).
void ReapOrphans(const std::vector<pid_t>& pids, pid_t except);

// A process outside any test job, killed and reaped when the guard goes.
struct ProcessGuard {
  Process process;
  ~ProcessGuard();
};

// Each test gets a fresh job under the default job, destroyed after the test; the test
// fails if its cgroup directory is still there (no leak).
class JobTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  Job& root() { return root_; }
  const std::string& root_path() const { return root_path_; }

 private:
  Job root_;
  std::string root_path_;
};

}  // namespace capspawn::jobtest

#endif  // CAPSPAWN_TESTS_JOB_JOB_TEST_UTIL_H_
