// SPDX-License-Identifier: Apache-2.0
// JOIN_NAMESPACE, validated in the parent: the fd must be a namespace
// (ioctl NS_GET_NSTYPE answers for nsfs files only) of the kind stated, and
// the other actions must not ask for what a join makes impossible.
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "namespace/container_config.h"

namespace capspawn::container {
namespace {

struct Kind {
  int nstype;
  const char* name;
  uint32_t new_ns;  // the CAPSPAWN_NEW_NS_* flag of the same kind, or 0
};
constexpr Kind kKinds[] = {
    {CLONE_NEWNET, "net", CAPSPAWN_NEW_NS_NET},
    {CLONE_NEWIPC, "ipc", CAPSPAWN_NEW_NS_IPC},
    {CLONE_NEWUTS, "uts", CAPSPAWN_NEW_NS_UTS},
    {CLONE_NEWCGROUP, "cgroup", CAPSPAWN_NEW_NS_CGROUP},
    {CLONE_NEWNS, "mnt", 0},
    {CLONE_NEWPID, "pid", CAPSPAWN_NEW_NS_PID},
    {CLONE_NEWUSER, "user", CAPSPAWN_NEW_NS_USER},
    {CLONE_NEWTIME, "time", 0},
};

std::string Where(size_t i) { return "action " + std::to_string(i) + " (JOIN_NAMESPACE)"; }

Error Invalid(size_t i, const std::string& what) {
  return Error(CAPSPAWN_ERR_INVALID_ARGS, Where(i) + ": " + what);
}

// Whether fd is the namespace this process is in (same nsfs inode).
bool IsOwn(int fd, const char* own_path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(own_path, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace

const char* JoinTypeName(int nstype) {
  for (const Kind& k : kKinds) {
    if (k.nstype == nstype) return k.name;
  }
  return nullptr;
}

Status CollectJoin(size_t i, const capspawn_action_t& a, Config* c) {
  const int type = static_cast<int>(a.join.type);
  const char* name = JoinTypeName(type);
  if (!name || type == CLONE_NEWTIME) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%x", a.join.type);
    return Invalid(i, std::string("join.type ") + hex +
                          " is not CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, "
                          "CLONE_NEWNS, CLONE_NEWPID or CLONE_NEWUSER");
  }
  const int fd = a.join.fd;
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE,
                 Where(i) + ": join.fd " + std::to_string(fd) + " is not an open fd");
  }
  const int actual = ioctl(fd, NS_GET_NSTYPE);
  if (actual < 0) {
    return Invalid(i, "join.fd " + std::to_string(fd) +
                          " is not a namespace (ioctl(NS_GET_NSTYPE): " + std::strerror(errno) +
                          ")");
  }
  if (actual != type) {
    const char* is = JoinTypeName(actual);
    return Invalid(i, "join.fd " + std::to_string(fd) + " is a " + (is ? is : "other") +
                          " namespace, not the " + name + " namespace join.type says");
  }
  if (const Join* before = c->Joined(type)) {
    return Invalid(i, std::string("a second ") + name + " namespace (action " +
                          std::to_string(before->action_index) + " joins one)");
  }
  if (type == CLONE_NEWUSER) {
    if (IsOwn(fd, "/proc/self/ns/user")) return {};  // already there: nothing to do
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 Where(i) +
                     ": joining another user namespace: the kernel lets only a process that "
                     "shares no memory enter one (setns needs a single-threaded mm), and the "
                     "spawn child shares the caller's memory until its exec");
  }
  c->joins.push_back({type, fd, i});
  return {};
}

Status FinishJoins(const Config& c) {
  const bool new_user =
      (c.new_ns & CAPSPAWN_NEW_NS_USER) || !c.uid_map.empty() || !c.gid_map.empty();
  for (const Join& j : c.joins) {
    for (const Kind& k : kKinds) {
      if (k.nstype != j.nstype || !k.new_ns || !(c.new_ns & k.new_ns)) continue;
      std::string also = "NEW_NAMESPACES";
      if (k.new_ns == CAPSPAWN_NEW_NS_UTS && c.hostname) {
        also = "SET_HOSTNAME (action " + std::to_string(c.hostname->action_index) + ")";
      }
      return Invalid(j.action_index, std::string("joins a ") + k.name + " namespace, and " + also +
                                         " asks for a new one");
    }
    if (new_user) {
      return Invalid(j.action_index,
                     "a new user namespace is asked for too: inside it the child has no "
                     "privilege over the namespace it would join (setns needs CAP_SYS_ADMIN "
                     "there)");
    }
  }
  if (const Join* m = c.Joined(CLONE_NEWNS); m && c.HasFilesystem()) {
    size_t other = !c.mounts.empty()      ? c.mounts[0].action_index
                   : !c.masked.empty()    ? c.masked[0].action_index
                   : !c.read_only.empty() ? c.read_only[0].action_index
                                          : c.devices[0].action_index;
    return Invalid(m->action_index,
                   "joins a mount namespace, and action " + std::to_string(other) +
                       " asks for a mount: the joined namespace is the filesystem as it is");
  }
  return {};
}

}  // namespace capspawn::container
