// systemd's socket-activation variables, parsed without touching the
// environment or the fd table, so the parser can be tested and fuzzed alone.
#ifndef CAPSPAWN_SRC_STARTUP_LISTEN_ENV_H_
#define CAPSPAWN_SRC_STARTUP_LISTEN_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace capspawn::startup {

inline constexpr int kListenFdsStart = 3;  // SD_LISTEN_FDS_START
inline constexpr long kMaxListenFds = 1024;

struct HandedFd {
  uint32_t id;
  int fd;
};

// The typed handles LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES describe for process
// `self`. Empty when a variable is missing or malformed, or LISTEN_PID names
// another process (the variables were inherited, not handed). A name that does
// not parse is skipped, but still counts for the fd numbering, as in systemd.
std::vector<HandedFd> ParseListenEnv(const char* pid, const char* fds, const char* names,
                                     pid_t self);

}  // namespace capspawn::startup

#endif  // CAPSPAWN_SRC_STARTUP_LISTEN_ENV_H_
