// The launcher service's connections: identifying a client, its per-connection
// state machine (Add* accumulate; Launch and CreateWithoutStarting use and
// reset), and running its launches as the client; the kernel reaps them.
// capspawn-launcherd accepts connections and hands each to Server::Serve on
// its own thread. See docs/launcher.md.
#ifndef CAPSPAWN_SRC_LAUNCHER_SERVER_H_
#define CAPSPAWN_SRC_LAUNCHER_SERVER_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "resolver/resolver.h"

namespace capspawn::launcher_internal {

// Who is on the other end of a connection (SO_PEERCRED, SO_PEERGROUPS,
// SO_PEERPIDFD).
struct Client {
  pid_t pid = -1;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // sorted
  UniqueFd pidfd;             // the client process, when the kernel gives one
  std::string Describe() const;
};
Result<Client> IdentifyPeer(int sock);

struct ServerOptions {
  resolver::PackageRoots roots;
  bool quiet = false;                    // no per-launch log line
  size_t max_pending_bytes = 16u << 20;  // arguments, variables, paths of one launch
  size_t max_pending_fds = 4096;         // names and handles of one launch
};

class Server {
 public:
  explicit Server(ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves one accepted connection until the client closes it or breaks the
  // protocol (then the connection is closed and logged). Blocking.
  void Serve(UniqueFd connection);

  // #!resolve inside a launch: the daemon's roots, as the launching client.
  static Result<resolver::Resolution> ResolveForCurrentLaunch(const std::string& name);

  // Whether this thread created a process (CreateWithoutStarting) that is
  // killed when its creating thread exits (PR_SET_PDEATHSIG): such a worker
  // must not retire.
  static bool ThreadMustOutliveItsChildren();

 private:
  friend class Connection;
  ServerOptions options_;
  // The daemon's own identity, cgroup and root, for comparison with clients'.
  uid_t uid_;
  gid_t gid_;
  std::vector<gid_t> groups_;  // sorted
  bool privileged_;            // may take other identities (euid 0)
  uint64_t bounding_ = 0;      // capability bounding set
  uint64_t ignored_signals_ = 0;
  std::string cgroup_text_;  // /proc/self/cgroup
  dev_t cgroup_dev_ = 0;
  ino_t cgroup_ino_ = 0;
  UniqueFd root_;
};

}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_SRC_LAUNCHER_SERVER_H_
