// SPDX-License-Identifier: Apache-2.0
// process.terminal: a pseudoterminal whose slave becomes the container's fds
// 0-2 and whose master goes to the --console-socket (an AF_UNIX socket) in an
// SCM_RIGHTS message, as runc sends it.
#ifndef CAPSPAWN_TOOLS_OCI_CONSOLE_H_
#define CAPSPAWN_TOOLS_OCI_CONSOLE_H_

#include <optional>
#include <string>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "config.h"

namespace capspawn::oci {

struct Pty {
  UniqueFd master, slave;
  std::string slave_name;
};

Result<Pty> OpenPty(const std::optional<ConsoleSize>& size);
Status SendConsole(const std::string& socket_path, int master, const std::string& name);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_CONSOLE_H_
