// SPDX-License-Identifier: Apache-2.0
// One Launcher/Resolver connection, served by a worker that already runs as
// its client: Add* accumulate a spawn::Received request (what it holds is
// charged against the per-connection limits), Launch and
// CreateWithoutStarting check it with spawn::PrepareReceived and run
// spawn::Launch, Resolve searches the package roots. The state resets after
// every launch. See docs/launcher.md.
#ifndef CAPSPAWN_LAUNCHERD_CONNECTION_H_
#define CAPSPAWN_LAUNCHERD_CONNECTION_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "client_facts.h"
#include "protocol/messages.h"
#include "server.h"
#include "spawn/request.h"

namespace capspawn::launcher_internal {

struct ConnectionSetup {
  const ServerOptions* options = nullptr;
  ClientFacts* client = nullptr;     // taken again before each launch (TakeChanges)
  spawn::SpawnContext context;       // the roots, the client's filters, no #! paths
  bool client_deny = false;          // the client's filters deny creating processes
  bool default_job_deny = false;     // the client's own cgroup is a DENY job's
  bool non_dumpable = false;         // the worker is (the client has seccomp filters)
  bool other_pid_namespace = false;  // its children go to the client's PID namespace
};

class Connection {
 public:
  Connection(UniqueFd sock, ConnectionSetup setup);

  // Serves until the client closes the connection, breaks the protocol or
  // exits (its pidfd), or leaves a request unfinished past
  // --pending-timeout. The connection and all it holds are closed then.
  void Run();
  // One datagram received (its fds; fds_truncated: the kernel dropped them,
  // see protocol::Receiver). False when the connection must close.
  bool Handle(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds, bool fds_truncated);
  // Forgets what Add* accumulated (closing its fds), as a launch does.
  void DropPending();
  // Afterwards: waits while processes it created without starting live
  // (they die with this worker), killing those still not started by
  // --start-timeout.
  void Linger();

 private:
  // A process created without starting.
  struct Bound {
    UniqueFd pidfd;
    int64_t started_check_ns;  // when it is killed if still stopped
    bool known_started = false;
  };
  struct Pending {
    spawn::Received received;
    size_t bytes = 0, fds = 0;
    int64_t since_ns = -1;  // the first Add*; -1: nothing pending
    std::optional<Error> error;
    uint32_t options = 0;  // SetOptions' zx.ProcessOptions, for the next launch
  };

  void Log(const std::string& what) const;
  void Fail(capspawn_status_t status, std::string message);
  bool Charge(size_t bytes, size_t fds);
  // Takes a received fd; closes it (and fails the launch) if it is a
  // connection to this launcher.
  UniqueFd Admit(UniqueFd fd, const std::string& what);
  void AddStrings(protocol::RequestKind kind, StringList strings);
  void AddNames(std::vector<protocol::NameEntry> names);
  void AddHandles(std::vector<protocol::HandleEntry> handles);
  bool LostFds(std::span<const uint8_t> bytes);
  Status Reply(const protocol::Outgoing& reply);
  void HandleLaunch(protocol::Request& r);
  Result<spawn::Launched> Launch(protocol::LaunchInfo info, bool suspended, std::string* summary);
  Result<resolver::Resolution> Resolve(const std::string& name);
  // Drops bound processes that exited; kills those past their start check
  // that are still not started. The next deadline (ns), or -1.
  int64_t CheckBound();
  int64_t PendingDeadline() const;

  UniqueFd sock_;
  ConnectionSetup setup_;
  Pending pending_;
  std::vector<Bound> bound_;
  UniqueFd root_;  // to return to after a launch with a cwd
  sockaddr_un own_address_{};
  socklen_t own_address_len_ = 0;
};

}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_LAUNCHERD_CONNECTION_H_
