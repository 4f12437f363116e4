#include "startup/listen_env.h"

#include <capspawn/startup.h>

#include <cstring>

namespace capspawn::startup {
namespace {

// A non-empty run of decimal digits, at most `max`. strtol would also take
// signs, blanks and overflow.
bool ParseDecimal(const char* s, long max, long* out) {
  if (*s == '\0') return false;
  long v = 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + (*s - '0');
    if (v > max) return false;
  }
  *out = v;
  return true;
}

}  // namespace

std::vector<HandedFd> ParseListenEnv(const char* pid, const char* fds, const char* names,
                                     pid_t self) {
  std::vector<HandedFd> out;
  long p = 0;
  long n = 0;
  if (!pid || !fds || !names) return out;
  if (!ParseDecimal(pid, 0x7fffffff, &p) || p != self) return out;
  if (!ParseDecimal(fds, kMaxListenFds, &n) || n == 0) return out;
  const char* s = names;
  for (long i = 0; i < n; ++i) {
    const char* colon = std::strchr(s, ':');
    const size_t len = colon ? static_cast<size_t>(colon - s) : std::strlen(s);
    uint32_t id;
    if (capspawn_startup_handle_parse_name(s, len, &id) == 0) {
      out.push_back({id, kListenFdsStart + static_cast<int>(i)});
    }
    if (!colon) break;
    s = colon + 1;
  }
  return out;
}

}  // namespace capspawn::startup
