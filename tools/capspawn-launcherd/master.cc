// SPDX-License-Identifier: Apache-2.0
// The master: the root half of capspawn-launcherd. Single-threaded; it
// never reads a request. It accepts, counts each uid's connections, hands
// each connection to a spare worker forked ahead (fork stays off a
// connection's way), and reaps what workers leave (it is the subreaper of
// what they launch). See server.h and docs/launcher.md.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <string>

#include <capspawn/process.h>

#include "protocol/messages.h"
#include "protocol/wire.h"
#include "server.h"

namespace capspawn::launcher_internal {
namespace {

constexpr size_t kSpares = 2;
constexpr uint64_t kListenerTag = ~uint64_t{0};
constexpr uint64_t kSignalTag = ~uint64_t{0} - 1;

class Master {
 public:
  Master(int listener, ServerOptions* options, std::string socket_path)
      : listener_(listener), options_(options), socket_path_(std::move(socket_path)) {}
  int Run(int ready_fd);

 private:
  struct Child {
    pid_t pid = -1;
    UniqueFd pidfd;
    UniqueFd control;      // a spare's, until it is handed a connection
    bool serving = false;  // a worker: holds one of its uid's connections
    uid_t uid = 0;         // a worker's client
  };

  void Log(const std::string& what) {
    std::fprintf(stderr, "capspawn-launcherd: %s\n", what.c_str());
  }
  bool ForkSpare();
  void Replenish() {
    while (spares_.size() < kSpares && ForkSpare()) {
    }
  }
  void Accept();
  void Dispatch(UniqueFd conn);
  void Refuse(int conn, const ucred& cred, capspawn_status_t status, const std::string& why);
  void RefuseAtFdLimit(int err);
  void Exited(int pidfd);
  void UpdateListening();
  void StopChildren();

  int listener_;
  ServerOptions* options_;
  std::string socket_path_;
  UniqueFd epoll_;
  std::deque<int> spares_;         // pidfds of spares, oldest first
  std::map<int, Child> children_;  // spares and workers, by pidfd
  std::map<uid_t, int> per_uid_;
  size_t workers_ = 0;
  bool listening_ = false;
  int reserve_ = -1;  // an fd held to make room for refusing a connection at the fd limit
};

bool Master::ForkSpare() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    Log("cannot start a worker: socketpair: " + std::string(std::strerror(errno)));
    return false;
  }
  const pid_t master = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    Log("cannot start a worker: fork: " + std::string(std::strerror(errno)));
    close(sv[0]);
    close(sv[1]);
    return false;
  }
  if (pid == 0) RunSpare(sv[1], *options_, master);
  close(sv[1]);
  Child c;
  c.pid = pid;
  c.control.reset(sv[0]);
  c.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!c.pidfd) {  // gone already (or no fd left): it will not serve
    Log("cannot watch a worker: pidfd_open: " + std::string(std::strerror(errno)));
    kill(pid, SIGKILL);
    return false;
  }
  epoll_event ev{EPOLLIN, {.u64 = static_cast<uint64_t>(c.pidfd.get())}};
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.pidfd.get(), &ev);
  spares_.push_back(c.pidfd.get());
  const int key = c.pidfd.get();
  children_.emplace(key, std::move(c));
  return true;
}

void Master::Refuse(int conn, const ucred& cred, capspawn_status_t status, const std::string& why) {
  // The client reads this reply whether its request went out before the
  // close or failed with EPIPE after it (protocol::SendAll looks).
  (void)protocol::Send(conn, protocol::EncodeErrorReply(status, why));
  Log("refusing a connection from pid " + std::to_string(cred.pid) + " uid " +
      std::to_string(cred.uid) + ": " + why);
}

void Master::Dispatch(UniqueFd conn) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return;
  const int share = options_->max_connections_per_uid;
  if (per_uid_[cred.uid] >= share) {
    Refuse(conn.get(), cred, CAPSPAWN_ERR_NO_RESOURCES,
           "uid " + std::to_string(cred.uid) + " holds " + std::to_string(share) +
               " connections to the launcher, its share (--max-connections-per-uid " +
               std::to_string(share) + ")");
    return;
  }
  for (;;) {
    if (spares_.empty() && !ForkSpare()) {
      Refuse(conn.get(), cred, CAPSPAWN_ERR_NO_RESOURCES,
             "the launcher cannot start a worker for this connection (see its log)");
      return;
    }
    Child& spare = children_.at(spares_.front());
    spares_.pop_front();
    // One byte and the connection's fd.
    char byte = 'c';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space;
    msg.msg_controllen = sizeof space;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    const int fd = conn.get();
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    const bool sent = sendmsg(spare.control.get(), &msg, MSG_NOSIGNAL) == 1;
    spare.control.reset();
    if (!sent) continue;  // that spare died: it is reaped through its pidfd
    spare.serving = true;
    spare.uid = cred.uid;
    ++per_uid_[cred.uid];
    ++workers_;
    break;
  }
  UpdateListening();
}

void Master::Exited(int pidfd) {
  auto it = children_.find(pidfd);
  if (it == children_.end()) return;
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pidfd, nullptr);
  if (!it->second.serving) {
    for (auto s = spares_.begin(); s != spares_.end(); ++s) {
      if (*s == pidfd) {
        spares_.erase(s);
        break;
      }
    }
  } else {
    if (--per_uid_[it->second.uid] == 0) per_uid_.erase(it->second.uid);
    --workers_;
  }
  children_.erase(it);
  UpdateListening();
}

// A stopped daemon leaves no worker behind. Each would die of its
// parent-death signal a moment after the master, but a client's kept
// connection could still take a request in that moment and lose it, and a
// daemon restarted on the same path would not be the only one serving. So
// they are killed now and each waited for on its pidfd (at most 5 s; a
// SIGKILLed child exits at once): when the daemon's exit is seen, every
// connection it served is closed.
void Master::StopChildren() {
  for (const auto& [pidfd, child] : children_) (void)KillPidfd(pidfd, SIGKILL);
  for (const auto& [pidfd, child] : children_) {
    pollfd p{pidfd, POLLIN, 0};
    while (poll(&p, 1, 5000) < 0 && errno == EINTR) {
    }
  }
}

// Beyond --max-connections, connections wait in the listen backlog.
void Master::UpdateListening() {
  const bool want = workers_ < static_cast<size_t>(options_->max_connections);
  if (want == listening_) return;
  epoll_event ev{EPOLLIN, {.u64 = kListenerTag}};
  epoll_ctl(epoll_.get(), want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listener_, &ev);
  listening_ = want;
}

// At the fd limit a connection would wait in the backlog, its client blocked
// without a word, until fds free up. The reserve fd makes room to accept it
// and close it at once: the client gets PEER_CLOSED, the log says why.
void Master::RefuseAtFdLimit(int err) {
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  const std::string limit = std::to_string(nofile.rlim_cur);
  if (reserve_ >= 0) {
    close(reserve_);
    reserve_ = -1;
  }
  int conn = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn >= 0) {
    ucred cred{};
    socklen_t len = sizeof cred;
    getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len);
    Log("refusing a connection from pid " + std::to_string(cred.pid) + " uid " +
        std::to_string(cred.uid) + ": at the fd limit (RLIMIT_NOFILE " + limit +
        "): " + std::strerror(err));
    close(conn);
  } else if (errno != EAGAIN) {
    // No reserve (fds still short): wait for a worker's exit to free some.
    Log("accept: " + std::string(std::strerror(errno)) + " (RLIMIT_NOFILE " + limit + ")");
    usleep(10000);
  }
  reserve_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void Master::Accept() {
  while (listening_) {
    int conn = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        RefuseAtFdLimit(errno);
        return;  // back to epoll: a worker's exit may free fds
      }
      if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN) {
        Log("accept: " + std::string(std::strerror(errno)));
      }
      return;
    }
    Dispatch(UniqueFd(conn));
    Replenish();
  }
}

int Master::Run(int ready_fd) {
  // What workers leave behind (their launched processes) is reparented here
  // and reaped by the kernel, as are the workers themselves.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = SIG_DFL;
  act.sa_flags = SA_NOCLDWAIT;
  sigaction(SIGCHLD, &act, nullptr);
  signal(SIGPIPE, SIG_IGN);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, SIGINT);
  sigaddset(&term, SIGHUP);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  UniqueFd signals(signalfd(-1, &term, SFD_CLOEXEC));
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!signals || !epoll_) {
    Log("cannot start: " + std::string(std::strerror(errno)));
    return 1;
  }
  epoll_event ev{EPOLLIN, {.u64 = kSignalTag}};
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, signals.get(), &ev);
  fcntl(listener_, F_SETFL, fcntl(listener_, F_GETFL) | O_NONBLOCK);
  reserve_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  Replenish();
  UpdateListening();
  if (ready_fd >= 0) {
    (void)!write(ready_fd, "READY\n", 6);
    close(ready_fd);
  }
  for (;;) {
    epoll_event events[64];
    int n = epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0 && errno != EINTR) {
      Log("epoll_wait: " + std::string(std::strerror(errno)));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kSignalTag) {
        signalfd_siginfo info{};
        (void)!read(signals.get(), &info, sizeof info);
        if (!socket_path_.empty()) unlink(socket_path_.c_str());
        Log(std::string(strsignal(static_cast<int>(info.ssi_signo))) + ", exiting");
        StopChildren();
        return 0;
      }
      if (tag == kListenerTag) {
        Accept();
      } else {
        Exited(static_cast<int>(tag));
        Replenish();
      }
    }
  }
}

}  // namespace

int RunMaster(int listener, ServerOptions* options, const std::string& socket_path, int ready_fd) {
  Master m(listener, options, socket_path);
  return m.Run(ready_fd);
}

}  // namespace capspawn::launcher_internal
