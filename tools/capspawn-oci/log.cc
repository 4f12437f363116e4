// SPDX-License-Identifier: Apache-2.0
// The log: one line per message, appended (O_APPEND) so that concurrent
// commands of one shim never cut each other's lines.
#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>

#include "util.h"

namespace capspawn::oci {
namespace {

struct LogState {
  int fd = -1;
  bool json = false;
  bool debug = false;
};
LogState g_log;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

}  // namespace

Status ConfigureLog(const std::string& path, const std::string& format, bool debug) {
  if (format != "text" && format != "json") {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "--log-format '" + format + "': use 'text' or 'json'");
  }
  g_log.json = format == "json";
  g_log.debug = debug;
  if (!path.empty()) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Error::FromErrno(errno, "--log " + path);
    g_log.fd = fd;
  }
  return {};
}

void Log(LogLevel level, const std::string& message) {
  if (level == LogLevel::kDebug && !g_log.debug) return;
  std::string line;
  if (g_log.json) {
    nlohmann::json j = {{"level", LevelName(level)}, {"msg", message}, {"time", NowRfc3339()}};
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    // logrus's text form: time="..." level=... msg="..."
    line = "time=\"" + NowRfc3339() + "\" level=" + LevelName(level) + " msg=" +
           nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  }
  if (g_log.fd >= 0) {
    ssize_t ignored = write(g_log.fd, line.data(), line.size());
    (void)ignored;
  } else if (level != LogLevel::kError && (g_log.debug || level == LogLevel::kWarning)) {
    fputs(line.c_str(), stderr);
  }
}

int Fail(const Error& e) {
  std::string text = std::string(capspawn_status_string(e.status())) + ": " + e.message();
  Log(LogLevel::kError, text);
  fprintf(stderr, "capspawn-oci: %s\n", text.c_str());
  return 1;
}

}  // namespace capspawn::oci
