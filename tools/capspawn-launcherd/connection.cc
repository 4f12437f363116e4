// SPDX-License-Identifier: Apache-2.0
#include "connection.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <capspawn/process_builder.h>

#include "become.h"
#include "builder/inspect.h"
#include "protocol/wire.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn::launcher_internal {
namespace {

using protocol::RequestKind;

// Datagrams taken without a poll in a row (Run).
constexpr int kMaxDrained = 64;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

std::string FdTarget(int fd) {
  char link[64], target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : "fd " + std::to_string(fd);
}

std::string Printable(std::string_view s, size_t max = 80) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

ns::EntryKind EntryKindOf(protocol::NameKind k) {
  switch (k) {
    case protocol::NameKind::kDirectory:
      return ns::EntryKind::kBind;
    case protocol::NameKind::kTmpfs:
      return ns::EntryKind::kTmpfs;
    case protocol::NameKind::kProc:
      return ns::EntryKind::kProc;
    case protocol::NameKind::kDevMinimal:
      return ns::EntryKind::kDevMinimal;
  }
  return ns::EntryKind::kBind;
}

// Whether a bound process has been started (continued since its creation
// stop), without reaping anything.
bool Started(int pidfd) {
  siginfo_t info{};
  if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
             WCONTINUED | WNOHANG | WNOWAIT) == 0 &&
      info.si_pid != 0 && info.si_code == CLD_CONTINUED) {
    return true;
  }
  // Not stopped any more (running or gone) counts as started as well.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
  FILE* f = std::fopen(path, "re");
  int pid = -1;
  if (f) {
    char line[128];
    while (std::fgets(line, sizeof line, f)) {
      if (std::sscanf(line, "Pid:\t%d", &pid) == 1) break;
    }
    std::fclose(f);
  }
  if (pid <= 0) return true;
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  f = std::fopen(path, "re");
  if (!f) return true;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');
  return !(paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't'));
}

}  // namespace

Connection::Connection(UniqueFd sock, ConnectionSetup setup)
    : sock_(std::move(sock)),
      setup_(std::move(setup)),
      root_(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  own_address_len_ = sizeof own_address_;
  if (getsockname(sock_.get(), reinterpret_cast<sockaddr*>(&own_address_), &own_address_len_) !=
      0) {
    own_address_len_ = 0;
  }
}

void Connection::Log(const std::string& what) const {
  std::fprintf(stderr, "capspawn-launcherd: client %s: %s\n", setup_.client->Describe().c_str(),
               what.c_str());
}

void Connection::Fail(capspawn_status_t status, std::string message) {
  if (!pending_.error) pending_.error = Error(status, std::move(message));
}

bool Connection::Charge(size_t bytes, size_t fds) {
  if (pending_.since_ns < 0) pending_.since_ns = NowNs();
  pending_.bytes += bytes;
  pending_.fds += fds;
  const ServerOptions& o = *setup_.options;
  if (pending_.bytes > o.max_pending_bytes || pending_.fds > o.max_pending_fds) {
    Fail(CAPSPAWN_ERR_NO_RESOURCES, "the launch is over the launcher's per-connection limits (" +
                                        std::to_string(o.max_pending_bytes) + " bytes, " +
                                        std::to_string(o.max_pending_fds) + " fds)");
    return false;
  }
  return true;
}

UniqueFd Connection::Admit(UniqueFd fd, const std::string& what) {
  struct stat st;
  if (!fd || own_address_len_ == 0 || fstat(fd.get(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return fd;
  }
  sockaddr_un peer{};
  socklen_t len = sizeof peer;
  if (getpeername(fd.get(), reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
      peer.sun_family != AF_UNIX || len != own_address_len_ ||
      std::memcmp(&peer, &own_address_, len) != 0) {
    return fd;
  }
  // A connection to this launcher, handed back to it: held here, it could
  // keep connections alive in a cycle the client no longer takes part in.
  Fail(CAPSPAWN_ERR_INVALID_ARGS, what + " is a connection to the launcher itself");
  return UniqueFd();
}

void Connection::AddStrings(RequestKind kind, StringList strings) {
  if (pending_.error || !Charge(strings.bytes(), 0)) return;  // dropped: the launch fails anyway
  (kind == RequestKind::kAddArgs ? pending_.received.args : pending_.received.environ)
      .Append(strings);
}

void Connection::AddNames(std::vector<protocol::NameEntry> names) {
  size_t bytes = 0;
  for (const protocol::NameEntry& n : names) bytes += sizeof(spawn::Received::Name) + n.path.size();
  if (pending_.error || !Charge(bytes, names.size())) return;
  for (protocol::NameEntry& n : names) {
    const size_t index = pending_.received.names.size();
    spawn::Received::Name name;
    name.directory = Admit(std::move(n.directory), "name entry " + std::to_string(index));
    name.path = std::move(n.path);
    name.kind = EntryKindOf(n.kind);
    name.read_only = n.read_only;
    if (n.action_index != protocol::kNoIndex) name.action_index = n.action_index;
    pending_.received.names.push_back(std::move(name));
  }
}

void Connection::AddHandles(std::vector<protocol::HandleEntry> handles) {
  size_t bytes = 0;
  for (const protocol::HandleEntry& h : handles) {
    bytes += sizeof(spawn::Received::Handle) + h.name.size();
  }
  if (pending_.error || !Charge(bytes, handles.size())) return;
  for (protocol::HandleEntry& h : handles) {
    const size_t index = pending_.received.handles.size();
    pending_.received.handles.push_back(
        {h.id, Admit(std::move(h.handle), "handle " + std::to_string(index)), std::move(h.name)});
  }
}

Status Connection::Reply(const protocol::Outgoing& reply) {
  Status sent = protocol::Send(sock_.get(), reply);
  if (!sent.ok())
    Log("closing the connection: the reply could not be sent: " + sent.error().message());
  return sent;
}

Result<spawn::Launched> Connection::Launch(protocol::LaunchInfo info, bool suspended,
                                           std::string* summary) {
  Pending st = std::move(pending_);  // the state resets, whatever happens
  pending_ = Pending();
  spawn::Received& r = st.received;
  *summary = FdTarget(info.executable.get());
  if (!r.args.empty()) *summary += " argv[0] '" + Printable(r.args[0]) + "'";
  *summary += " (" + std::to_string(r.args.size()) + " args, " + std::to_string(r.handles.size()) +
              " handles, " + std::to_string(r.names.size()) + " names)";
  if (st.error) return *st.error;
  // zx_process_create's answers for the options SetOptions gave.
  if (st.options & ~protocol::kProcessShared) {
    char bits[16];
    std::snprintf(bits, sizeof bits, "0x%x", st.options & ~protocol::kProcessShared);
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 std::string("SetOptions: unknown process option bits ") + bits);
  }
  if (st.options & protocol::kProcessShared) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "SetOptions: ZX_PROCESS_SHARED (a process sharing part of its creator's address "
                 "space) has no counterpart a Linux launcher can create");
  }
  r.executable = Admit(std::move(info.executable), "the executable");
  r.job = Admit(std::move(info.job), "the job");
  UniqueFd cwd = Admit(std::move(info.cwd), "the cwd");
  if (pending_.error) return *std::exchange(pending_.error, std::nullopt);
  // fuchsia.process bounds the name (string:MAX_NAME_LEN); Fuchsia's
  // channel closes over a longer one, this launch fails and resets.
  if (info.name && info.name->size() > protocol::kMaxProcessNameBytes) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "launch info: the name is " + std::to_string(info.name->size()) +
                     " bytes; the Launcher protocol bounds it at " +
                     std::to_string(protocol::kMaxProcessNameBytes) + " (ZX_MAX_NAME_LEN)");
  }
  r.name = std::move(info.name);
  r.default_loader = info.default_loader;
  r.stop_at_exec = suspended;
  if (suspended && setup_.other_pid_namespace) {
    // Its start data is read from /proc/PID, but the /proc this worker sees
    // (the client's) counts pids in a namespace the worker is not in.
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "CreateWithoutStarting for a client in another PID namespace than the "
                 "launcher's");
  }

  // What the client has now (a kept connection outlives changes to its
  // limits, umask, signal dispositions...), as an in-process call would.
  Status changes = TakeChanges(setup_.client);
  if (!changes.ok()) return changes.error();
  Result<spawn::Prepared> p = spawn::PrepareReceived(std::move(r), setup_.context);
  if (!p.ok()) return p.error();
  if (p->job >= 0) {
    // On Linux a cgroup can be opened by path: holding one is not a
    // capability as a Fuchsia job handle is.
    if (setup_.client_deny && !p->target.deny_new_process) {
      return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                   "the client may not create processes (its seccomp filters deny it); it may "
                   "launch only into jobs whose policy denies new processes, and " +
                       FdTarget(p->job) + " allows them");
    }
  } else if (setup_.default_job_deny) {
    p->target.deny_new_process = true;  // its own job's policy
  }
  if (cwd) {
    if (!p->clone_namespace) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "a cwd is given without the '/' name entry");
    }
    // As the client: a directory it may not enter is refused.
    if (fchdir(cwd.get()) != 0) return Error::FromErrno(errno, "the cwd " + FdTarget(cwd.get()));
  }
  Result<spawn::Launched> launched = spawn::Launch(*p, setup_.context);
  if (cwd) (void)!fchdir(root_.get());
  if (!launched.ok() && launched.status() == CAPSPAWN_ERR_ACCESS_DENIED && setup_.non_dumpable &&
      geteuid() != 0 && launched.error().message().find("/proc/self/") != std::string::npos) {
    // The child could not map its ids in a user namespace of its own.
    return launched.error().Context(
        "a client with seccomp filters is served by a non-dumpable worker (so that it cannot "
        "trace a process without them), which cannot give a non-root process a private "
        "namespace");
  }
  return launched;
}

void Connection::HandleLaunch(protocol::Request& r) {
  const bool suspended = r.kind == RequestKind::kCreateWithoutStarting;
  std::string summary;
  Result<spawn::Launched> l = Launch(std::move(r.info), suspended, &summary);
  Result<BuiltProcess> built = Error(CAPSPAWN_ERR_INTERNAL, "not built");
  Status sent;
  std::optional<Error> failed;
  pid_t pid = -1;
  if (!l.ok()) {
    failed = l.error();
  } else if (suspended) {
    pid = l->pid;
    built = builder::FinishBuild(std::move(l.value()));
    if (!built.ok()) failed = built.error();
  } else {
    pid = l->pid;
  }
  if (failed) {
    sent = Reply(protocol::EncodeErrorReply(failed->status(), failed->message()));
    Log(std::string(suspended ? "create " : "launch ") + summary +
        " failed: " + capspawn_status_string(failed->status()) + ": " + failed->message());
  } else if (suspended) {
    BuiltProcess& b = built.value();
    b.release();  // the client starts or kills it
    protocol::StartData data;
    data.root_vmar = std::move(b.root_vmar);
    data.thread = b.thread;
    data.entry = b.entry;
    data.stack = b.stack;
    data.base = b.base;
    data.vdso_base = b.vdso_base;
    sent = Reply(protocol::EncodeStartDataReply(b.process.pidfd().get(), data));
    bound_.push_back({UniqueFd(fcntl(b.process.pidfd().get(), F_DUPFD_CLOEXEC, 3)),
                      NowNs() + setup_.options->start_timeout_s * 1'000'000'000LL});
  } else {
    sent = Reply(protocol::EncodeProcessReply(l->process.pidfd().get()));
  }
  if (!failed && !setup_.options->quiet) {
    Log(std::string(suspended ? "created (not started) " : "launched ") + summary + ": pid " +
        std::to_string(pid));
  }
  if (!sent.ok()) sock_.reset();
}

Result<resolver::Resolution> Connection::Resolve(const std::string& name) {
  return setup_.context.package_roots->Resolve(name);  // as the client: the worker is it
}

// The kernel could not hand us a request's fds: at the fd limit. That launch
// fails with NO_RESOURCES (now, or at its Launch if the lost fds were an
// Add*'s); the connection goes on. False: close it.
bool Connection::LostFds(std::span<const uint8_t> bytes) {
  Result<RequestKind> kind = protocol::DecodeRequestKind(bytes);
  if (!kind.ok()) {
    Log("closing the connection: " + std::string(capspawn_status_string(kind.status())) + ": " +
        kind.error().message());
    return false;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const std::string what = std::string("the launcher is at its fd limit (RLIMIT_NOFILE ") +
                           std::to_string(limit.rlim_cur) + "): the fds of an " +
                           protocol::RequestKindName(*kind) + " request could not be received";
  Log(what);
  if (*kind == RequestKind::kLaunch || *kind == RequestKind::kCreateWithoutStarting ||
      *kind == RequestKind::kResolve) {
    pending_ = Pending();  // the state resets, as after any launch
    return Reply(protocol::EncodeErrorReply(CAPSPAWN_ERR_NO_RESOURCES, what)).ok();
  }
  Fail(CAPSPAWN_ERR_NO_RESOURCES, what);
  return true;
}

int64_t Connection::PendingDeadline() const {
  if (pending_.since_ns < 0) return -1;
  return pending_.since_ns + setup_.options->pending_timeout_s * 1'000'000'000LL;
}

int64_t Connection::CheckBound() {
  int64_t next = -1;
  const int64_t now = NowNs();
  for (size_t i = 0; i < bound_.size();) {
    Bound& b = bound_[i];
    if (!Alive(b.pidfd.get())) {
      bound_.erase(bound_.begin() + static_cast<long>(i));
      continue;
    }
    if (!b.known_started && now >= b.started_check_ns) {
      if (Started(b.pidfd.get())) {
        b.known_started = true;
      } else {
        syscall(SYS_pidfd_send_signal, b.pidfd.get(), SIGKILL, nullptr, 0);
        Log("killed a process created without starting: not started within " +
            std::to_string(setup_.options->start_timeout_s) + " s (--start-timeout)");
      }
    }
    if (!b.known_started && (next < 0 || b.started_check_ns < next)) next = b.started_check_ns;
    ++i;
  }
  return next;
}

void Connection::Run() {
  protocol::Receiver receiver;
  int drained = 0;
  while (sock_) {
    // A launch arrives as several datagrams sent at once (the client's one
    // sendmmsg): while its parts are pending, the next one is most likely
    // queued already, and taking it without a poll saves a system call per
    // part. Bounded, so that the deadlines and the client's exit are still
    // checked however fast a client sends.
    if (pending_.since_ns >= 0 && drained < kMaxDrained) {
      Result<bool> got = receiver.Receive(sock_.get(), MSG_DONTWAIT);
      if (!got.ok()) {
        Log("closing the connection: " + got.error().message());
        break;
      }
      if (*got) {
        ++drained;
        const bool truncated = receiver.fds_truncated();
        if (!Handle(receiver.bytes(), receiver.TakeFds(), truncated)) break;
        continue;
      }
      // Nothing queued, or the client closed: the poll below tells which.
    }
    drained = 0;
    int64_t deadline = CheckBound();
    const int64_t pending = PendingDeadline();
    if (pending >= 0 && (deadline < 0 || pending < deadline)) deadline = pending;
    std::vector<pollfd> fds = {{sock_.get(), POLLIN, 0}, {setup_.client->pidfd.get(), POLLIN, 0}};
    for (const Bound& b : bound_) fds.push_back({b.pidfd.get(), POLLIN, 0});
    int timeout = -1;
    if (deadline >= 0)
      timeout = static_cast<int>(std::max<int64_t>(0, deadline - NowNs()) / 1'000'000 + 1);
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) {
      Log("closing the connection: poll: " + std::string(std::strerror(errno)));
      break;
    }
    if (fds[1].revents) {
      // The client is gone: whatever it left in flight (its own end of this
      // connection among the fds it sent) goes with the connection.
      break;
    }
    if (pending >= 0 && NowNs() >= pending) {
      const std::string what = "the request was left unfinished for " +
                               std::to_string(setup_.options->pending_timeout_s) +
                               " s (--pending-timeout); the connection is closed";
      Log(what);
      (void)Reply(protocol::EncodeErrorReply(CAPSPAWN_ERR_TIMED_OUT, what));
      break;
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    Result<bool> got = receiver.Receive(sock_.get());
    if (!got.ok()) {
      Log("closing the connection: " + got.error().message());
      break;
    }
    if (!*got) break;  // the client closed it
    const bool truncated = receiver.fds_truncated();
    if (!Handle(receiver.bytes(), receiver.TakeFds(), truncated)) break;
  }
  sock_.reset();
  pending_ = Pending();
}

bool Connection::Handle(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds,
                        bool fds_truncated) {
  if (fds_truncated) return LostFds(bytes);
  Result<protocol::Request> request = protocol::DecodeRequest(bytes, std::move(fds));
  if (!request.ok()) {
    Log("closing the connection: " + std::string(capspawn_status_string(request.status())) + ": " +
        request.error().message());
    return false;
  }
  protocol::Request& r = request.value();
  switch (r.kind) {
    case RequestKind::kAddArgs:
    case RequestKind::kAddEnvirons:
      AddStrings(r.kind, std::move(r.strings));
      break;
    case RequestKind::kAddNames:
      AddNames(std::move(r.names));
      break;
    case RequestKind::kAddHandles:
      AddHandles(std::move(r.handles));
      break;
    case RequestKind::kLaunch:
    case RequestKind::kCreateWithoutStarting:
      HandleLaunch(r);
      break;
    case RequestKind::kSetOptions:
      pending_.options = r.options;  // one-way, as fuchsia.process.Launcher's
      break;
    case RequestKind::kResolve: {
      Result<resolver::Resolution> res = Resolve(r.resolve_name);
      Status sent =
          res.ok() ? Reply(protocol::EncodeResolvedReply(res->executable.get(), res->loader.get()))
                   : Reply(protocol::EncodeErrorReply(res.status(), res.error().message()));
      if (!setup_.options->quiet || !res.ok()) {
        Log("resolve '" + Printable(r.resolve_name) +
            "': " + (res.ok() ? std::string("OK") : res.error().message()));
      }
      if (!sent.ok()) sock_.reset();
      break;
    }
  }
  return sock_.valid();
}

void Connection::DropPending() { pending_ = Pending(); }

void Connection::Linger() {
  for (;;) {
    const int64_t deadline = CheckBound();
    if (bound_.empty()) return;
    std::vector<pollfd> fds;
    for (const Bound& b : bound_) fds.push_back({b.pidfd.get(), POLLIN, 0});
    int timeout = deadline < 0
                      ? -1
                      : static_cast<int>(std::max<int64_t>(0, deadline - NowNs()) / 1'000'000 + 1);
    poll(fds.data(), fds.size(), timeout);
  }
}

}  // namespace capspawn::launcher_internal
