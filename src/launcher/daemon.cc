#include "launcher/daemon.h"

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <capspawn/version.h>

#include "launcher/server.h"
#include "resolver/resolver.h"

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
  --ready-fd N           write "READY\n" to fd N once listening, then close it
  --max-launch-fds N     fds one connection may accumulate for a launch
                         (names and handles; default 4096)
  --max-launch-bytes N   bytes of arguments, variables and paths one
                         connection may accumulate for a launch (default 16 MiB)
  --quiet                log failures only, not every launch
  --version              print the version and exit
  -h, --help             show this help

Logs (stderr): who (pid, uid, gid from SO_PEERCRED) launched what, failures,
and connections closed for malformed requests.
)";

// Workers each accept a connection and serve it to the end, then accept the
// next: a connection costs no thread creation while spare workers wait. When
// the last idle worker takes a connection it starts another (up to
// --max-connections; beyond, connections wait in the listen backlog); a
// worker that finds too many others idle retires, unless it created a
// process that dies with it (CreateWithoutStarting).
constexpr int kSpareWorkers = 4;

struct Pool {
  Server* server;
  int listener;
  int max_workers;
  std::atomic<int> total{0};
  std::atomic<int> idle{0};
  std::mutex reserve_mu;
  int reserve = -1;  // an fd held to make room for refusing a connection at the fd limit
};

// At the fd limit a connection would wait in the backlog, its client blocked
// without a word, until fds free up. The reserve fd makes room to accept it
// and close it at once: the client gets PEER_CLOSED, the log says why.
void RefuseAtFdLimit(Pool* pool, int err) {
  std::lock_guard<std::mutex> lock(pool->reserve_mu);
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  const unsigned long long limit = nofile.rlim_cur;
  if (pool->reserve < 0) pool->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pollfd p{pool->listener, POLLIN, 0};
  if (poll(&p, 1, 0) == 0) return;  // another worker took it: back to a blocking accept
  if (pool->reserve >= 0) {
    close(pool->reserve);
    int conn = accept4(pool->listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn >= 0) {
      ucred cred{};
      socklen_t len = sizeof cred;
      getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len);
      std::fprintf(stderr,
                   "capspawn-launcherd: refusing a connection from pid %d uid %d: at the fd "
                   "limit (RLIMIT_NOFILE %llu): %s\n",
                   static_cast<int>(cred.pid), static_cast<int>(cred.uid), limit,
                   std::strerror(err));
      close(conn);
    }
    pool->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (conn >= 0) return;
  }
  // No reserve (fds still short): wait for fds to free.
  std::fprintf(stderr, "capspawn-launcherd: accept: %s (RLIMIT_NOFILE %llu)\n", std::strerror(err),
               limit);
  usleep(10000);
}

void Worker(Pool* pool, bool permanent) {
  for (;;) {
    int conn = accept4(pool->listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        RefuseAtFdLimit(pool, errno);
      } else if (errno != EINTR && errno != ECONNABORTED) {
        std::fprintf(stderr, "capspawn-launcherd: accept: %s\n", std::strerror(errno));
        _exit(1);
      }
      continue;
    }
    if (--pool->idle == 0 && pool->total < pool->max_workers) {
      ++pool->total;
      ++pool->idle;
      std::thread(Worker, pool, false).detach();
    }
    pool->server->Serve(UniqueFd(conn));
    // A worker that created processes bound to its life (built, not yet
    // started: they die with their creating thread) stays.
    if (++pool->idle > kSpareWorkers && !permanent && !Server::ThreadMustOutliveItsChildren()) {
      --pool->idle;
      --pool->total;
      return;
    }
  }
}

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
  int max_connections = 1024;
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
        max_connections = static_cast<int>(std::strtol(optarg, &end, 10));
        if (*end || max_connections < 1)
          return Fail(std::string("bad --max-connections ") + optarg), 2;
        break;
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
  // Nothing of this reaches the processes it launches, nor routes its own
  // spawns back to itself.
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  unsetenv("CAPSPAWN_LAUNCHER");

  Result<resolver::PackageRoots> opened = resolver::PackageRoots::Open(roots);
  if (!opened.ok()) {
    if (own_socket) unlink(socket_path.c_str());
    return Fail(opened.error().message());
  }
  options.roots = std::move(opened.value());
  options.quiet = quiet;
  resolver::SetProcessResolver(&Server::ResolveForCurrentLaunch);
  resolver::SetInterpreterPathsAllowed(false);

  // Many clients' fds at once.
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  signal(SIGPIPE, SIG_IGN);
  // Termination is handled by one thread; every other thread blocks it.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, SIGINT);
  sigaddset(&term, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  std::thread([term, own_socket, socket_path] {
    int sig = 0;
    sigwait(&term, &sig);
    if (own_socket) unlink(socket_path.c_str());
    std::fprintf(stderr, "capspawn-launcherd: %s, exiting\n", strsignal(sig));
    _exit(0);
  }).detach();

  auto* server = new Server(std::move(options));  // lives as long as the process
  std::fprintf(stderr, "capspawn-launcherd: listening on %s (uid %d)\n",
               own_socket ? socket_path.c_str() : "the socket from systemd",
               static_cast<int>(geteuid()));
  auto* pool = new Pool{server, listener, max_connections};
  pool->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (ready_fd >= 0) {
    (void)!write(ready_fd, "READY\n", 6);
    close(ready_fd);
  }
  ++pool->total;
  ++pool->idle;
  for (int i = 1; i < kSpareWorkers; ++i) {
    ++pool->total;
    ++pool->idle;
    std::thread(Worker, pool, false).detach();
  }
  Worker(pool, true);
  return 1;
}

}  // namespace capspawn::launcher_internal
