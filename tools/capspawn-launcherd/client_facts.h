// SPDX-License-Identifier: Apache-2.0
// What the launcher's worker learns of its client, once per connection and
// while still root, so that it can become an in-process caller with the
// client's credentials: identity (SO_PEERCRED, SO_PEERGROUPS, SO_PEERPIDFD),
// capabilities, no_new_privs, ignored signals, umask, rlimits, nice,
// oom_score_adj, cgroup, namespaces and root (from /proc/PID, the pidfd
// checked alive after each read), and its seccomp filters. See
// docs/SECURITY.md.
#ifndef CAPSPAWN_LAUNCHERD_CLIENT_FACTS_H_
#define CAPSPAWN_LAUNCHERD_CLIENT_FACTS_H_

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::launcher_internal {

// One of the client's namespaces that differs from the worker's.
struct ClientNamespace {
  const char* name;  // "mnt", "pid_for_children"...
  int type;          // CLONE_NEWNS, CLONE_NEWPID...
  UniqueFd fd;       // /proc/PID/ns/<name>
};

// The client's /proc files that are read again before each launch: opened
// once per connection and re-read from offset 0 (a seq file regenerates),
// which saves an open and a close of each per launch. An open file names
// the process it was opened for, never a later one with the same pid.
struct ProcFiles {
  UniqueFd status, limits, oom_score_adj;
};

struct ClientFacts {
  pid_t pid = -1;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // sorted
  UniqueFd pidfd;
  std::shared_ptr<ProcFiles> proc;  // shared with the copies TakeChanges reads into
  uint64_t cap_inheritable = 0, cap_permitted = 0, cap_effective = 0;
  uint64_t cap_bounding = ~uint64_t{0};
  bool no_new_privs = false;
  uint64_t ignored_signals = 0;  // bit n-1: signal n
  mode_t umask = 022;
  int seccomp_mode = 0;        // 0 none, 1 strict, 2 filter
  int seccomp_filters = 0;     // how many
  std::vector<rlimit> limits;  // by resource number
  int nice = 0;
  int oom_score_adj = 0;
  std::string cgroup_dir;  // its cgroup2 directory in the worker's mounts; empty: none
  std::vector<ClientNamespace> namespaces;
  UniqueFd root;  // /proc/PID/root

  std::string Describe() const;  // "pid 12 uid 1000 gid 1000"
};

// The peer of `sock` and everything above. PEER_CLOSED when the client
// exited meanwhile.
Result<ClientFacts> GatherClientFacts(int sock);

// What a client may change while its connection lasts, read again: the
// /proc/PID/status fields, rlimits, nice, oom_score_adj (its pid is kept;
// `pidfd` is the connection's, borrowed). PEER_CLOSED when it exited.
Status ReadChangeableFacts(ClientFacts* c, int pidfd);

// Whether the process behind the pidfd still runs (not exited, not a zombie).
bool Alive(int pidfd);

// The client's seccomp filters, oldest first (PTRACE_SEIZE, PTRACE_INTERRUPT,
// PTRACE_SECCOMP_GET_FILTER, PTRACE_DETACH: needs CAP_SYS_ADMIN). A blocked
// system call of the client restarts. ACCESS_DENIED naming the reason when
// they cannot be read (another tracer, no privilege).
Result<std::vector<std::vector<sock_filter>>> ReadSeccompFilters(const ClientFacts& client);

// Whether these filters, installed in order, leave no way to create a
// process: a throwaway child installs them and tries fork, vfork, clone and
// clone3. A child that misbehaves (killed, a clone that "succeeds" without a
// child) counts as denied.
Result<bool> FiltersDenyProcessCreation(const std::vector<std::vector<sock_filter>>& filters);

}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_LAUNCHERD_CLIENT_FACTS_H_
