#include "launcher/server.h"

#include <capspawn/spawn.h>
#include <capspawn/start.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "engine/launch.h"
#include "job/cgroup_fs.h"
#include "job/job_meta.h"
#include "job/spawn_hooks.h"
#include "namespace/namespace.h"
#include "protocol/messages.h"
#include "protocol/wire.h"
#include "startup/handle_types.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn::launcher_internal {
namespace {

using protocol::RequestKind;

std::string Hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

// Namespace paths already given: an overlap test in O(depth log n).
class PathSet {
 public:
  bool Overlaps(const std::string& p) const {
    for (size_t i = 1; i <= p.size(); ++i) {
      if ((i == p.size() || p[i] == '/') && set_.count(p.substr(0, i))) return true;
    }
    auto it = set_.lower_bound(p + "/");
    return it != set_.end() && it->compare(0, p.size() + 1, p + "/") == 0;
  }
  void Add(const std::string& p) { set_.insert(p); }

 private:
  std::set<std::string> set_;
};

// Makes this thread's file-system permission checks those of a client: the
// fs uid/gid and supplementary groups are per thread in the kernel (raw
// setgroups: glibc's would change every thread's).
class ScopedFsIdentity {
 public:
  ScopedFsIdentity(const Client* client, uid_t uid, gid_t gid, const std::vector<gid_t>& groups)
      : active_(client != nullptr), uid_(uid), gid_(gid), groups_(groups) {
    if (!active_) return;
    syscall(SYS_setgroups, client->groups.size(), client->groups.data());
    syscall(SYS_setfsgid, client->gid);
    syscall(SYS_setfsuid, client->uid);
  }
  ~ScopedFsIdentity() {
    if (!active_) return;
    syscall(SYS_setfsuid, uid_);
    syscall(SYS_setfsgid, gid_);
    syscall(SYS_setgroups, groups_.size(), groups_.data());
  }

 private:
  bool active_;
  uid_t uid_;
  gid_t gid_;
  const std::vector<gid_t>& groups_;
};

// The working directory of one launch. The thread first stops sharing cwd
// and root with the rest of the daemon (unshare(CLONE_FS)); the child, made
// without CLONE_FS, copies them.
class ScopedCwd {
 public:
  Status Enter(int dir) {
    static thread_local bool unshared = false;
    if (!unshared) {
      if (unshare(CLONE_FS) != 0) return Error::FromErrno(errno, "unshare(CLONE_FS)");
      unshared = true;
    }
    saved_.reset(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!saved_) saved_.reset(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (fchdir(dir) != 0) return Error::FromErrno(errno, "fchdir to the client's cwd");
    return {};
  }
  ~ScopedCwd() {
    if (saved_) (void)fchdir(saved_.get());
  }

 private:
  UniqueFd saved_;
};

struct Identity {
  dev_t dev;
  ino_t ino;
  uint64_t mnt_id;
};
std::optional<Identity> IdentityOf(int fd) {
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &sx) != 0) return std::nullopt;
  return Identity{makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino, sx.stx_mnt_id};
}

std::string FdTarget(int fd) {
  char link[64], target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : "fd " + std::to_string(fd);
}

std::string Printable(const std::string& s, size_t max = 80) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

// What a process's /proc/PID/status says of its privileges.
struct Privileges {
  uint64_t bounding = ~uint64_t{0};
  bool no_new_privs = false;
  uint64_t ignored_signals = 0;
};
Result<Privileges> ReadPrivileges(const std::string& pid) {
  const std::string file = "/proc/" + pid + "/status";
  UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno(errno, "open " + file);
  std::string text;
  char chunk[4096];
  ssize_t n;
  while ((n = read(fd.get(), chunk, sizeof chunk)) > 0) text.append(chunk, static_cast<size_t>(n));
  Privileges p;
  size_t at = text.find("\nCapBnd:\t");
  if (at != std::string::npos) p.bounding = std::strtoull(text.c_str() + at + 9, nullptr, 16);
  at = text.find("\nNoNewPrivs:\t");
  if (at != std::string::npos) p.no_new_privs = text[at + 13] == '1';
  at = text.find("\nSigIgn:\t");
  if (at != std::string::npos)
    p.ignored_signals = std::strtoull(text.c_str() + at + 9, nullptr, 16);
  return p;
}

thread_local const Client* t_client = nullptr;
thread_local Server* t_server = nullptr;
// This thread created a process that dies when its creating thread exits.
thread_local bool t_bound_children = false;

}  // namespace

std::string Client::Describe() const {
  return "pid " + std::to_string(pid) + " uid " + std::to_string(uid) + " gid " +
         std::to_string(gid);
}

Result<Client> IdentifyPeer(int sock) {
  Client c;
  ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Error::FromErrno(errno, "getsockopt(SO_PEERCRED)");
  }
  c.pid = cred.pid;
  c.uid = cred.uid;
  c.gid = cred.gid;
  std::vector<gid_t> groups(64);
  for (;;) {
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      break;
    }
    if (errno != ERANGE) return Error::FromErrno(errno, "getsockopt(SO_PEERGROUPS)");
    groups.resize(glen / sizeof(gid_t) + 1);
  }
  std::sort(groups.begin(), groups.end());
  c.groups = std::move(groups);
  int pidfd = -1;
  len = sizeof pidfd;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0) {
    c.pidfd.reset(pidfd);
  } else {
    // Before Linux 6.5: open it now, which a recycled pid could fool.
    c.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, c.pid, 0)));
  }
  return c;
}

// ---------------------------------------------------------------------------
// One connection

// What Add* have accumulated for the next launch.
struct Pending {
  std::vector<std::string> args, environ;
  std::vector<protocol::NameEntry> names;
  std::vector<protocol::HandleEntry> handles;
  PathSet paths;  // every name but "/"
  bool root_given = false;
  size_t bytes = 0, fds = 0;
  std::optional<Error> error;  // the first problem; reported by the next launch
};

class Connection {
 public:
  Connection(Server* server, UniqueFd sock, Client client)
      : server_(server), sock_(std::move(sock)), client_(std::move(client)) {}

  void Run();

 private:
  void Log(const std::string& what) const {
    std::fprintf(stderr, "capspawn-launcherd: client %s: %s\n", client_.Describe().c_str(),
                 what.c_str());
  }
  void Fail(capspawn_status_t status, std::string message) {
    if (!pending_.error) pending_.error = Error(status, std::move(message));
  }
  bool Charge(size_t bytes, size_t fds);
  void AddStrings(RequestKind kind, std::vector<std::string> strings);
  void AddNames(std::vector<protocol::NameEntry> names);
  void AddHandles(std::vector<protocol::HandleEntry> handles);
  bool LostFds(std::span<const uint8_t> bytes);
  Status Reply(const protocol::Outgoing& reply);
  // Launch, or CreateWithoutStarting when `start` is set (the process then
  // waits before its first instruction and *start describes it).
  Result<Process> Launch(protocol::LaunchInfo info, std::string* summary,
                         protocol::StartData* start = nullptr);
  // The client's cgroup directory; empty with *same_as_daemon when it is the daemon's.
  Result<UniqueFd> ClientCgroup(bool* same_as_daemon);
  Result<int> ChooseJob(const protocol::LaunchInfo& info, UniqueFd* holder, bool differs);
  Result<resolver::Resolution> Resolve(const std::string& name);
  bool Differs() const {
    return client_.uid != server_->uid_ || client_.gid != server_->gid_ ||
           client_.groups != server_->groups_;
  }

  Server* server_;
  UniqueFd sock_;
  Client client_;
  Pending pending_;
};

bool Connection::Charge(size_t bytes, size_t fds) {
  pending_.bytes += bytes;
  pending_.fds += fds;
  if (pending_.bytes > server_->options_.max_pending_bytes ||
      pending_.fds > server_->options_.max_pending_fds) {
    Fail(CAPSPAWN_ERR_NO_RESOURCES,
         "the launch is over the launcher's per-connection limits (" +
             std::to_string(server_->options_.max_pending_bytes) + " bytes, " +
             std::to_string(server_->options_.max_pending_fds) + " fds)");
    return false;
  }
  return true;
}

void Connection::AddStrings(RequestKind kind, std::vector<std::string> strings) {
  const bool args = kind == RequestKind::kAddArgs;
  std::vector<std::string>& into = args ? pending_.args : pending_.environ;
  size_t bytes = 0;
  for (const std::string& s : strings) bytes += s.size() + 1;
  if (pending_.error || !Charge(bytes, 0)) return;  // dropped: the launch fails anyway
  for (size_t i = 0; i < strings.size(); ++i) {
    if (strings[i].find('\0') != std::string::npos) {
      Fail(CAPSPAWN_ERR_INVALID_ARGS, std::string(args ? "argument " : "environment variable ") +
                                          std::to_string(into.size() + i) + " contains a NUL byte");
      return;
    }
  }
  for (std::string& s : strings) into.push_back(std::move(s));
}

void Connection::AddNames(std::vector<protocol::NameEntry> names) {
  if (pending_.error || !Charge(0, names.size())) return;
  for (protocol::NameEntry& n : names) {
    const std::string label = "name entry " + std::to_string(pending_.names.size());
    if (n.path.find('\0') != std::string::npos) {
      return Fail(CAPSPAWN_ERR_INVALID_ARGS, label + ": the path contains a NUL byte");
    }
    if (!ns::IsNormalisedAbsolute(n.path)) {
      return Fail(CAPSPAWN_ERR_INVALID_ARGS,
                  label + ": '" + Printable(n.path) + "' is not an absolute, normalised path");
    }
    // "/" is the client's whole filesystem, under the other entries.
    const bool overlaps = n.path == "/" ? pending_.root_given : pending_.paths.Overlaps(n.path);
    if (overlaps) {
      return Fail(CAPSPAWN_ERR_INVALID_ARGS,
                  label + ": '" + Printable(n.path) + "' overlaps an earlier entry");
    }
    if (n.path == "/") {
      pending_.root_given = true;
    } else {
      pending_.paths.Add(n.path);
    }
    pending_.bytes += n.path.size();
    pending_.names.push_back(std::move(n));
  }
}

void Connection::AddHandles(std::vector<protocol::HandleEntry> handles) {
  if (pending_.error || !Charge(0, handles.size())) return;
  for (protocol::HandleEntry& h : handles) {
    const std::string label = "handle " + std::to_string(pending_.handles.size());
    if (h.id & CAPSPAWN_PA_RESERVED_MASK) {
      return Fail(CAPSPAWN_ERR_INVALID_ARGS,
                  label + ": id " + Hex(h.id) + " has reserved bits set");
    }
    if (!startup::IsKnownHandleType(CAPSPAWN_PA_TYPE(h.id))) {
      return Fail(CAPSPAWN_ERR_INVALID_ARGS, label + ": id " + Hex(h.id) + " has an unknown type " +
                                                 Hex(CAPSPAWN_PA_TYPE(h.id)));
    }
    pending_.handles.push_back(std::move(h));
  }
}

Status Connection::Reply(const protocol::Outgoing& reply) {
  return protocol::Send(sock_.get(), reply);
}

Result<UniqueFd> Connection::ClientCgroup(bool* same_as_daemon) {
  const std::string file = "/proc/" + std::to_string(client_.pid) + "/cgroup";
  UniqueFd cg(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!cg) return Error::FromErrno(errno, "open " + file + " (the client's cgroup)");
  char buf[4096];
  ssize_t n = read(cg.get(), buf, sizeof buf);
  if (n <= 0) return Error::FromErrno(n < 0 ? errno : EIO, "read " + file);
  // The pid was the client's while it was read: the client is still alive.
  if (client_.pidfd && syscall(SYS_pidfd_send_signal, client_.pidfd.get(), 0, nullptr, 0) != 0) {
    return Error(CAPSPAWN_ERR_PEER_CLOSED, "the client exited");
  }
  // The common case, the client in the daemon's own cgroup, needs no more.
  *same_as_daemon = std::string_view(buf, static_cast<size_t>(n)) == server_->cgroup_text_;
  if (*same_as_daemon) return UniqueFd();
  UniqueFd mi(open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
  std::string mountinfo;
  char chunk[65536];
  ssize_t m;
  while (mi && (m = read(mi.get(), chunk, sizeof chunk)) > 0) mountinfo.append(chunk, m);
  Result<std::string> path =
      job_internal::CgroupDirFrom(std::string_view(buf, static_cast<size_t>(n)), mountinfo);
  if (!path.ok()) return path.error().Context("the client's cgroup");
  Result<UniqueFd> dir = job_internal::OpenCgroupDir(*path);
  if (!dir.ok()) return dir.error().Context("the client's cgroup");
  return std::move(dir.value());
}

// The job fd to spawn into (-1: the daemon's own cgroup, which is the
// client's), after the checks that keep a client from gaining anything.
Result<int> Connection::ChooseJob(const protocol::LaunchInfo& info, UniqueFd* holder,
                                  bool differs) {
  bool same_as_daemon = false;
  Result<UniqueFd> own = ClientCgroup(&same_as_daemon);
  if (!own.ok()) return own.error();
  struct stat st {};
  same_as_daemon =
      same_as_daemon || (fstat(own->get(), &st) == 0 && st.st_dev == server_->cgroup_dev_ &&
                         st.st_ino == server_->cgroup_ino_);
  // A job that is the client's own cgroup is its default job, as no job.
  struct stat job_st;
  const bool job_is_own =
      info.job && fstat(info.job.get(), &job_st) == 0 &&
      (same_as_daemon
           ? job_st.st_dev == server_->cgroup_dev_ && job_st.st_ino == server_->cgroup_ino_
           : job_st.st_dev == st.st_dev && job_st.st_ino == st.st_ino);
  // The client's job: a capspawn job's processes live in its "procs" leaf.
  UniqueFd client_job = std::move(own.value());
  bool client_deny = false;
  if (!same_as_daemon) {
    if (job_internal::FdPath(client_job.get())
            .ends_with(std::string("/") + job_internal::kLeafName)) {
      Result<UniqueFd> parent = job_internal::OpenParent(client_job.get());
      if (parent.ok() && parent->valid()) {
        Result<std::optional<job_internal::JobMeta>> meta = job_internal::ReadMeta(parent->get());
        if (meta.ok() && meta->has_value()) client_job = std::move(parent.value());
      }
    }
    Result<job_internal::SpawnTarget> t = job_internal::PrepareSpawn(client_job.get());
    if (!t.ok()) return t.error().Context("the client's job");
    client_deny = t->deny_new_process;
  }
  if (!info.job || job_is_own) {
    if (same_as_daemon) return -1;
    *holder = std::move(client_job);
    return holder->get();
  }
  Result<job_internal::SpawnTarget> target = job_internal::PrepareSpawn(info.job.get());
  if (!target.ok()) return target.error().Context("job");
  if (client_deny && !target->deny_new_process) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 "the client runs in a job whose policy denies new processes; it may launch only "
                 "into jobs with that policy, and " +
                     job_internal::FdPath(info.job.get()) + " allows them");
  }
  if (differs) {
    // CLONE_INTO_CGROUP checks the daemon's rights: check the client's first.
    ScopedFsIdentity as_client(&client_, server_->uid_, server_->gid_, server_->groups_);
    UniqueFd procs(openat(target->cgroup_fd.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
    if (!procs) {
      return Error(CAPSPAWN_ERR_ACCESS_DENIED, "the client may not move processes into " +
                                                   job_internal::FdPath(target->cgroup_fd.get()) +
                                                   ": " + std::strerror(errno));
    }
  }
  return info.job.get();
}

Result<Process> Connection::Launch(protocol::LaunchInfo info, std::string* summary,
                                   protocol::StartData* start) {
  Pending st = std::move(pending_);  // the state resets, whatever happens
  pending_ = Pending();
  *summary = FdTarget(info.executable.get());
  if (!st.args.empty()) *summary += " argv[0] '" + Printable(st.args[0]) + "'";
  *summary += " (" + std::to_string(st.args.size()) + " args, " +
              std::to_string(st.handles.size()) + " handles, " + std::to_string(st.names.size()) +
              " names)";
  if (st.error) return *st.error;
  if (info.name && info.name->find('\0') != std::string::npos) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "the process name contains a NUL byte");
  }
  const bool differs = Differs();
  if (differs && !server_->privileged_) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 "the launcher runs as uid " + std::to_string(server_->uid_) +
                     " and cannot create processes as the client's uid " +
                     std::to_string(client_.uid) + " gid " + std::to_string(client_.gid));
  }

  // "/" is the client's filesystem: the launcher's own, or it is refused.
  bool clone_ns = false;
  for (const protocol::NameEntry& n : st.names) {
    if (n.path != "/") continue;
    std::optional<Identity> theirs = IdentityOf(n.directory.get());
    std::optional<Identity> ours = IdentityOf(server_->root_.get());
    if (!theirs || !ours || theirs->dev != ours->dev || theirs->ino != ours->ino ||
        theirs->mnt_id != ours->mnt_id) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "name entry '/': the client's root is not the launcher's (another mount "
                   "namespace or a chroot); the launcher can give only its own root as '/'");
    }
    clone_ns = true;
  }
  if (info.cwd && !clone_ns) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "a cwd is given without the '/' name entry");
  }

  UniqueFd job_holder;
  Result<int> job = ChooseJob(info, &job_holder, differs);
  if (!job.ok()) return job.error();

  ScopedCwd cwd;
  if (info.cwd) {
    Status entered = cwd.Enter(info.cwd.get());
    if (!entered.ok()) return entered.error();
  }

  // Everything the spawn consumes, as fdio actions.
  std::vector<capspawn_action_t> actions;
  actions.reserve(st.names.size() + st.handles.size() + 1);
  for (protocol::NameEntry& n : st.names) {
    if (n.path == "/") continue;
    capspawn_action_t a{};
    a.action = CAPSPAWN_ACTION_ADD_NS_ENTRY;
    a.ns.prefix = n.path.c_str();
    a.ns.handle = n.directory.release();
    actions.push_back(a);
  }
  for (protocol::HandleEntry& h : st.handles) {
    capspawn_action_t a{};
    a.action = CAPSPAWN_ACTION_ADD_HANDLE;
    a.h.id = h.id;
    a.h.handle = h.handle.release();
    actions.push_back(a);
  }
  if (info.name) {
    capspawn_action_t a{};
    a.action = CAPSPAWN_ACTION_SET_NAME;
    a.name.data = info.name->c_str();
    actions.push_back(a);
  }
  std::vector<const char*> argv, envp;
  for (const std::string& s : st.args) argv.push_back(s.c_str());
  argv.push_back(nullptr);
  for (const std::string& s : st.environ) envp.push_back(s.c_str());
  envp.push_back(nullptr);
  uint32_t flags = (clone_ns ? CAPSPAWN_CLONE_NAMESPACE : 0u) |
                   (info.default_loader ? CAPSPAWN_DEFAULT_LDSVC : 0u);

  // The client's identity, and no more privilege than it has: its bounding
  // set and no_new_privs (a client that gave up setuid gains cannot regain
  // them through the launcher). Its ignored signals too, which its own child
  // would inherit.
  Result<Privileges> theirs = ReadPrivileges(std::to_string(client_.pid));
  if (!theirs.ok()) return theirs.error().Context("the client's privileges");
  if (client_.pidfd && syscall(SYS_pidfd_send_signal, client_.pidfd.get(), 0, nullptr, 0) != 0) {
    return Error(CAPSPAWN_ERR_PEER_CLOSED, "the client exited");
  }
  engine::Credentials creds;
  creds.set_ids = differs;
  creds.uid = client_.uid;
  creds.gid = client_.gid;
  creds.groups = client_.groups.data();
  creds.group_count = client_.groups.size();
  creds.drop_bounding = server_->bounding_ & ~theirs->bounding;
  creds.no_new_privs = theirs->no_new_privs;
  creds.ignore_signals = theirs->ignored_signals & ~server_->ignored_signals_;
  creds.default_signals = server_->ignored_signals_ & ~theirs->ignored_signals;
  // A process built but not started dies with the daemon (the parent-death
  // signal fires when this thread exits: it must then never retire).
  if (start) {
    creds.parent_death_signal = SIGKILL;
    t_bound_children = true;
  }
  engine::ScopedThreadCredentials as_client(&creds);
  t_client = &client_;
  t_server = server_;
  int pidfd = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t status;
  if (start) {
    capspawn_start_data_t data{};
    status = capspawn_create_without_starting(*job, flags, nullptr, info.executable.release(),
                                              argv.data(), envp.data(), actions.size(),
                                              actions.data(), &data, err);
    if (status == CAPSPAWN_OK) {
      pidfd = data.process;
      start->root_vmar.reset(data.root_vmar);
      start->thread = data.thread;
      start->entry = data.entry;
      start->stack = data.stack;
      start->base = data.base;
      start->vdso_base = data.vdso_base;
    }
  } else {
    status = capspawn_spawn_vmo(*job, flags, info.executable.release(), argv.data(), envp.data(),
                                actions.size(), actions.data(), &pidfd, err);
  }
  t_client = nullptr;
  t_server = nullptr;
  if (status != CAPSPAWN_OK) return Error(status, err);
  return Process(UniqueFd(pidfd));
}

Result<resolver::Resolution> Connection::Resolve(const std::string& name) {
  const bool differs = Differs();
  if (differs && !server_->privileged_) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 "the launcher runs as uid " + std::to_string(server_->uid_) +
                     " and cannot open files as the client's uid " + std::to_string(client_.uid));
  }
  ScopedFsIdentity as_client(differs ? &client_ : nullptr, server_->uid_, server_->gid_,
                             server_->groups_);
  return server_->options_.roots.Resolve(name);
}

// The kernel could not hand us a request's fds: the daemon is at its fd
// limit. That launch fails with NO_RESOURCES (now, or at its Launch if the
// lost fds were an Add*'s); the connection goes on. False: close it.
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

void Connection::Run() {
  protocol::Receiver receiver;
  for (;;) {
    Result<bool> got = receiver.Receive(sock_.get());
    if (!got.ok()) {
      Log("closing the connection: " + got.error().message());
      return;
    }
    if (!*got) return;  // the client closed it
    if (receiver.fds_truncated()) {
      if (!LostFds(receiver.bytes())) return;
      continue;
    }
    Result<protocol::Request> request =
        protocol::DecodeRequest(receiver.bytes(), receiver.TakeFds());
    if (!request.ok()) {
      Log("closing the connection: " + std::string(capspawn_status_string(request.status())) +
          ": " + request.error().message());
      return;
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
      case RequestKind::kCreateWithoutStarting: {
        const bool suspended = r.kind == RequestKind::kCreateWithoutStarting;
        std::string summary;
        protocol::StartData data;
        Result<Process> p = Launch(std::move(r.info), &summary, suspended ? &data : nullptr);
        Status sent = !p.ok() ? Reply(protocol::EncodeErrorReply(p.status(), p.error().message()))
                      : suspended ? Reply(protocol::EncodeStartDataReply(p->pidfd().get(), data))
                                  : Reply(protocol::EncodeProcessReply(p->pidfd().get()));
        if (p.ok()) {
          if (!server_->options_.quiet) {
            Log(std::string(suspended ? "created (not started) " : "launched ") + summary +
                ": pid " + std::to_string(p->pid()));
          }
        } else {
          Log(std::string(suspended ? "create " : "launch ") + summary +
              " failed: " + capspawn_status_string(p.status()) + ": " + p.error().message());
        }
        if (!sent.ok()) return;
        break;
      }
      case RequestKind::kResolve: {
        Result<resolver::Resolution> res = Resolve(r.resolve_name);
        Status sent =
            res.ok()
                ? Reply(protocol::EncodeResolvedReply(res->executable.get(), res->loader.get()))
                : Reply(protocol::EncodeErrorReply(res.status(), res.error().message()));
        if (!server_->options_.quiet || !res.ok()) {
          Log("resolve '" + Printable(r.resolve_name) +
              "': " + (res.ok() ? std::string("OK") : res.error().message()));
        }
        if (!sent.ok()) return;
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Server

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      uid_(geteuid()),
      gid_(getegid()),
      privileged_(geteuid() == 0),
      root_(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  // The kernel reaps what the launcher creates the moment it exits, so it
  // keeps no zombies and needs no reaper thread; the exit status stays with
  // the pidfd for the client (PIDFD_INFO_EXIT), which is woken once. Waits
  // for stops (ptrace, the builder's group stop) are unaffected, and exec
  // clears the flag, so launched programs do not inherit it.
  struct sigaction act;
  std::memset(&act, 0, sizeof act);
  act.sa_handler = SIG_DFL;
  act.sa_flags = SA_NOCLDWAIT;
  sigaction(SIGCHLD, &act, nullptr);
  int n = getgroups(0, nullptr);
  groups_.resize(n > 0 ? static_cast<size_t>(n) : 0);
  if (n > 0) groups_.resize(static_cast<size_t>(getgroups(n, groups_.data())));
  std::sort(groups_.begin(), groups_.end());
  Result<Privileges> mine = ReadPrivileges("self");
  if (mine.ok()) {
    bounding_ = mine->bounding;
    ignored_signals_ = mine->ignored_signals;
  }
  UniqueFd cg(open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC));
  char buf[4096];
  ssize_t got = cg ? read(cg.get(), buf, sizeof buf) : -1;
  if (got > 0) cgroup_text_.assign(buf, static_cast<size_t>(got));
  Result<std::string> own = job_internal::OwnCgroupDir();
  struct stat st;
  if (own.ok() && stat(own->c_str(), &st) == 0) {
    cgroup_dev_ = st.st_dev;
    cgroup_ino_ = st.st_ino;
  }
}

void Server::Serve(UniqueFd connection) {
  Result<Client> client = IdentifyPeer(connection.get());
  if (!client.ok()) {
    std::fprintf(stderr, "capspawn-launcherd: refusing a connection: %s\n",
                 client.error().message().c_str());
    return;
  }
  Connection c(this, std::move(connection), std::move(client.value()));
  c.Run();
}

bool Server::ThreadMustOutliveItsChildren() { return t_bound_children; }

Result<resolver::Resolution> Server::ResolveForCurrentLaunch(const std::string& name) {
  if (t_server == nullptr || t_client == nullptr) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED, "#!resolve outside a client's launch");
  }
  Server* s = t_server;
  const Client* c = t_client;
  const bool differs = c->uid != s->uid_ || c->gid != s->gid_ || c->groups != s->groups_;
  ScopedFsIdentity as_client(differs ? c : nullptr, s->uid_, s->gid_, s->groups_);
  return s->options_.roots.Resolve(name);
}

}  // namespace capspawn::launcher_internal
