// SPDX-License-Identifier: Apache-2.0
#include "startup/child_env.h"

#include "startup/handle_names.h"

#include <cstdio>
#include <cstring>

namespace capspawn::startup {
namespace {

bool IsStartupVar(const char* e) {
  return std::strncmp(e, "LISTEN_FDS=", 11) == 0 || std::strncmp(e, "LISTEN_PID=", 11) == 0 ||
         std::strncmp(e, "LISTEN_FDNAMES=", 15) == 0 ||
         std::strncmp(e, "CAPSPAWN_STARTUP_IDS=", 21) == 0;
}

}  // namespace

bool ValidFdName(const char* name, std::string* why) {
  const size_t len = std::strlen(name);
  if (len == 0 || len > 255) {
    *why = "a handle name must be 1 to 255 bytes long";
    return false;
  }
  for (const char* c = name; *c; ++c) {
    if (*c < 0x20 || *c > 0x7e || *c == ':') {
      *why =
          "a handle name holds printable ASCII only, without ':' (LISTEN_FDNAMES "
          "separates names with ':')";
      return false;
    }
  }
  return true;
}

char* const* ChildEnvironment::Build(const char* const* base,
                                     const std::vector<TypedEntry>& typed) {
  static char* const kEmpty[] = {nullptr};
  bool stale = false;
  for (size_t i = 0; base && base[i] && !stale; ++i) stale = IsStartupVar(base[i]);
  if (typed.empty() && !stale) return base ? const_cast<char* const*>(base) : kEmpty;
  // Inherited variables would describe fds this child does not have (or
  // another child's): they never pass.
  for (size_t i = 0; base && base[i]; ++i) {
    if (!IsStartupVar(base[i])) ptrs_.push_back(const_cast<char*>(base[i]));
  }
  if (!typed.empty()) {
    bool chosen_names = false;
    listen_fds_ = "LISTEN_FDS=" + std::to_string(typed.size());
    listen_names_ = "LISTEN_FDNAMES=";
    startup_ids_ = "CAPSPAWN_STARTUP_IDS=";
    for (size_t i = 0; i < typed.size(); ++i) {
      char id_name[40];
      HandleName(typed[i].id, id_name, sizeof id_name);
      if (i) {
        listen_names_ += ':';
        startup_ids_ += ':';
      }
      listen_names_ += typed[i].name ? typed[i].name : id_name;
      startup_ids_ += id_name;
      chosen_names = chosen_names || typed[i].name;
    }
    std::snprintf(listen_pid_, sizeof listen_pid_, "LISTEN_PID=");  // pid: the child writes it
    has_listen_ = true;
    ptrs_.push_back(listen_fds_.data());
    ptrs_.push_back(listen_names_.data());
    if (chosen_names) ptrs_.push_back(startup_ids_.data());
    ptrs_.push_back(listen_pid_);
  }
  ptrs_.push_back(nullptr);
  return ptrs_.data();
}

}  // namespace capspawn::startup
