// SPDX-License-Identifier: Apache-2.0
// `--listen`: parsing the address and opening the socket.
#include "listen.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "options.h"

namespace capspawn::cli {
namespace {

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

// HOST:PORT, HOST being [v6] when it holds colons.
bool ParseHostPort(const std::string& text, ListenAddress* a, std::string* why) {
  size_t colon;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      *why = "expected [ADDRESS]:PORT";
      return false;
    }
    a->host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      *why = "expected HOST:PORT (an IPv6 address goes in brackets: [::1]:PORT)";
      return false;
    }
    a->host = text.substr(0, colon);
  }
  a->port = text.substr(colon + 1);
  if (a->port.empty()) {
    *why = "missing PORT";
    return false;
  }
  return true;
}

bool ParseNumber(const std::string& text, int base, long max, long* out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  errno = 0;
  char* end = nullptr;
  long v = strtol(text.c_str(), &end, base);
  if (errno != 0 || *end != '\0' || v > max) return false;
  *out = v;
  return true;
}

int SocketType(ListenAddress::Kind kind) {
  switch (kind) {
    case ListenAddress::Kind::kUdp:
    case ListenAddress::Kind::kUnixDgram:
      return SOCK_DGRAM;
    case ListenAddress::Kind::kUnixSeqpacket:
      return SOCK_SEQPACKET;
    default:
      return SOCK_STREAM;
  }
}

int Failed(int fd, int err, const std::string& what, capspawn_status_t* status, std::string* why) {
  if (fd >= 0) close(fd);
  *status = capspawn_status_from_errno(err);
  if (err == EADDRINUSE) *status = CAPSPAWN_ERR_ADDRESS_IN_USE;
  if (err == EADDRNOTAVAIL) *status = CAPSPAWN_ERR_ADDRESS_UNREACHABLE;
  if (err == EAFNOSUPPORT) *status = CAPSPAWN_ERR_NOT_SUPPORTED;
  *why = what + ": " + strerror(err);
  return -1;
}

int SetOption(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

int OpenInet(const ListenAddress& a, capspawn_status_t* status, std::string* why) {
  if (a.host.empty()) {
    // Every address: IPv6's "::" (which takes IPv4 too unless v6only), or
    // IPv4's on a host without IPv6.
    ListenAddress any = a;
    any.host = "::";
    int fd = OpenInet(any, status, why);
    if (fd >= 0 || *status != CAPSPAWN_ERR_NOT_SUPPORTED) return fd;
    any.host = "0.0.0.0";
    return OpenInet(any, status, why);
  }
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SocketType(a.kind);
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(a.host.c_str(), a.port.c_str(), &hints, &found);
  if (rc != 0) {
    *status = rc == EAI_SERVICE || rc == EAI_NONAME ? CAPSPAWN_ERR_NOT_FOUND : CAPSPAWN_ERR_IO;
    *why = "resolve " + (a.host.empty() ? std::string("*") : a.host) + ":" + a.port + ": " +
           gai_strerror(rc);
    return -1;
  }
  // The first address that resolves is the one: systemd binds exactly one per
  // ListenStream= line too.
  const addrinfo* ai = found;
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    freeaddrinfo(found);
    return Failed(-1, errno, "socket", status, why);
  }
  std::string where = (a.host.empty() ? std::string("*") : a.host) + ":" + a.port;
  // As systemd's socket units: the port can be bound again at once after a restart.
  if (SetOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0 ||
      (a.reuseport && SetOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0) ||
      (a.freebind && SetOption(fd, ai->ai_family == AF_INET6 ? SOL_IPV6 : SOL_IP,
                               ai->ai_family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, 1) != 0) ||
      (a.v6only >= 0 && ai->ai_family == AF_INET6 &&
       SetOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, a.v6only) != 0)) {
    int err = errno;
    freeaddrinfo(found);
    return Failed(fd, err, "setsockopt on " + where, status, why);
  }
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    int err = errno;
    freeaddrinfo(found);
    return Failed(fd, err, "bind " + where, status, why);
  }
  freeaddrinfo(found);
  if (a.kind == ListenAddress::Kind::kTcp && listen(fd, a.backlog) != 0) {
    return Failed(fd, errno, "listen on " + where, status, why);
  }
  return fd;
}

int OpenUnix(const ListenAddress& a, capspawn_status_t* status, std::string* why) {
  sockaddr_un sun = {};
  sun.sun_family = AF_UNIX;
  if (a.path.size() >= sizeof sun.sun_path) {
    *status = CAPSPAWN_ERR_OUT_OF_RANGE;
    *why = "unix:" + a.path + ": the path is longer than " +
           std::to_string(sizeof sun.sun_path - 1) + " bytes";
    return -1;
  }
  const bool abstract = a.path[0] == '@';
  memcpy(sun.sun_path, a.path.data(), a.path.size());
  if (abstract) sun.sun_path[0] = '\0';
  socklen_t len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.path.size() + (abstract ? 0 : 1));
  int fd = socket(AF_UNIX, SocketType(a.kind) | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed(-1, errno, "socket", status, why);
  // A socket file left by an earlier run is replaced; anything else is not.
  struct stat st;
  if (!abstract && lstat(a.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(a.path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&sun), len) != 0) {
    return Failed(fd, errno, "bind unix:" + a.path, status, why);
  }
  if (!abstract && a.mode >= 0 && chmod(a.path.c_str(), static_cast<mode_t>(a.mode)) != 0) {
    return Failed(fd, errno, "chmod unix:" + a.path, status, why);
  }
  if (a.kind != ListenAddress::Kind::kUnixDgram && listen(fd, a.backlog) != 0) {
    return Failed(fd, errno, "listen on unix:" + a.path, status, why);
  }
  return fd;
}

}  // namespace

bool ParseListen(const std::string& text, ListenAddress* a, std::string* name, uint32_t* id,
                 std::string* why) {
  std::vector<std::string> parts = Split(text, ',');
  const std::string& address = parts[0];
  size_t colon = address.find(':');
  if (colon == std::string::npos) {
    *why =
        "expected tcp:HOST:PORT, udp:HOST:PORT, unix:PATH, unix-seqpacket:PATH or unix-dgram:PATH";
    return false;
  }
  std::string scheme = address.substr(0, colon), rest = address.substr(colon + 1);
  if (scheme == "tcp" || scheme == "udp") {
    a->kind = scheme == "tcp" ? ListenAddress::Kind::kTcp : ListenAddress::Kind::kUdp;
    if (!ParseHostPort(rest, a, why)) return false;
  } else if (scheme == "unix" || scheme == "unix-seqpacket" || scheme == "unix-dgram") {
    a->kind = scheme == "unix"             ? ListenAddress::Kind::kUnix
              : scheme == "unix-seqpacket" ? ListenAddress::Kind::kUnixSeqpacket
                                           : ListenAddress::Kind::kUnixDgram;
    if (rest.empty() || rest == "@") {
      *why = "missing PATH";
      return false;
    }
    a->path = rest;
  } else {
    *why = "unknown kind '" + scheme + "' (expected tcp, udp, unix, unix-seqpacket, unix-dgram)";
    return false;
  }
  *id = 0;
  const bool inet = a->kind == ListenAddress::Kind::kTcp || a->kind == ListenAddress::Kind::kUdp;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& o = parts[i];
    long v = 0;
    if (o.rfind("name=", 0) == 0) {
      *name = o.substr(5);
      if (name->empty()) {
        *why = "empty name";
        return false;
      }
    } else if (o.rfind("id=", 0) == 0) {
      if (!ParseHandleId(o.substr(3), id)) {
        *why = "bad handle id '" + o.substr(3) + "' (a number, or TYPE[.ARG])";
        return false;
      }
    } else if (o.rfind("backlog=", 0) == 0) {
      if (!ParseNumber(o.substr(8), 10, 1 << 20, &v)) {
        *why = "bad backlog '" + o.substr(8) + "'";
        return false;
      }
      a->backlog = static_cast<int>(v);
    } else if (o.rfind("mode=", 0) == 0 && !inet) {
      if (!ParseNumber(o.substr(5), 8, 07777, &v)) {
        *why = "bad mode '" + o.substr(5) + "' (octal, e.g. 0660)";
        return false;
      }
      a->mode = static_cast<int>(v);
    } else if (o == "reuseport" && inet) {
      a->reuseport = true;
    } else if (o == "freebind" && inet) {
      a->freebind = true;
    } else if ((o == "v6only" || o == "dualstack") && inet) {
      a->v6only = o == "v6only";
    } else {
      *why = "unknown option '" + o + "' for " + scheme +
             (inet ? " (name=, id=, backlog=, reuseport, v6only, dualstack, freebind)"
                   : " (name=, id=, backlog=, mode=)");
      return false;
    }
  }
  return true;
}

int OpenListen(const ListenAddress& a, capspawn_status_t* status, std::string* why) {
  const bool inet = a.kind == ListenAddress::Kind::kTcp || a.kind == ListenAddress::Kind::kUdp;
  return inet ? OpenInet(a, status, why) : OpenUnix(a, status, why);
}

}  // namespace capspawn::cli
