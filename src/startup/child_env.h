// SPDX-License-Identifier: Apache-2.0
// The child's environment as far as startup handles go: the LISTEN_*
// variables describing its typed handles, and none inherited from anywhere
// else. Planned in the parent; the child only writes its pid into LISTEN_PID.
#ifndef CAPSPAWN_SRC_STARTUP_CHILD_ENV_H_
#define CAPSPAWN_SRC_STARTUP_CHILD_ENV_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace capspawn::startup {

// A typed handle as the child will see it: at fd 3 + its index.
struct TypedEntry {
  uint32_t id;
  const char* name;  // its LISTEN_FDNAMES name; null: the id's ("user0.1")
};

// Whether `name` is a LISTEN_FDNAMES name systemd accepts: 1 to 255 bytes of
// printable ASCII without ':'. Sets *why otherwise.
bool ValidFdName(const char* name, std::string* why);

class ChildEnvironment {
 public:
  // The child's envp: `base` (may be null: no variable) without any
  // LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES or CAPSPAWN_STARTUP_IDS, plus the
  // handles' own when there are typed handles. Returns `base` itself when
  // there is nothing to add or remove (no copy on the plain path). The result
  // lives as long as this object and `base`.
  char* const* Build(const char* const* base, const std::vector<TypedEntry>& typed);

  // "LISTEN_PID=", with room for the child to append its pid (engine), or
  // null when there are no typed handles.
  char* listen_pid() { return has_listen_ ? listen_pid_ : nullptr; }

 private:
  std::vector<char*> ptrs_;
  std::string listen_fds_, listen_names_, startup_ids_;
  char listen_pid_[32] = {};
  bool has_listen_ = false;
};

}  // namespace capspawn::startup

#endif  // CAPSPAWN_SRC_STARTUP_CHILD_ENV_H_
