// SPDX-License-Identifier: Apache-2.0
// Shared by the namespace tests: temporary directories, a probe runner
// through the engine and through the public C API, fd and mount counts.
#ifndef CAPSPAWN_TESTS_NAMESPACE_NS_TEST_UTIL_H_
#define CAPSPAWN_TESTS_NAMESPACE_NS_TEST_UTIL_H_

#include <capspawn/spawn.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/process.h>

#include "engine/launch.h"
#include "namespace/namespace.h"

namespace ns_test {

inline constexpr const char* kProbe = CAPSPAWN_TEST_NS_PROBE;

inline bool ProbeIsStatic() { return CAPSPAWN_TEST_NS_PROBE_STATIC != 0; }

// A request for the probe: a dynamic (sanitizer) build gets the system loader.
inline capspawn::ns::Request ProbeRequest() {
  capspawn::ns::Request r;
  r.default_ldsvc = !ProbeIsStatic();
  return r;
}

// Whether this process's mount table changed since the watch began or was
// last asked (/proc/self/mounts reports a change once, as POLLPRI). A mount
// anywhere in this mount namespace, by another test running beside this one
// or by containerd's, empties the namespace cache by design and changes what
// /proc/self/mountinfo lists.
class MountTableWatch {
 public:
  MountTableWatch() : fd_(open("/proc/self/mounts", O_RDONLY | O_CLOEXEC)) {}
  bool Changed() {
    pollfd p{fd_.get(), POLLPRI, 0};
    return !fd_ || (poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR)) != 0);
  }

 private:
  capspawn::UniqueFd fd_;
};
inline constexpr int kQuietRounds = 10;

// For a test that counts the cache's hits or compares the mount table
// before and after: runs `round(&held)` again while its checks did not hold
// (*held false) and the mount table changed during it, at most kQuietRounds
// times. A round that fails without a change is a failure. Returns what the
// final checks add to their messages: empty, or that the table changed in
// every round. A fatal failure in a round ends the rounds (check
// HasFatalFailure() after).
template <typename Round>
std::string RepeatWhileTheMountTableChanges(Round round) {
  for (int i = 0; i < kQuietRounds; ++i) {
    MountTableWatch watch;
    bool held = false;
    round(&held);
    if (::testing::Test::HasFatalFailure() || held || !watch.Changed()) return "";
  }
  return "; the mount table changed during each of the rounds";
}

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/capspawn-ns-XXXXXX";
    path_ = mkdtemp(t) ? t : "";
  }
  ~TempDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string& path() const { return path_; }
  std::string Path(const std::string& n) const { return path_ + "/" + n; }
  void MakeDir(const std::string& rel) const {
    std::system(("mkdir -p '" + Path(rel) + "'").c_str());
  }
  void Touch(const std::string& rel) const { std::ofstream(Path(rel)) << "x"; }

 private:
  std::string path_;
};

inline capspawn::UniqueFd OpenDir(const std::string& p) {
  return capspawn::UniqueFd(open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

struct Outcome {
  int status = -1000;  // exit status, or -1000 when the launch failed
  std::string error;   // the plan's or launch's error message
  capspawn_status_t code = CAPSPAWN_OK;
  std::string out;  // the child's stdout
};

inline std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Plans `req` for `program`, launches it through the engine and waits.
inline Outcome RunIn(capspawn::ns::Request req, const std::string& program,
                     std::vector<std::string> args) {
  Outcome o;
  capspawn::UniqueFd exe(open(program.c_str(), O_RDONLY | O_CLOEXEC));
  if (!exe) {
    o.error = "open " + program;
    return o;
  }
  capspawn::Result<capspawn::elf::ElfHeaders> headers = capspawn::elf::ParseHeaders(exe.get());
  if (headers.ok()) req.headers = &headers.value();
  capspawn::Result<std::unique_ptr<capspawn::ns::Plan>> plan = capspawn::ns::PlanNamespace(req);
  if (!plan.ok()) {
    o.code = plan.status();
    o.error = plan.error().message();
    return o;
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return o;
  capspawn::UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  std::vector<char*> argv;
  args.insert(args.begin(), program);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  capspawn::engine::LaunchPlan lp;
  lp.exec_fd = exe.get();
  lp.argv = argv.data();
  lp.envp = envp;
  lp.fds = {{wr.get(), 1}, {2, 2}};
  if (plan.value()) capspawn::ns::Apply(*plan.value(), &lp);
  capspawn::Result<capspawn::Process> p = capspawn::engine::Launch(lp);
  wr.reset();
  if (!p.ok()) {
    o.code = p.status();
    o.error = p.error().message();
    return o;
  }
  o.out = Drain(rd.get());
  capspawn::Result<int64_t> st = p->Wait();
  o.status = st.ok() ? static_cast<int>(st.value()) : -2000;
  return o;
}

// The same through capspawn_spawn_etc: stdout captured, stderr shared.
inline Outcome SpawnEtc(uint32_t flags, const std::string& program, std::vector<std::string> args,
                        std::vector<capspawn_action_t> actions) {
  Outcome o;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return o;
  capspawn::UniqueFd rd(pipefd[0]);
  capspawn_action_t out{};
  out.action = CAPSPAWN_ACTION_TRANSFER_FD;
  out.fd.local_fd = pipefd[1];
  out.fd.target_fd = 1;
  actions.push_back(out);
  capspawn_action_t err{};
  err.action = CAPSPAWN_ACTION_CLONE_FD;
  err.fd.local_fd = 2;
  err.fd.target_fd = 2;
  actions.push_back(err);
  std::vector<const char*> argv{program.c_str()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const char* envp[] = {nullptr};
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  int process = -1;
  o.code = capspawn_spawn_etc(-1, flags, program.c_str(), argv.data(), envp, actions.size(),
                              actions.data(), &process, msg);
  if (o.code != CAPSPAWN_OK) {
    o.error = msg;
    return o;
  }
  o.out = Drain(rd.get());
  int64_t rc = 0;
  capspawn_status_t w = capspawn_process_wait(process, -1, &rc);
  close(process);
  o.status = w == CAPSPAWN_OK ? static_cast<int>(rc) : -2000;
  return o;
}

inline capspawn_action_t NsAction(uint32_t action, const char* prefix, int fd = -1) {
  capspawn_action_t a{};
  a.action = action;
  if (fd >= 0) {
    a.ns.prefix = prefix;
    a.ns.handle = fd;
  } else {
    a.dir.prefix = prefix;
  }
  return a;
}

inline std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline int CountFds() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd) n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

inline bool AsRoot() { return geteuid() == 0; }

// What a cache test leaves, measured in a RepeatWhileTheMountTableChanges
// round: Begin() empties the cache and notes the mount table; End() takes
// the cache's size and this process's fds (less the round's watch) while it
// holds its namespaces, then the fds and the mount table once it is cleared.
struct CacheResidue {
  std::string mounts_before, mounts_after;
  size_t size = 0;
  int fds_held = 0, fds_after = 0;

  void Begin() {
    capspawn::ns::ClearCache();
    mounts_before = ReadFile("/proc/self/mountinfo");
  }
  void End() {
    size = capspawn::ns::GetCacheStats().size;
    fds_held = CountFds() - 1;
    capspawn::ns::ClearCache();
    fds_after = CountFds() - 1;
    mounts_after = ReadFile("/proc/self/mountinfo");
  }
  // `want` namespaces held with at most `extra` fds over `fds`, and nothing
  // left once cleared.
  bool Holds(size_t want, int fds, int extra) const {
    return size == want && fds_held <= fds + extra && fds_after == fds &&
           mounts_after == mounts_before;
  }
};

}  // namespace ns_test

#endif  // CAPSPAWN_TESTS_NAMESPACE_NS_TEST_UTIL_H_
