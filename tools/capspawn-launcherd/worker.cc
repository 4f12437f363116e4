// SPDX-License-Identifier: Apache-2.0
// A worker: one connection, served as its client. Forked by the master
// ahead of time (a spare), it receives the connection, gathers the client's
// facts while still root, becomes the client (cgroup, namespaces, root,
// rlimits, nice, oom_score_adj, umask, bounding set, ids, no_new_privs) and
// only then reads the first request. See docs/SECURITY.md.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "become.h"
#include "client_facts.h"
#include "connection.h"
#include "job/cgroup_fs.h"
#include "job/job_meta.h"
#include "job/spawn_hooks.h"
#include "protocol/wire.h"
#include "server.h"

namespace capspawn::launcher_internal {
namespace {

// The connection the master hands over on `control` (one datagram, one fd).
UniqueFd ReceiveConnection(int control) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = space;
  msg.msg_controllen = sizeof space;
  ssize_t n;
  do {
    n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return UniqueFd();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) return UniqueFd();
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

// Everything the worker keeps open: stdio (its log on stderr), the
// connection, the client's pidfd and namespaces, the package roots. The
// master's listener and its other fds must not outlive the drop.
void CloseAllBut(std::vector<int> keep) {
  for (int fd = 0; fd < 3; ++fd) keep.push_back(fd);
  std::sort(keep.begin(), keep.end());
  unsigned next = 0;
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned>(fd) < next) continue;
    if (static_cast<unsigned>(fd) > next) syscall(SYS_close_range, next, fd - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
}

// Whether this process's own cgroup is the "procs" leaf of a DENY job.
bool InDenyJob() {
  Result<std::string> own = job_internal::OwnCgroupDir();
  if (!own.ok() || !own->ends_with(std::string("/") + job_internal::kLeafName)) return false;
  Result<UniqueFd> leaf = job_internal::OpenCgroupDir(*own);
  if (!leaf.ok()) return false;
  Result<UniqueFd> job = job_internal::OpenParent(leaf->get());
  if (!job.ok() || !job->valid()) return false;
  Result<std::optional<job_internal::JobMeta>> meta = job_internal::ReadMeta(job->get());
  return meta.ok() && meta->has_value() && (*meta)->new_process == NewProcessPolicy::kDeny;
}

// Why a worker of a non-root daemon cannot serve this client, or nothing.
std::optional<Error> Unservable(const ClientFacts& c) {
  std::vector<gid_t> groups(static_cast<size_t>(std::max(getgroups(0, nullptr), 0)));
  if (!groups.empty()) groups.resize(static_cast<size_t>(getgroups(groups.size(), groups.data())));
  std::sort(groups.begin(), groups.end());
  if (c.uid != geteuid() || c.gid != getegid() || c.groups != groups) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 "the launcher runs as uid " + std::to_string(geteuid()) +
                     " and cannot create processes as the client's uid " + std::to_string(c.uid) +
                     " gid " + std::to_string(c.gid));
  }
  return std::nullopt;
}

// Refuses the whole connection: one error reply (the client's next call
// reads it, even after its send fails: see protocol::SendAll), then the end.
[[noreturn]] void Refuse(int sock, const ClientFacts* c, const Error& why) {
  (void)protocol::Send(sock, protocol::EncodeErrorReply(why.status(), why.message()));
  std::fprintf(stderr, "capspawn-launcherd: refusing %s: %s\n",
               c ? ("client " + c->Describe()).c_str() : "a connection", why.message().c_str());
  _exit(0);
}

}  // namespace

void RunSpare(int control, const ServerOptions& options, pid_t master) {
  // Dies with the master, and nothing of the master's but what it needs.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != master) _exit(0);
  std::vector<int> keep = options.roots.fds();
  keep.push_back(control);
  CloseAllBut(keep);
  UniqueFd sock = ReceiveConnection(control);
  close(control);
  if (!sock) _exit(0);  // the master is gone

  const bool privileged = geteuid() == 0;
  Result<ClientFacts> facts = GatherClientFacts(sock.get());
  if (!facts.ok()) Refuse(sock.get(), nullptr, facts.error());
  ClientFacts& c = facts.value();
  if (!privileged) {
    if (std::optional<Error> e = Unservable(c)) Refuse(sock.get(), &c, *e);
  }

  // Its seccomp filters, read while root; with them, whether it is DENY.
  std::vector<std::vector<sock_filter>> filters;
  bool client_deny = false;
  if (c.seccomp_mode == 1) {
    Refuse(sock.get(), &c,
           Error(CAPSPAWN_ERR_ACCESS_DENIED, "the client is in seccomp strict mode"));
  }
  if (c.seccomp_filters > 0) {
    Result<std::vector<std::vector<sock_filter>>> read = ReadSeccompFilters(c);
    if (!read.ok()) Refuse(sock.get(), &c, read.error());
    filters = std::move(read.value());
    Result<bool> deny = FiltersDenyProcessCreation(filters);
    if (!deny.ok()) Refuse(sock.get(), &c, deny.error());
    client_deny = *deny;
  }

  // Become the client.
  // Limits before the namespaces: the worker's own /proc files are opened
  // where its /proc shows it (OwnOomScoreAdj).
  Status st = JoinCgroup(c);
  if (st.ok()) st = TakeLimits(c);
  if (st.ok()) st = EnterNamespaces(c);
  if (st.ok()) st = TakeIdentity(c, privileged);
  if (!st.ok())
    Refuse(sock.get(), &c, st.error().Context("the launcher could not act as the client"));
  // Changing ids cleared the parent-death signal and made this process
  // non-dumpable. Dumpable again, like any process of the client's, so that
  // what it launches can write its own uid_map and it can open their
  // /proc/PID/mem, as an in-process caller can; except for a client with
  // seccomp filters, which must not be able to ptrace a process that lacks
  // them (this one, or a child before it installs them).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != master) _exit(0);
  prctl(PR_SET_DUMPABLE, filters.empty() ? 1 : 0, 0, 0, 0);
  TakeSignals(c);

  std::vector<sock_fprog> programs;
  for (std::vector<sock_filter>& f : filters) {
    programs.push_back({static_cast<unsigned short>(f.size()), f.data()});
  }
  ConnectionSetup setup;
  setup.options = &options;
  setup.client = &c;
  setup.context.package_roots = &options.roots;
  setup.context.interpreter_paths_allowed = false;
  setup.context.inherited_filters = programs;
  setup.context.created_death_signal = SIGKILL;
  setup.client_deny = client_deny;
  setup.default_job_deny = InDenyJob();
  setup.non_dumpable = !filters.empty();
  for (const ClientNamespace& n : c.namespaces) setup.other_pid_namespace |= n.type == CLONE_NEWPID;
  c.root.reset();
  c.namespaces.clear();
  Connection connection(std::move(sock), std::move(setup));
  connection.Run();
  connection.Linger();
  _exit(0);
}

}  // namespace capspawn::launcher_internal
