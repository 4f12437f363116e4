// SPDX-License-Identifier: Apache-2.0
// The pty and the console socket.
#include "console.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace capspawn::oci {

Result<Pty> OpenPty(const std::optional<ConsoleSize>& size) {
  Pty p;
  p.master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.master) return Error::FromErrno(errno, "process.terminal: posix_openpt");
  if (grantpt(p.master.get()) != 0 || unlockpt(p.master.get()) != 0) {
    return Error::FromErrno(errno, "process.terminal: unlockpt");
  }
  char name[128];
  if (ptsname_r(p.master.get(), name, sizeof name) != 0) {
    return Error::FromErrno(errno, "process.terminal: ptsname");
  }
  p.slave_name = name;
  p.slave.reset(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.slave) return Error::FromErrno(errno, std::string("process.terminal: open ") + name);
  if (size && (size->height || size->width)) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (ioctl(p.master.get(), TIOCSWINSZ, &ws) != 0) {
      return Error::FromErrno(errno, "process.consoleSize: TIOCSWINSZ");
    }
  }
  return p;
}

Status SendConsole(const std::string& socket_path, int master, const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "--console-socket " + socket_path + ": path too long");
  }
  memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::FromErrno(errno, "--console-socket: socket");
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::FromErrno(errno, "--console-socket: connect " + socket_path);
  }
  // The payload is the terminal's name, as runc sends it.
  iovec iov{const_cast<char*>(name.data()), name.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(s.get(), &msg, MSG_NOSIGNAL) < 0) {
    return Error::FromErrno(errno, "--console-socket: sendmsg " + socket_path);
  }
  return {};
}

}  // namespace capspawn::oci
