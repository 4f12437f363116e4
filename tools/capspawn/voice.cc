// SPDX-License-Identifier: Apache-2.0
// The printing rules of voice.h.
#include "voice.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace capspawn::cli {
namespace {

bool g_quiet = false;

}  // namespace

std::string StatusName(capspawn_status_t status) {
  std::string name = capspawn_status_string(status);
  for (const char* prefix : {"CAPSPAWN_ERR_", "CAPSPAWN_"}) {
    if (name.rfind(prefix, 0) == 0) return name.substr(strlen(prefix));
  }
  return std::to_string(status);
}

void SetQuiet(bool quiet) { g_quiet = quiet; }
bool Quiet() { return g_quiet; }

void Report(capspawn_status_t status, const std::string& message) {
  if (g_quiet) return;
  fprintf(stderr, "capspawn: %s: %s\n", StatusName(status).c_str(), message.c_str());
  fflush(stderr);
}

int Fail(capspawn_status_t status, const std::string& message) {
  Report(status, message);
  return kExitFailure;
}

int Usage(const std::string& command, const std::string& message) {
  const std::string help = command.empty() ? "capspawn --help" : "capspawn " + command + " --help";
  fprintf(stderr, "capspawn: USAGE: %s%s%s (see '%s')\n", command.c_str(),
          command.empty() ? "" : ": ", message.c_str(), help.c_str());
  fflush(stderr);
  return kExitUsage;
}

void Warn(const std::string& message) {
  if (g_quiet) return;
  fprintf(stderr, "capspawn: warning: %s\n", message.c_str());
  fflush(stderr);
}

void Confirm(const std::string& verb, const std::string& object) {
  if (g_quiet) return;
  printf("%s %s\n", verb.c_str(), object.c_str());
  fflush(stdout);
}

std::string JsonAddress(uint64_t address) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIx64, address);
  return buf;
}

}  // namespace capspawn::cli
