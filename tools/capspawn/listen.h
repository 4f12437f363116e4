// SPDX-License-Identifier: Apache-2.0
// `capspawn run --listen`: a listening socket opened by capspawn and handed to
// the child as a typed handle, the way systemd's socket units hand theirs.
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_LISTEN_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_LISTEN_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include <capspawn/status.h>

namespace capspawn::cli {

struct ListenAddress {
  enum class Kind { kTcp, kUdp, kUnix, kUnixSeqpacket, kUnixDgram };
  Kind kind = Kind::kTcp;
  std::string host;        // tcp, udp: a name or a numeric address; empty: every address
  std::string port;        // tcp, udp: a number or a service name
  std::string path;        // unix*: the socket file, or "@name" for the abstract namespace
  int backlog = 4096;      // listen(2)'s backlog (systemd's Backlog= default is SOMAXCONN)
  bool reuseport = false;  // SO_REUSEPORT
  int v6only = -1;         // IPV6_V6ONLY: -1 leaves the system's default
  bool freebind = false;   // IP_FREEBIND: bind an address not (yet) configured
  int mode = -1;           // unix: the socket file's permissions; -1: from the umask
};

// Parses ADDR[,OPTION...]: ADDR is tcp:HOST:PORT, udp:HOST:PORT ([v6] in
// brackets; an empty HOST is every address), unix:PATH, unix-seqpacket:PATH
// or unix-dgram:PATH; OPTIONs are name=NAME, id=ID, backlog=N, reuseport,
// v6only, dualstack, freebind and mode=OCTAL. Fills *name and *id (0 when not
// given) from name= and id=. False with *why on a malformed text.
bool ParseListen(const std::string& text, ListenAddress* address, std::string* name, uint32_t* id,
                 std::string* why);

// Opens, binds and listens (stream and seqpacket sockets) as *address says;
// the socket is close-on-exec. Returns the fd, or -1 with *status and *why
// naming the call that failed.
int OpenListen(const ListenAddress& address, capspawn_status_t* status, std::string* why);

}  // namespace capspawn::cli

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_LISTEN_H_
