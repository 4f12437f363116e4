// SPDX-License-Identifier: Apache-2.0
#include "startup/listen_env.h"

#include "startup/handle_names.h"

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

// The ':'-separated fields of `s`, at most `max` of them.
std::vector<std::string> Fields(const char* s, long max) {
  std::vector<std::string> out;
  for (long i = 0; i < max; ++i) {
    const char* colon = std::strchr(s, ':');
    out.emplace_back(s, colon ? static_cast<size_t>(colon - s) : std::strlen(s));
    if (!colon) break;
    s = colon + 1;
  }
  return out;
}

}  // namespace

std::vector<ListenEntry> ParseListenEntries(const char* pid, const char* fds, const char* names,
                                            const char* ids, pid_t self) {
  std::vector<ListenEntry> out;
  long p = 0;
  long n = 0;
  if (!pid || !fds || !names) return out;
  if (!ParseDecimal(pid, 0x7fffffff, &p) || p != self) return out;
  if (!ParseDecimal(fds, kMaxListenFds, &n) || n == 0) return out;
  std::vector<std::string> name_fields = Fields(names, n);
  std::vector<std::string> id_fields;
  if (ids) id_fields = Fields(ids, n + 1);
  const bool ids_given = static_cast<long>(id_fields.size()) == n;
  for (long i = 0; i < n; ++i) {
    ListenEntry e;
    e.fd = kListenFdsStart + static_cast<int>(i);
    if (i < static_cast<long>(name_fields.size())) e.name = name_fields[i];
    const std::string& id_text = ids_given ? id_fields[i] : e.name;
    e.has_id = !id_text.empty() && ParseHandleName(id_text, &e.id);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<HandedFd> ParseListenEnv(const char* pid, const char* fds, const char* names,
                                     pid_t self) {
  std::vector<HandedFd> out;
  for (const ListenEntry& e : ParseListenEntries(pid, fds, names, nullptr, self)) {
    if (e.has_id) out.push_back({e.id, e.fd});
  }
  return out;
}

}  // namespace capspawn::startup
