// SPDX-License-Identifier: Apache-2.0
// capspawn-launcherd's two halves (docs/launcher.md, docs/SECURITY.md):
//   the master (master.cc): root, single-threaded; accepts connections,
//     enforces --max-connections and each uid's share, keeps spare workers
//     forked, hands each connection to one, reaps what workers leave;
//   a worker (worker.cc) per connection: gathers its client's facts, becomes
//     an in-process caller with the client's credentials (drops root), and
//     only then serves the connection (connection.cc) with spawn::Launch.
#ifndef CAPSPAWN_LAUNCHERD_SERVER_H_
#define CAPSPAWN_LAUNCHERD_SERVER_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "resolver/resolver.h"

namespace capspawn::launcher_internal {

struct ServerOptions {
  resolver::PackageRoots roots;
  bool quiet = false;                    // no per-launch log line
  size_t max_pending_bytes = 16u << 20;  // what the Add* of one launch may make a worker hold
  size_t max_pending_fds = 4096;         // names and handles of one launch
  int pending_timeout_s = 30;  // Add* state left unfinished this long closes the connection
  int start_timeout_s = 300;   // a process created without starting, not started by then, is killed
  int max_connections = 1024;  // workers at once; more connections wait in the backlog
  int max_connections_per_uid = 256;  // one uid's share of them; beyond, NO_RESOURCES
};

// The master's loop on `listener` until SIGTERM, SIGINT or SIGHUP (then it
// removes `socket_path` if not empty and returns 0). Once its spare workers
// are ready it writes "READY\n" to `ready_fd` (if >= 0) and closes it.
int RunMaster(int listener, ServerOptions* options, const std::string& socket_path, int ready_fd);

// A spare worker, forked by the master (still root): waits on `control` for
// a connection, serves it as its client, and exits. Never returns.
[[noreturn]] void RunSpare(int control, const ServerOptions& options, pid_t master);

}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_LAUNCHERD_SERVER_H_
