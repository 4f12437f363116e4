// SPDX-License-Identifier: Apache-2.0
#include "daemon.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <capspawn/version.h>

#include "resolver/resolver.h"
#include "server.h"

namespace capspawn::launcher_internal {
namespace {

constexpr char kUsage[] = R"(Usage: capspawn-launcherd [OPTIONS]

The capspawn Launcher and Resolver service (fuchsia.process.Launcher and
Resolver) on an AF_UNIX SOCK_SEQPACKET socket. Clients (capspawn_spawn* with
CAPSPAWN_LAUNCHER=SOCKET, `capspawn run --launcher SOCKET`, LauncherClient)
hand it every capability as an fd; it creates their processes with their own
uid, gid and groups, in their own job unless given another.

Options:
  --socket PATH          listen on PATH (a stale socket there is replaced);
                         without it, a socket passed by systemd (LISTEN_FDS)
  --mode OCTAL           permissions of the socket file (default 0666: any
                         user may ask; each gets only what it could create)
  --resolver-root DIR    a directory of packages for the Resolver and
                         #!resolve (repeatable; searched in order)
  --max-connections N    connections served at once (default 1024; more
                         wait in the listen backlog)
  --max-connections-per-uid N
                         one uid's share of them (default 256); beyond it a
                         connection is refused with NO_RESOURCES
  --pending-timeout S    a request whose Add* were sent but not its launch
                         closes its connection after S seconds (default 30)
  --start-timeout S      a process created without starting is killed if not
                         started within S seconds (default 300)
  --ready-fd N           write "READY\n" to fd N once listening, then close it
  --max-launch-fds N     fds one connection may accumulate for a launch
                         (names and handles; default 4096)
  --max-launch-bytes N   bytes of arguments, variables and paths one
                         connection may accumulate for a launch (default 16 MiB)
  --quiet                log failures only, not every launch
  --version              print the version and exit
  -h, --help             show this help

Each connection is served by a worker process that takes its client's
identity, limits, cgroup and namespaces before it reads a request.
Logs (stderr): who (pid, uid, gid from SO_PEERCRED) launched what, failures,
and connections closed for malformed requests.
)";

int Fail(const std::string& what) {
  std::fprintf(stderr, "capspawn-launcherd: %s\n", what.c_str());
  return 1;
}

// A socket systemd passed: fd 3, for this pid.
int SocketFromSystemd() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (!pid || !fds || std::atoi(pid) != getpid() || std::atoi(fds) < 1) return -1;
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET) {
    std::fprintf(stderr, "capspawn-launcherd: LISTEN_FDS fd 3 is not a SOCK_SEQPACKET socket\n");
    return -2;
  }
  fcntl(3, F_SETFD, FD_CLOEXEC);
  return 3;
}

int Listen(const std::string& path, mode_t mode) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr, "capspawn-launcherd: socket path %s is too long\n", path.c_str());
    return -1;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // A socket file left by a daemon that is gone: replace it; a live one: refuse.
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::fprintf(stderr, "capspawn-launcherd: a launcher already listens on %s\n", path.c_str());
      close(fd);
      return -1;
    }
    close(fd);
    unlink(path.c_str());
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "capspawn-launcherd: bind %s: %s\n", path.c_str(), std::strerror(errno));
    close(fd);
    return -1;
  }
  if (chmod(path.c_str(), mode) != 0 || listen(fd, 256) != 0) {
    std::fprintf(stderr, "capspawn-launcherd: listen on %s: %s\n", path.c_str(),
                 std::strerror(errno));
    close(fd);
    unlink(path.c_str());
    return -1;
  }
  return fd;
}

}  // namespace

const option kOptions[] = {
    {"socket", required_argument, nullptr, 's'},
    {"mode", required_argument, nullptr, 'm'},
    {"resolver-root", required_argument, nullptr, 'r'},
    {"max-connections", required_argument, nullptr, 'c'},
    {"ready-fd", required_argument, nullptr, 'f'},
    {"max-launch-fds", required_argument, nullptr, 'F'},
    {"max-launch-bytes", required_argument, nullptr, 'B'},
    {"max-connections-per-uid", required_argument, nullptr, 'u'},
    {"pending-timeout", required_argument, nullptr, 'p'},
    {"start-timeout", required_argument, nullptr, 't'},
    {"quiet", no_argument, nullptr, 'q'},
    {"version", no_argument, nullptr, 'V'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

const option* LauncherDaemonOptions() { return kOptions; }

int LauncherDaemonMain(int argc, char** argv) {
  std::string socket_path;
  std::vector<std::string> roots;
  mode_t mode = 0666;
  int ready_fd = -1;
  bool quiet = false;
  ServerOptions options;
  int c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "h", kOptions, nullptr)) != -1) {
    char* end = nullptr;
    switch (c) {
      case 's':
        socket_path = optarg;
        break;
      case 'm':
        mode = static_cast<mode_t>(std::strtoul(optarg, &end, 8));
        if (*end || mode > 0777) return Fail(std::string("bad --mode ") + optarg), 2;
        break;
      case 'r':
        roots.emplace_back(optarg);
        break;
      case 'c':
      case 'u':
      case 'p':
      case 't': {
        long v = std::strtol(optarg, &end, 10);
        if (*end || v < 1 || v > 1000000) return Fail(std::string("bad value ") + optarg), 2;
        (c == 'c'   ? options.max_connections
         : c == 'u' ? options.max_connections_per_uid
         : c == 'p' ? options.pending_timeout_s
                    : options.start_timeout_s) = static_cast<int>(v);
        break;
      }
      case 'f':
        ready_fd = static_cast<int>(std::strtol(optarg, &end, 10));
        if (*end || ready_fd < 0) return Fail(std::string("bad --ready-fd ") + optarg), 2;
        break;
      case 'F':
      case 'B': {
        unsigned long long v = std::strtoull(optarg, &end, 10);
        if (*end || v == 0) return Fail(std::string("bad limit ") + optarg), 2;
        (c == 'F' ? options.max_pending_fds : options.max_pending_bytes) = v;
        break;
      }
      case 'q':
        quiet = true;
        break;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      case 'V':
        std::printf("capspawn-launcherd %s\n", CAPSPAWN_VERSION_STRING);
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 2;
    }
  }
  if (optind < argc) return Fail(std::string("unexpected argument '") + argv[optind] + "'"), 2;

  if (ready_fd >= 0 && fcntl(ready_fd, F_GETFD) < 0) {
    return Fail("--ready-fd " + std::to_string(ready_fd) + " is not an open fd"), 2;
  }
  int listener = SocketFromSystemd();
  if (listener == -2) return 1;
  if (listener < 0 && socket_path.empty()) {
    std::fputs("capspawn-launcherd: give --socket PATH, or start it by systemd socket activation\n",
               stderr);
    return 2;
  }
  bool own_socket = listener < 0;
  if (own_socket) {
    listener = Listen(socket_path, mode);
    if (listener < 0) return 1;
  }
  Result<resolver::PackageRoots> opened = resolver::PackageRoots::Open(roots);
  if (!opened.ok()) {
    if (own_socket) unlink(socket_path.c_str());
    return Fail(opened.error().message());
  }
  options.roots = std::move(opened.value());
  options.quiet = quiet;

  // The master's own fds: one per worker, two per spare.
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  std::fprintf(stderr, "capspawn-launcherd: listening on %s (uid %d)\n",
               own_socket ? socket_path.c_str() : "the socket from systemd",
               static_cast<int>(geteuid()));
  return RunMaster(listener, &options, own_socket ? socket_path : std::string(), ready_fd);
}

}  // namespace capspawn::launcher_internal
