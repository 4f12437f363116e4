// SPDX-License-Identifier: Apache-2.0
// capspawn-oci's log: --log FILE (default: none), --log-format text|json,
// --debug. Errors also go to stderr. containerd's runc shim passes
// `--log BUNDLE/log.json --log-format json` and, when a command fails, reports
// the "msg" of the last line whose "level" is "error": so every failure is
// written as one such line before the command exits.
#ifndef CAPSPAWN_TOOLS_OCI_LOG_H_
#define CAPSPAWN_TOOLS_OCI_LOG_H_

#include <string>

#include <capspawn/result.h>

namespace capspawn::oci {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// INVALID_ARGS for a format other than "text" or "json".
Status ConfigureLog(const std::string& path, const std::string& format, bool debug);
void Log(LogLevel level, const std::string& message);

// Logs `e` at error level, prints "capspawn-oci: STATUS: message" on stderr,
// and returns 1 (the exit code of a failed command).
int Fail(const Error& e);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_LOG_H_
