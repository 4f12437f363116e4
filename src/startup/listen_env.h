// SPDX-License-Identifier: Apache-2.0
// systemd's socket-activation variables, parsed without touching the
// environment or the fd table, so the parser can be tested and fuzzed alone.
#ifndef CAPSPAWN_SRC_STARTUP_LISTEN_ENV_H_
#define CAPSPAWN_SRC_STARTUP_LISTEN_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace capspawn::startup {

inline constexpr int kListenFdsStart = 3;  // SD_LISTEN_FDS_START
inline constexpr long kMaxListenFds = 1024;

struct HandedFd {
  uint32_t id;
  int fd;
};

// One fd of LISTEN_FDS: its LISTEN_FDNAMES name (empty when there are fewer
// names than fds) and its typed id, when one is known.
struct ListenEntry {
  int fd;
  std::string name;
  bool has_id = false;
  uint32_t id = 0;
};

// Every fd LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES describe for process `self`;
// empty when a variable is missing or malformed, or LISTEN_PID names another
// process (the variables were inherited, not handed). The ids come from
// `ids` (CAPSPAWN_STARTUP_IDS: one id name per fd, set when some handle
// carries a name of its creator's choosing) when it holds exactly one per fd,
// else from the names themselves ("user0.1"). `ids` may be null.
std::vector<ListenEntry> ParseListenEntries(const char* pid, const char* fds, const char* names,
                                            const char* ids, pid_t self);

// The typed handles among them: the entries with an id. A name that does not
// parse is skipped, but still counts for the fd numbering, as in systemd.
std::vector<HandedFd> ParseListenEnv(const char* pid, const char* fds, const char* names,
                                     pid_t self);

}  // namespace capspawn::startup

#endif  // CAPSPAWN_SRC_STARTUP_LISTEN_ENV_H_
