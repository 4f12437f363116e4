// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the spawn and startup tests: temporary directories, pipes,
// spawning spawn_child and reading its report, process and fd accounting.
#ifndef CAPSPAWN_TESTS_SPAWN_TEST_UTIL_H_
#define CAPSPAWN_TESTS_SPAWN_TEST_UTIL_H_

#include <capspawn/fd.h>
#include <capspawn/spawn.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "child_report.h"

namespace capspawn_test {

using capspawn::UniqueFd;
using Strings = std::vector<std::string>;
using Env = std::optional<Strings>;

// The helper programs, built next to the tests.
const char* ChildPath();     // spawn_child: static unless sanitizers forbid it
const char* DynChildPath();  // spawn_child_dyn: dynamically linked
bool ChildIsStatic();

// Flags for tests that are not about namespaces (namespaces are a later issue:
// without CLONE_NAMESPACE spawn answers NOT_SUPPORTED for now).
constexpr uint32_t kNsStdio = CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_STDIO;

// A fresh mkdtemp directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  // Writes a file and chmods it; returns its path.
  std::string WriteFile(const std::string& name, const std::string& content, mode_t mode = 0755);
  // Copies a file's bytes into a new file here; returns its path.
  std::string CopyFile(const std::string& from, const std::string& name, mode_t mode = 0755);

 private:
  std::string path_;
};

// Puts `replacement` at fd `target` (or closes target when replacement < 0)
// until destroyed, then restores what was there. For stdio tests: nothing may
// print between construction and destruction.
class FdSwap {
 public:
  FdSwap(int target, int replacement);
  ~FdSwap();
  FdSwap(const FdSwap&) = delete;
  FdSwap& operator=(const FdSwap&) = delete;

 private:
  int target_;
  int saved_;  // a close-on-exec copy of the original, or -1 if target was closed
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
// A pipe; close-on-exec unless cloexec is false.
Pipe MakePipe(bool cloexec = true);

std::string ReadFileBytes(const std::string& path);
// Reads until EOF; gives up (returning what it has) after timeout_ms without data.
std::string ReadAll(int fd, int timeout_ms = 30000);
bool WriteAll(int fd, const std::string& data);

capspawn_action_t CloneFd(int local_fd, int target_fd);
capspawn_action_t TransferFd(int local_fd, int target_fd);
capspawn_action_t AddHandle(uint32_t id, int handle);
capspawn_action_t SetName(const char* name);
capspawn_action_t AddNsEntry(const char* prefix, int handle);
capspawn_action_t CloneDir(const char* prefix);

// A pidfd that, if still held at the end of a test (a spawn that should have
// failed, a failed assertion), kills and reaps its process so that no test
// leaves a child behind for the next.
class ProcessFd {
 public:
  ProcessFd() = default;
  explicit ProcessFd(int fd) : fd_(fd) {}
  ProcessFd(ProcessFd&&) = default;
  ProcessFd& operator=(ProcessFd&& other) noexcept {
    Cleanup();
    fd_ = std::move(other.fd_);
    return *this;
  }
  ~ProcessFd() { Cleanup(); }
  int get() const { return fd_.get(); }
  explicit operator bool() const { return fd_.valid(); }
  [[nodiscard]] int release() { return fd_.release(); }
  void reset(int fd = -1) {
    Cleanup();
    fd_.reset(fd);
  }

 private:
  void Cleanup();
  UniqueFd fd_;
};

struct Spawned {
  capspawn_status_t status = CAPSPAWN_ERR_INTERNAL;
  std::string err;           // err_msg as the call left it
  ProcessFd process;         // the pidfd on success
  int raw_process_out = -1;  // *process_out after the call (initialised to -1)
};

// capspawn_spawn_etc with std types. argv entries may not contain NULs.
Spawned Spawn(uint32_t flags, const std::string& path, const Strings& argv, const Env& env = {},
              const std::vector<capspawn_action_t>& actions = {}, int job = -1);
Spawned SpawnVmo(uint32_t flags, int executable_fd, const Strings& argv, const Env& env = {},
                 const std::vector<capspawn_action_t>& actions = {});

struct ChildRun {
  capspawn_status_t status = CAPSPAWN_ERR_INTERNAL;
  std::string err;
  int64_t return_code = INT64_MIN;
  std::string output;  // everything the child wrote on the report pipe
  Report report;
};

// Spawns path with a fresh pipe's write end transferred to report_target (an
// extra action after `actions`), reads the pipe until EOF, waits, and parses
// the output as a spawn_child report. report_target < 0: no pipe.
ChildRun RunChild(uint32_t flags, const std::string& path, const Strings& argv, const Env& env = {},
                  std::vector<capspawn_action_t> actions = {}, int report_target = 1);
// Same for capspawn_spawn_vmo (consumes executable_fd).
ChildRun RunChildVmo(uint32_t flags, int executable_fd, const Strings& argv, const Env& env = {},
                     std::vector<capspawn_action_t> actions = {}, int report_target = 1);

// capspawn_process_wait forever; INT64_MIN if the wait itself fails.
int64_t Wait(int process);

// If fd is 0, 1 or 2 (because the test closed stdio), moves it to >= 3.
void MoveAboveStdio(ProcessFd& fd);

bool FdIsOpen(int fd);
int CountOpenFds();
// Identity of an open fd: "major:minor" and inode, as spawn_child reports them.
std::string FdDev(int fd);
uint64_t FdIno(int fd);

// Children of this process that still exist (running or zombie), from
// /proc/self/task/*/children, plus whether waitid(P_ALL) still finds any child.
std::vector<pid_t> LiveChildren();
bool HasWaitableChild();

pid_t PidOfPidfd(int pidfd);
std::string CommOf(pid_t pid);

// Whether an error message names action `index` ("action 2", "action #2"...).
bool NamesActionIndex(const std::string& message, int index);

// The first 15 bytes of a name: what /proc/PID/comm can hold.
std::string CommOfName(const std::string& name);

}  // namespace capspawn_test

#endif  // CAPSPAWN_TESTS_SPAWN_TEST_UTIL_H_
