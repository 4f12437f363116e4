// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over the child's side of typed startup handles: the
// LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES parser and the "<type>.<arg>" names.
// The input is the three variables, then CAPSPAWN_STARTUP_IDS, separated by
// NUL bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <capspawn/processargs.h>
#include <capspawn/startup.h>

#include "startup/listen_env.h"

namespace {

namespace startup = capspawn::startup;

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr pid_t kSelf = 4242;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string parts[4];
  size_t k = 0;
  for (size_t i = 0; i < size && k < 4; ++i) {
    if (data[i] == 0) {
      ++k;
    } else {
      parts[k] += static_cast<char>(data[i]);
    }
  }
  const auto handed =
      startup::ParseListenEnv(parts[0].c_str(), parts[1].c_str(), parts[2].c_str(), kSelf);
  Check(handed.size() <= static_cast<size_t>(startup::kMaxListenFds));
  int last_fd = startup::kListenFdsStart - 1;
  for (const startup::HandedFd& h : handed) {
    // Fds ascend from 3 and stay below 3 + LISTEN_FDS.
    Check(h.fd > last_fd && h.fd < startup::kListenFdsStart + startup::kMaxListenFds);
    last_fd = h.fd;
    Check(CAPSPAWN_PA_TYPE(h.id) <= 0xFF && CAPSPAWN_PA_ARG(h.id) <= 0xFFFF);
    // Every id the parser yields round-trips through the formatter.
    char name[40];
    const int n = capspawn_startup_handle_name(h.id, name, sizeof name);
    Check(n > 0 && n < 32);
    uint32_t back = 0;
    Check(capspawn_startup_handle_parse_name(name, static_cast<size_t>(n), &back) == 0);
    Check(back == h.id);
  }
  if (!handed.empty()) Check(std::atol(parts[0].c_str()) == kSelf);

  // With the ids of named handles: one entry per fd, fds consecutive from 3,
  // every id that was found round-trips, and without ids it agrees with the above.
  const auto entries = startup::ParseListenEntries(parts[0].c_str(), parts[1].c_str(),
                                                   parts[2].c_str(), parts[3].c_str(), kSelf);
  Check(entries.size() <= static_cast<size_t>(startup::kMaxListenFds));
  for (size_t i = 0; i < entries.size(); ++i) {
    Check(entries[i].fd == startup::kListenFdsStart + static_cast<int>(i));
    if (entries[i].has_id) {
      char name[40];
      Check(capspawn_startup_handle_name(entries[i].id, name, sizeof name) > 0);
    }
  }
  size_t with_id = 0;
  for (const auto& e : startup::ParseListenEntries(parts[0].c_str(), parts[1].c_str(),
                                                   parts[2].c_str(), nullptr, kSelf)) {
    with_id += e.has_id ? 1 : 0;
  }
  Check(with_id == handed.size());

  // A name alone: parse, then format and parse again must agree.
  uint32_t id = 0;
  if (capspawn_startup_handle_parse_name(reinterpret_cast<const char*>(data), size, &id) == 0) {
    char name[40];
    const int n = capspawn_startup_handle_name(id, name, sizeof name);
    Check(n > 0);
    uint32_t again = 0;
    Check(capspawn_startup_handle_parse_name(name, static_cast<size_t>(n), &again) == 0);
    Check(again == id);
  }
  return 0;
}
