// The child's side of typed startup handles: systemd's LISTEN_* variables.
#include <capspawn/startup.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace {

constexpr int kListenFdsStart = 3;  // SD_LISTEN_FDS_START

struct Handed {
  uint32_t id;
  int fd;
};

std::mutex g_mutex;
bool g_parsed = false;
std::vector<Handed> g_handles;

// Reads the variables once; they describe this process only if LISTEN_PID is ours.
void ParseLocked() {
  g_parsed = true;
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  const char* names = std::getenv("LISTEN_FDNAMES");
  if (!pid || !fds || !names) return;
  char* end = nullptr;
  long p = std::strtol(pid, &end, 10);
  if (*pid == '\0' || *end != '\0' || p != getpid()) return;
  long n = std::strtol(fds, &end, 10);
  if (*fds == '\0' || *end != '\0' || n <= 0 || n > 1024) return;
  const char* s = names;
  for (long i = 0; i < n; ++i) {
    const char* colon = std::strchr(s, ':');
    size_t len = colon ? static_cast<size_t>(colon - s) : std::strlen(s);
    uint32_t id;
    int fd = kListenFdsStart + static_cast<int>(i);
    if (capspawn_startup_handle_parse_name(s, len, &id) == 0 && fcntl(fd, F_GETFD) >= 0) {
      g_handles.push_back({id, fd});
    }
    if (!colon) break;
    s = colon + 1;
  }
}

}  // namespace

extern "C" int capspawn_take_startup_handle(uint32_t id) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_parsed) ParseLocked();
  for (Handed& h : g_handles) {
    if (h.id == id && h.fd >= 0) {
      int fd = h.fd;
      h.fd = -1;
      return fd;
    }
  }
  return -1;
}
