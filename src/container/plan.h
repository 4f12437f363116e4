// SPDX-License-Identifier: Apache-2.0
// The container part of a spawn's setup, planned in the parent as ordered,
// named steps that the child runs with raw syscalls (allocation-free). Around
// the namespace plan: the early steps run before the mounts (oom score, the
// user namespace's id maps, hostname, loopback, sysctls), the late ones after
// (new session, rlimits, umask, working directory, ids, capabilities, death
// signal, no_new_privs). The user seccomp filter is handed to the engine, which
// installs it last. See docs/containers.md.
#ifndef CAPSPAWN_SRC_CONTAINER_PLAN_H_
#define CAPSPAWN_SRC_CONTAINER_PLAN_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "engine/launch.h"
#include "namespace/container_config.h"

namespace capspawn::container {

enum class StepKind : uint8_t {
  kOomScoreAdj,   // write text to /proc/self/oom_score_adj
  kWriteIdMaps,   // setgroups "deny" (if text3), uid_map text, gid_map text2
  kHelperIdMaps,  // ask the parent's helper to write the maps, wait for it
  kHostname,      // sethostname(text)
  kLoopback,      // SIOCSIFFLAGS: "lo" up
  kSysctl,        // write text2 to /proc/sys/<text>
  kNewSession,    // setsid()
  kRlimit,        // prlimit64(0, n, {a, b})
  kUmask,         // umask(n)
  kChdir,         // chdir(text); n: 1 = EACCES/EPERM deferred to kChdirAgain
  kBoundingSet,   // PR_CAPBSET_DROP every capability not in a
  kKeepCaps,      // PR_SET_KEEPCAPS n
  kSetGroups,     // setgroups(count, groups); n: 1 = skipped when setgroups is denied
  kSetIds,        // setresgid(b), setresuid(a)
  kCapabilities,  // capset(effective a, permitted b, inheritable c), ambient d
  kChdirAgain,    // the deferred chdir(text)
  kDeathSignal,   // PR_SET_PDEATHSIG n, then: the creator still there
  kNoNewPrivs,    // PR_SET_NO_NEW_PRIVS
  kJoin,          // setns(join_child_fd[n], nstype a)
};

struct Step {
  StepKind kind;
  const char* label;  // "set hostname (action 3)"
  const char* text = nullptr;
  const char* text2 = nullptr;
  const char* text3 = nullptr;
  long n = 0;
  uint64_t a = 0, b = 0, c = 0, d = 0;
  const gid_t* groups = nullptr;
  size_t count = 0;
};

class Plan {
 public:
  Plan() = default;
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  uint64_t clone_flags = 0;     // CLONE_NEWUSER, NEWPID, NEWNET...
  bool user_ns = false;         // this plan makes the user namespace
  bool needs_mount_ns = false;  // a new mount namespace is needed (a pid namespace's /proc...)
  std::vector<Step> early, late;
  const sock_fprog* seccomp = nullptr;  // the user filter, installed last by the engine
  const char* seccomp_steps[2] = {};
  bool pid_init = false;

  // Filled by the child: what it reports, "label: syscall".
  char error_text[512] = {};
  // The helper writing privileged id maps: its socket's end in the child.
  int helper_child_fd = -1;  // the number in the child (engine hook fd)
  UniqueFd helper_child_end;
  std::thread helper;
  pid_t parent = 0;
  // The joined namespaces' fds (borrowed from the caller), and their numbers
  // in the child (engine hook fds). A pid namespace is joined by the engine
  // around the clone instead: pid_join_fd, named by pid_join_label.
  static constexpr size_t kMaxJoins = 5;  // net, ipc, uts, cgroup, mnt
  int join_fd[kMaxJoins] = {-1, -1, -1, -1, -1};
  int join_child_fd[kMaxJoins] = {-1, -1, -1, -1, -1};
  size_t join_count = 0;
  int pid_join_fd = -1;
  const char* pid_join_label = nullptr;
  // The pid-1 init's executable (CAPSPAWN_NEW_NS_PID_INIT), for one spawn.
  UniqueFd init_fd;

  const char* Keep(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back().c_str();
  }

 private:
  friend Result<std::unique_ptr<Plan>> PlanContainer(const Config&, bool);
  std::deque<std::string> strings_;
  std::vector<gid_t> groups_;
  sock_fprog prog_{};
  std::vector<sock_filter> filter_;
};

// Plans everything the config asks for but the filesystem (which the
// namespace plan does). `mount_ns` says whether the namespace plan will make
// a mount namespace (a non-root caller then needs a user namespace).
Result<std::unique_ptr<Plan>> PlanContainer(const Config& config, bool mount_ns);

// Whether the config needs namespaces of its own (or a user namespace): the
// namespace plan must then leave the user namespace to the container plan.
bool NeedsUserNamespace(const Config& config, bool mount_ns);

// The early hook; Apply the namespace plan between; then ApplyLate.
void ApplyEarly(Plan& plan, engine::LaunchPlan* launch);
void ApplyLate(Plan& plan, engine::LaunchPlan* launch);

// The child hooks (exposed for tests).
int RunEarly(const void* plan, engine::ChildError* error);
int RunLate(const void* plan, engine::ChildError* error);

}  // namespace capspawn::container

#endif  // CAPSPAWN_SRC_CONTAINER_PLAN_H_
