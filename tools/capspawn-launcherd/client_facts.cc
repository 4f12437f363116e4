// SPDX-License-Identifier: Apache-2.0
#include "client_facts.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "job/cgroup_fs.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace capspawn::launcher_internal {
namespace {

// The whole of `path`, through `*kept` (opened there the first time) when
// given, else opened for this read. Kept files are single-record /proc files
// (status, limits, oom_score_adj): the kernel makes the whole text on each
// read from offset 0, so a read shorter than asked is the end, and the read
// that would return 0 is saved on every launch. A multi-record file
// (mountinfo) may return less than asked before its end.
Result<std::string> ReadText(const std::string& path, UniqueFd* kept = nullptr) {
  UniqueFd own;
  UniqueFd& fd = kept ? *kept : own;
  if (!fd) fd.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno(errno, "open " + path);
  std::string text;
  char chunk[4096];
  ssize_t n;
  off_t at = 0;
  while ((n = pread(fd.get(), chunk, sizeof chunk, at)) > 0) {
    text.append(chunk, static_cast<size_t>(n));
    at += n;
    if (kept && static_cast<size_t>(n) < sizeof chunk) break;
  }
  if (n < 0) return Error::FromErrno(errno, "read " + path);
  return text;
}

ProcFiles* Kept(ClientFacts* c) {
  if (!c->proc) c->proc = std::make_shared<ProcFiles>();
  return c->proc.get();
}

// The value after "\nName:\t" in a /proc status text, or null.
const char* StatusValue(const std::string& text, const char* name) {
  const std::string key = std::string("\n") + name + ":\t";
  size_t at = text.find(key);
  return at == std::string::npos ? nullptr : text.c_str() + at + key.size();
}
uint64_t Hex(const std::string& text, const char* name, uint64_t otherwise) {
  const char* v = StatusValue(text, name);
  return v ? std::strtoull(v, nullptr, 16) : otherwise;
}
long Dec(const std::string& text, const char* name, long otherwise, int base = 10) {
  const char* v = StatusValue(text, name);
  return v ? std::strtol(v, nullptr, base) : otherwise;
}

Status Identify(int sock, ClientFacts* c) {
  ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Error::FromErrno(errno, "getsockopt(SO_PEERCRED)");
  }
  c->pid = cred.pid;
  c->uid = cred.uid;
  c->gid = cred.gid;
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
  c->groups = std::move(groups);
  int pidfd = -1;
  len = sizeof pidfd;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0) {
    c->pidfd.reset(pidfd);
  } else {
    // Before Linux 6.5: open it now, which a recycled pid could fool.
    c->pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, c->pid, 0)));
  }
  if (!c->pidfd) return Error::FromErrno(errno, "the client's pidfd");
  return {};
}

// After each read of /proc/PID: the pid still names the client.
Status CheckAlive(const ClientFacts& c) {
  if (!Alive(c.pidfd.get())) return Error(CAPSPAWN_ERR_PEER_CLOSED, "the client exited");
  return {};
}

Status ReadStatus(ClientFacts* c, const std::string& proc) {
  Result<std::string> text = ReadText(proc + "/status", &Kept(c)->status);
  if (!text.ok()) return text.error();
  c->cap_inheritable = Hex(*text, "CapInh", 0);
  c->cap_permitted = Hex(*text, "CapPrm", 0);
  c->cap_effective = Hex(*text, "CapEff", 0);
  c->cap_bounding = Hex(*text, "CapBnd", 0);
  c->no_new_privs = Dec(*text, "NoNewPrivs", 0) != 0;
  c->ignored_signals = Hex(*text, "SigIgn", 0);
  c->umask = static_cast<mode_t>(Dec(*text, "Umask", 022, 8));
  c->seccomp_mode = static_cast<int>(Dec(*text, "Seccomp", 0));
  c->seccomp_filters = static_cast<int>(Dec(*text, "Seccomp_filters", 0));
  if (c->seccomp_mode == 2 && c->seccomp_filters == 0) c->seccomp_filters = 1;  // old kernel
  return {};
}

// /proc/PID/limits: a header, then one line per resource in number order,
// soft and hard limits at fixed columns. (prlimit() on another user's
// process would need CAP_SYS_RESOURCE.)
Status ReadLimits(ClientFacts* c, const std::string& proc) {
  Result<std::string> text = ReadText(proc + "/limits", &Kept(c)->limits);
  if (!text.ok()) return text.error();
  constexpr size_t kSoftColumn = 26, kHardColumn = 47;
  c->limits.clear();
  size_t at = text->find('\n');
  while (at != std::string::npos && c->limits.size() < RLIM_NLIMITS) {
    const size_t end = text->find('\n', at + 1);
    const std::string line = text->substr(at + 1, end == std::string::npos ? end : end - at - 1);
    at = end;
    if (line.size() <= kHardColumn) break;
    auto value = [&](size_t column) {
      return line.compare(column, 9, "unlimited") == 0
                 ? RLIM_INFINITY
                 : static_cast<rlim_t>(std::strtoull(line.c_str() + column, nullptr, 10));
    };
    c->limits.push_back({value(kSoftColumn), value(kHardColumn)});
  }
  if (c->limits.size() != RLIM_NLIMITS) {
    return Error(CAPSPAWN_ERR_INTERNAL, proc + "/limits: " + std::to_string(c->limits.size()) +
                                            " limits, not " + std::to_string(RLIM_NLIMITS));
  }
  errno = 0;
  c->nice = getpriority(PRIO_PROCESS, static_cast<id_t>(c->pid));
  if (errno != 0) return Error::FromErrno(errno, "getpriority(the client)");
  return {};
}

Status ReadOomScore(ClientFacts* c, const std::string& proc) {
  Result<std::string> oom = ReadText(proc + "/oom_score_adj", &Kept(c)->oom_score_adj);
  if (!oom.ok()) return oom.error();
  c->oom_score_adj = std::atoi(oom->c_str());
  return {};
}

Status ReadPlacement(ClientFacts* c, const std::string& proc) {
  Result<std::string> cgroup = ReadText(proc + "/cgroup");
  if (!cgroup.ok()) return cgroup.error();
  Result<std::string> mounts = ReadText("/proc/self/mountinfo");
  if (!mounts.ok()) return mounts.error();
  Result<std::string> dir = job_internal::CgroupDirFrom(*cgroup, *mounts);
  if (dir.ok()) c->cgroup_dir = std::move(dir.value());
  return {};
}

struct NsKind {
  const char* name;
  int type;
};
constexpr NsKind kNamespaces[] = {
    {"mnt", CLONE_NEWNS},
    {"net", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},
    {"cgroup", CLONE_NEWCGROUP},
    {"pid_for_children", CLONE_NEWPID},
    {"time_for_children", CLONE_NEWTIME},
};

Status ReadNamespaces(ClientFacts* c, const std::string& proc) {
  for (const NsKind& k : kNamespaces) {
    struct stat theirs, ours;
    const std::string path = proc + "/ns/" + k.name;
    if (stat(("/proc/self/ns/" + std::string(k.name)).c_str(), &ours) != 0) continue;  // old kernel
    if (stat(path.c_str(), &theirs) != 0) return Error::FromErrno(errno, "stat " + path);
    if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) continue;
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::FromErrno(errno, "open " + path);
    c->namespaces.push_back({k.name, k.type, std::move(fd)});
  }
  c->root.reset(open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!c->root) return Error::FromErrno(errno, "open " + proc + "/root");
  return {};
}

}  // namespace

std::string ClientFacts::Describe() const {
  return "pid " + std::to_string(pid) + " uid " + std::to_string(uid) + " gid " +
         std::to_string(gid);
}

bool Alive(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

Result<ClientFacts> GatherClientFacts(int sock) {
  ClientFacts c;
  Status st = Identify(sock, &c);
  const std::string proc = "/proc/" + std::to_string(c.pid);
  if (st.ok()) st = ReadStatus(&c, proc);
  if (st.ok()) st = CheckAlive(c);
  if (st.ok()) st = ReadLimits(&c, proc);
  if (st.ok()) st = ReadOomScore(&c, proc);
  if (st.ok()) st = ReadPlacement(&c, proc);
  if (st.ok()) st = ReadNamespaces(&c, proc);
  // What was read belongs to the client only if it was still there after.
  if (st.ok()) st = CheckAlive(c);
  if (!st.ok()) return st.error().Context("the client " + c.Describe());
  return c;
}

Status ReadChangeableFacts(ClientFacts* c, int pidfd) {
  const std::string proc = "/proc/" + std::to_string(c->pid);
  Status st = ReadStatus(c, proc);
  if (st.ok()) st = ReadLimits(c, proc);
  if (st.ok()) st = ReadOomScore(c, proc);
  if (st.ok() && !Alive(pidfd)) st = Error(CAPSPAWN_ERR_PEER_CLOSED, "the client exited");
  return st;
}

}  // namespace capspawn::launcher_internal
