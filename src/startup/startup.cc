// The child's side of typed startup handles: systemd's LISTEN_* variables.
#include <capspawn/startup.h>

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
std::vector<capspawn::startup::HandedFd> g_handles;

// Reads the variables once; only fds that are really open count.
void ParseLocked() {
  g_parsed = true;
  for (const capspawn::startup::HandedFd& h :
       capspawn::startup::ParseListenEnv(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"),
                                         std::getenv("LISTEN_FDNAMES"), getpid())) {
    if (fcntl(h.fd, F_GETFD) >= 0) g_handles.push_back(h);
  }
}

}  // namespace

extern "C" int capspawn_take_startup_handle(uint32_t id) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_parsed) ParseLocked();
  for (capspawn::startup::HandedFd& h : g_handles) {
    if (h.id == id && h.fd >= 0) {
      int fd = h.fd;
      h.fd = -1;
      return fd;
    }
  }
  return -1;
}
