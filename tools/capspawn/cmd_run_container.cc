// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <capspawn/container.h>
#include <capspawn/status.h>

#include "container_actions.h"

namespace capspawn::cli {
namespace {

// The caller's own sets: --cap-add/--cap-drop change them.
capspawn_capabilities_t OwnCapabilities() {
  capspawn_capabilities_t c{};
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) == 0) {
    for (int i = 0; i < 2; ++i) {
      c.effective |= uint64_t{data[i].effective} << (32 * i);
      c.permitted |= uint64_t{data[i].permitted} << (32 * i);
      c.inheritable |= uint64_t{data[i].inheritable} << (32 * i);
    }
  }
  for (int cap = 0; cap <= capspawn_capability_last(); ++cap) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) c.bounding |= uint64_t{1} << cap;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
      c.ambient |= uint64_t{1} << cap;
  }
  return c;
}

bool ReadFilter(const std::string& path, const std::string& option,
                std::vector<capspawn_sock_filter_t>* out, capspawn_status_t* status,
                std::string* message) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *status = capspawn_status_from_errno(errno);
    *message = option + ": open " + path + ": " + strerror(errno);
    return false;
  }
  std::string bytes;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 && bytes.size() < (1 << 20)) bytes.append(buf, n);
  close(fd);
  if (!bytes.empty() && bytes.find_first_not_of(" \t\r\n") != std::string::npos &&
      bytes[bytes.find_first_not_of(" \t\r\n")] == '{') {
    *status = CAPSPAWN_ERR_NOT_SUPPORTED;
    *message = option + ": " + path +
               " is a JSON profile; capspawn run reads a BPF program (the bytes "
               "seccomp_export_bpf writes), not OCI JSON yet";
    return false;
  }
  if (bytes.empty() || bytes.size() % sizeof(capspawn_sock_filter_t) != 0) {
    *status = CAPSPAWN_ERR_INVALID_ARGS;
    *message = option + ": " + path + " holds " + std::to_string(bytes.size()) +
               " bytes, not a BPF program (a non-empty multiple of 8)";
    return false;
  }
  out->resize(bytes.size() / sizeof(capspawn_sock_filter_t));
  memcpy(out->data(), bytes.data(), bytes.size());
  return true;
}

}  // namespace

std::vector<capspawn_action_t> ImpliedIdMaps(const RunOptions& o) {
  std::vector<capspawn_action_t> maps;
  if (geteuid() == 0 || o.explicit_maps || (o.uid < 0 && o.gid < 0)) return maps;
  capspawn_action_t u = {}, g = {};
  u.action = CAPSPAWN_ACTION_ADD_UID_MAP;
  u.idmap = {static_cast<uint32_t>(o.uid >= 0 ? o.uid : geteuid()), geteuid(), 1};
  g.action = CAPSPAWN_ACTION_ADD_GID_MAP;
  g.idmap = {static_cast<uint32_t>(o.gid >= 0 ? o.gid : getegid()), getegid(), 1};
  maps.push_back(u);
  maps.push_back(g);
  return maps;
}

bool BuildContainerAction(const RunOptions& o, const ActionOption& a, ContainerStorage* st,
                          capspawn_action_t* act, std::vector<int>* opened,
                          capspawn_status_t* status, std::string* message) {
  switch (a.action) {
    case CAPSPAWN_ACTION_NEW_NAMESPACES:
      act->new_ns.flags = a.kind;
      return true;
    case CAPSPAWN_ACTION_SET_HOSTNAME:
    case CAPSPAWN_ACTION_MASK_PATH:
    case CAPSPAWN_ACTION_READ_ONLY_PATH:
    case CAPSPAWN_ACTION_ADD_DEVICES:
    case CAPSPAWN_ACTION_SET_CWD:
      act->dir.prefix = a.path.c_str();  // name.data shares the slot
      return true;
    case CAPSPAWN_ACTION_SET_CAPABILITIES: {
      st->caps = OwnCapabilities();
      for (const CapChange& c : o.cap_changes) {
        for (uint64_t* set : {&st->caps.bounding, &st->caps.effective, &st->caps.permitted,
                              &st->caps.inheritable, &st->caps.ambient}) {
          *set = c.add ? (*set | c.caps) : (*set & ~c.caps);
        }
      }
      act->caps.sets = &st->caps;
      return true;
    }
    case CAPSPAWN_ACTION_SET_NO_NEW_PRIVS:
    case CAPSPAWN_ACTION_NEW_SESSION:
      return true;
    case CAPSPAWN_ACTION_SET_RLIMIT:
      st->rlimits.push_back({a.id, a.soft, a.hard});
      act->rlimit.limit = &st->rlimits.back();
      return true;
    case CAPSPAWN_ACTION_SET_IDS:
      act->ids.uid = static_cast<uint32_t>(o.uid >= 0 ? o.uid : (o.explicit_maps ? 0 : getuid()));
      act->ids.gid = static_cast<uint32_t>(o.gid >= 0 ? o.gid : (o.explicit_maps ? 0 : getgid()));
      return true;
    case CAPSPAWN_ACTION_ADD_UID_MAP:
    case CAPSPAWN_ACTION_ADD_GID_MAP:
      act->idmap.inside = a.inside;
      act->idmap.outside = a.outside;
      act->idmap.count = a.count;
      return true;
    case CAPSPAWN_ACTION_SET_SECCOMP_FILTER: {
      st->filters.emplace_back();
      if (!ReadFilter(a.dir, a.option, &st->filters.back(), status, message)) return false;
      act->seccomp.program = st->filters.back().data();
      act->seccomp.count = st->filters.back().size();
      return true;
    }
    case CAPSPAWN_ACTION_SET_SYSCTL:
      act->sysctl.key = a.path.c_str();
      act->sysctl.value = a.data.c_str();
      return true;
    case CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ:
    case CAPSPAWN_ACTION_SET_DEATH_SIGNAL:
    case CAPSPAWN_ACTION_SET_UMASK:
      act->number.value = a.number;
      return true;
    case CAPSPAWN_ACTION_ADD_MOUNT: {
      int source = -1;
      if (a.kind == CAPSPAWN_MOUNT_BIND) {
        source = open(a.dir.c_str(), O_PATH | O_CLOEXEC);
        if (source < 0) {
          *status = capspawn_status_from_errno(errno);
          *message = a.option + ": open " + a.dir + ": " + strerror(errno);
          return false;
        }
        opened->push_back(source);
      }
      st->mounts.push_back(
          {a.kind, a.flags, a.path.c_str(), source, a.data.empty() ? nullptr : a.data.c_str()});
      act->mount.spec = &st->mounts.back();
      return true;
    }
    case CAPSPAWN_ACTION_JOIN_NAMESPACE: {
      // Borrowed by the action: kept open here until the spawn returns.
      UniqueFd ns(open(a.dir.c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns) {
        *status = capspawn_status_from_errno(errno);
        *message = a.option + ": open " + a.dir + ": " + strerror(errno);
        return false;
      }
      act->join.type = a.kind;
      act->join.fd = ns.get();
      st->join_fds.push_back(std::move(ns));
      return true;
    }
    default:
      *status = CAPSPAWN_ERR_INTERNAL;
      *message = a.option + ": not a container option";
      return false;
  }
}

}  // namespace capspawn::cli
