// SPDX-License-Identifier: Apache-2.0
// The child's side of typed startup handles: systemd's LISTEN_* variables.
#include "startup/take_handle.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "startup/listen_env.h"

namespace {

std::mutex g_mutex;
bool g_parsed = false;
std::vector<capspawn::startup::ListenEntry> g_entries;

// Reads the variables once; only fds that are really open count.
void ParseLocked() {
  g_parsed = true;
  for (capspawn::startup::ListenEntry& e : capspawn::startup::ParseListenEntries(
           std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"), std::getenv("LISTEN_FDNAMES"),
           std::getenv("CAPSPAWN_STARTUP_IDS"), getpid())) {
    if (fcntl(e.fd, F_GETFD) >= 0) g_entries.push_back(std::move(e));
  }
}

// The first entry `match` accepts, forgotten; -1 when none.
template <typename Match>
int Take(Match match) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_parsed) ParseLocked();
  for (capspawn::startup::ListenEntry& e : g_entries) {
    if (e.fd >= 0 && match(e)) {
      int fd = e.fd;
      e.fd = -1;
      return fd;
    }
  }
  return -1;
}

}  // namespace

namespace capspawn::startup {

int TakeHandle(uint32_t id) {
  return Take([id](const ListenEntry& e) { return e.has_id && e.id == id; });
}

int TakeHandleByName(const char* name) {
  if (name == nullptr) return -1;
  return Take([name](const ListenEntry& e) { return e.name == name; });
}

}  // namespace capspawn::startup
