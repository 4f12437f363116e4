// SPDX-License-Identifier: Apache-2.0
// Validating the container actions: every refusal names the action index and
// the field that is wrong.
#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "container/caps.h"
#include "namespace/container_config.h"
#include "namespace/namespace.h"

namespace capspawn::container {
namespace {

constexpr uint32_t kKnownNsFlags = CAPSPAWN_NEW_NS_PID | CAPSPAWN_NEW_NS_NET | CAPSPAWN_NEW_NS_IPC |
                                   CAPSPAWN_NEW_NS_UTS | CAPSPAWN_NEW_NS_CGROUP |
                                   CAPSPAWN_NEW_NS_USER | CAPSPAWN_NEW_NS_PID_INIT;
constexpr uint32_t kKnownMountFlags = 0x1FF;
constexpr size_t kMaxMapLines = 340;  // the kernel's limit per map
constexpr size_t kMaxGroups = 65536;  // NGROUPS_MAX
constexpr size_t kMaxFilter = 4096;   // BPF_MAXINSNS

struct Named {
  uint32_t action;
  const char* name;
};
constexpr Named kNames[] = {
    {CAPSPAWN_ACTION_NEW_NAMESPACES, "NEW_NAMESPACES"},
    {CAPSPAWN_ACTION_SET_HOSTNAME, "SET_HOSTNAME"},
    {CAPSPAWN_ACTION_ADD_MOUNT, "ADD_MOUNT"},
    {CAPSPAWN_ACTION_MASK_PATH, "MASK_PATH"},
    {CAPSPAWN_ACTION_READ_ONLY_PATH, "READ_ONLY_PATH"},
    {CAPSPAWN_ACTION_ADD_DEVICES, "ADD_DEVICES"},
    {CAPSPAWN_ACTION_SET_CAPABILITIES, "SET_CAPABILITIES"},
    {CAPSPAWN_ACTION_SET_NO_NEW_PRIVS, "SET_NO_NEW_PRIVS"},
    {CAPSPAWN_ACTION_SET_RLIMIT, "SET_RLIMIT"},
    {CAPSPAWN_ACTION_SET_IDS, "SET_IDS"},
    {CAPSPAWN_ACTION_SET_GROUPS, "SET_GROUPS"},
    {CAPSPAWN_ACTION_SET_UMASK, "SET_UMASK"},
    {CAPSPAWN_ACTION_ADD_UID_MAP, "ADD_UID_MAP"},
    {CAPSPAWN_ACTION_ADD_GID_MAP, "ADD_GID_MAP"},
    {CAPSPAWN_ACTION_SET_SECCOMP_FILTER, "SET_SECCOMP_FILTER"},
    {CAPSPAWN_ACTION_SET_CWD, "SET_CWD"},
    {CAPSPAWN_ACTION_SET_SYSCTL, "SET_SYSCTL"},
    {CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ, "SET_OOM_SCORE_ADJ"},
    {CAPSPAWN_ACTION_SET_DEATH_SIGNAL, "SET_DEATH_SIGNAL"},
    {CAPSPAWN_ACTION_JOIN_NAMESPACE, "JOIN_NAMESPACE"},
    {CAPSPAWN_ACTION_NEW_SESSION, "NEW_SESSION"},
};

std::string Where(size_t i, uint32_t action) {
  return "action " + std::to_string(i) + " (" + ContainerActionName(action) + ")";
}

Error Invalid(size_t i, uint32_t action, const std::string& what) {
  return Error(CAPSPAWN_ERR_INVALID_ARGS, Where(i, action) + ": " + what);
}

std::string Hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

Status CheckPath(size_t i, uint32_t action, const char* path, const char* field,
                 bool root_allowed) {
  if (!path) return Invalid(i, action, std::string(field) + " is NULL");
  if (!ns::IsNormalisedAbsolute(path)) {
    return Invalid(i, action,
                   std::string(field) + " '" + path + "' is not an absolute, normalised path");
  }
  if (!root_allowed && std::strcmp(path, "/") == 0) {
    return Invalid(i, action, std::string(field) + " cannot be '/'");
  }
  return {};
}

Status CollectMount(size_t i, const capspawn_action_t& a, bool source_open, Config* c) {
  const uint32_t act = a.action;
  const capspawn_mount_t* m = a.mount.spec;
  if (!m) return Invalid(i, act, "mount.spec is NULL");
  if (m->kind < CAPSPAWN_MOUNT_BIND || m->kind > CAPSPAWN_MOUNT_CGROUP2) {
    return Invalid(i, act, "kind " + std::to_string(m->kind) + " is not a CAPSPAWN_MOUNT_* kind");
  }
  if (m->flags & ~kKnownMountFlags) {
    return Invalid(i, act, "flags has unknown bits " + Hex(m->flags & ~kKnownMountFlags));
  }
  const int atime = ((m->flags & CAPSPAWN_MOUNT_RELATIME) != 0) +
                    ((m->flags & CAPSPAWN_MOUNT_NOATIME) != 0) +
                    ((m->flags & CAPSPAWN_MOUNT_STRICTATIME) != 0);
  if (atime > 1)
    return Invalid(i, act, "flags: RELATIME, NOATIME and STRICTATIME exclude each other");
  if (Status st = CheckPath(i, act, m->target, "target", false); !st.ok()) return st;
  Mount mount;
  mount.kind = m->kind;
  mount.flags = m->flags;
  mount.target = m->target;
  mount.action_index = i;
  if (m->kind == CAPSPAWN_MOUNT_BIND) {
    if (!source_open) {
      return Error(CAPSPAWN_ERR_BAD_HANDLE,
                   Where(i, act) + ": source " + std::to_string(m->source) + " is not an open fd");
    }
    if (m->data && *m->data) return Invalid(i, act, "data: a bind mount takes no options");
    mount.source_fd = m->source;
  } else {
    if (m->flags & CAPSPAWN_MOUNT_RECURSIVE)
      return Invalid(i, act, "flags: RECURSIVE is for binds");
    if (m->source != -1) return Invalid(i, act, "source must be -1 for a file system mount");
    if (m->data && std::strlen(m->data) > 4000)
      return Invalid(i, act, "data is longer than 4000 bytes");
    mount.options = ParseFsOptions(m->data);
    for (const FsOption& o : mount.options) {
      if (o.key.empty())
        return Invalid(i, act, std::string("data '") + m->data + "': an empty option");
    }
  }
  c->mounts.push_back(std::move(mount));
  return {};
}

Status CollectCaps(size_t i, const capspawn_action_t& a, Config* c) {
  const uint32_t act = a.action;
  const capspawn_capabilities_t* s = a.caps.sets;
  if (!s) return Invalid(i, act, "caps.sets is NULL");
  const uint64_t known = KnownCapabilities();
  const struct {
    const char* name;
    uint64_t bits;
  } sets[] = {{"bounding", s->bounding},
              {"effective", s->effective},
              {"permitted", s->permitted},
              {"inheritable", s->inheritable},
              {"ambient", s->ambient}};
  for (const auto& set : sets) {
    if (set.bits & ~known) {
      return Invalid(i, act,
                     std::string(set.name) + " has bits " + Hex(set.bits & ~known) +
                         " beyond the last capability this kernel knows (" +
                         std::to_string(LastCapability()) + ")");
    }
  }
  if (s->effective & ~s->permitted) {
    return Invalid(
        i, act,
        "effective has " + CapabilityNames(s->effective & ~s->permitted) + " that permitted lacks");
  }
  const uint64_t amb_missing = s->ambient & ~(s->permitted & s->inheritable);
  if (amb_missing) {
    return Invalid(i, act,
                   "ambient has " + CapabilityNames(amb_missing) +
                       " that is not in both permitted and inheritable");
  }
  c->caps = Set<capspawn_capabilities_t>{*s, i};
  return {};
}

Status CollectIdMap(size_t i, const capspawn_action_t& a, Config* c) {
  const uint32_t act = a.action;
  std::vector<IdMapLine>& map = act == CAPSPAWN_ACTION_ADD_UID_MAP ? c->uid_map : c->gid_map;
  const uint64_t in = a.idmap.inside, out = a.idmap.outside, n = a.idmap.count;
  if (n == 0) return Invalid(i, act, "idmap.count is 0");
  if (in + n > 0xFFFFFFFFull || out + n > 0xFFFFFFFFull) {
    return Invalid(i, act, "idmap: inside/outside + count passes 4294967295");
  }
  if (map.size() >= kMaxMapLines) {
    return Invalid(i, act, "more than " + std::to_string(kMaxMapLines) + " lines in the map");
  }
  for (const IdMapLine& l : map) {
    if (in < uint64_t{l.inside} + l.count && uint64_t{l.inside} < in + n) {
      return Invalid(i, act,
                     "idmap.inside range overlaps action " + std::to_string(l.action_index));
    }
    if (out < uint64_t{l.outside} + l.count && uint64_t{l.outside} < out + n) {
      return Invalid(i, act,
                     "idmap.outside range overlaps action " + std::to_string(l.action_index));
    }
  }
  map.push_back({a.idmap.inside, a.idmap.outside, a.idmap.count, i});
  c->new_ns |= CAPSPAWN_NEW_NS_USER;
  return {};
}

Status CollectSysctl(size_t i, const capspawn_action_t& a, Config* c) {
  const uint32_t act = a.action;
  if (!a.sysctl.key) return Invalid(i, act, "sysctl.key is NULL");
  if (!a.sysctl.value) return Invalid(i, act, "sysctl.value is NULL");
  const std::string key = a.sysctl.key;
  bool ok = !key.empty() && key.front() != '.' && key.back() != '.' &&
            key.find("..") == std::string::npos && key.size() < 200;
  for (char ch : key) {
    ok &= (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '.' || ch == '-';
  }
  if (!ok) return Invalid(i, act, "sysctl.key '" + key + "' is not a sysctl name");
  if (std::strlen(a.sysctl.value) > 4000) return Invalid(i, act, "sysctl.value is too long");
  c->sysctls.push_back({key, a.sysctl.value, i});
  return {};
}

// The namespace a sysctl lives in (CAPSPAWN_NEW_NS_*), or 0: not namespaced.
uint32_t SysctlNamespace(const std::string& key) {
  auto starts = [&](const char* p) { return key.rfind(p, 0) == 0; };
  if (starts("net.")) return CAPSPAWN_NEW_NS_NET;
  if (key == "kernel.hostname" || key == "kernel.domainname") return CAPSPAWN_NEW_NS_UTS;
  if (key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" ||
      key == "kernel.sem" || key == "kernel.shmall" || key == "kernel.shmmax" ||
      key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" || starts("fs.mqueue.")) {
    return CAPSPAWN_NEW_NS_IPC;
  }
  return 0;
}

const char* NsName(uint32_t flag) {
  switch (flag) {
    case CAPSPAWN_NEW_NS_NET:
      return "NET";
    case CAPSPAWN_NEW_NS_UTS:
      return "UTS";
    default:
      return "IPC";
  }
}

}  // namespace

bool IsContainerAction(uint32_t action) { return ContainerActionName(action) != nullptr; }

const char* ContainerActionName(uint32_t action) {
  for (const Named& n : kNames) {
    if (n.action == action) return n.name;
  }
  return nullptr;
}

int* ConsumedMountFd(const capspawn_action_t& a) {
  if (a.action != CAPSPAWN_ACTION_ADD_MOUNT || !a.mount.spec) return nullptr;
  if (a.mount.spec->kind != CAPSPAWN_MOUNT_BIND) return nullptr;
  return const_cast<int*>(&a.mount.spec->source);
}

std::vector<FsOption> ParseFsOptions(const char* data) {
  std::vector<FsOption> out;
  if (!data || !*data) return out;
  std::string s = data;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    FsOption o;
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      o.key = item;
      o.flag = true;
    } else {
      o.key = item.substr(0, eq);
      o.value = item.substr(eq + 1);
    }
    out.push_back(std::move(o));
    start = comma + 1;
  }
  return out;
}

Status CollectAction(size_t i, const capspawn_action_t& a, bool source_open, Config* c) {
  const uint32_t act = a.action;
  if (!c->first_action) c->first_action = Set<uint32_t>{act, i};
  switch (act) {
    case CAPSPAWN_ACTION_NEW_NAMESPACES:
      if (a.new_ns.flags & ~kKnownNsFlags) {
        return Invalid(i, act,
                       "new_ns.flags has unknown bits " + Hex(a.new_ns.flags & ~kKnownNsFlags));
      }
      if ((a.new_ns.flags & CAPSPAWN_NEW_NS_PID_INIT) && !(a.new_ns.flags & CAPSPAWN_NEW_NS_PID)) {
        return Invalid(i, act, "new_ns.flags: PID_INIT needs PID");
      }
      c->new_ns |= a.new_ns.flags;
      c->new_ns_action = i;
      return {};
    case CAPSPAWN_ACTION_SET_HOSTNAME: {
      if (!a.name.data) return Invalid(i, act, "name.data is NULL");
      const size_t n = std::strlen(a.name.data);
      if (n == 0 || n > 64) return Invalid(i, act, "the hostname must have 1 to 64 bytes");
      c->hostname = Set<std::string>{a.name.data, i};
      c->new_ns |= CAPSPAWN_NEW_NS_UTS;
      return {};
    }
    case CAPSPAWN_ACTION_ADD_MOUNT:
      return CollectMount(i, a, source_open, c);
    case CAPSPAWN_ACTION_MASK_PATH:
    case CAPSPAWN_ACTION_READ_ONLY_PATH:
    case CAPSPAWN_ACTION_ADD_DEVICES: {
      if (Status st =
              CheckPath(i, act, a.dir.prefix, "dir.prefix", act == CAPSPAWN_ACTION_READ_ONLY_PATH);
          !st.ok())
        return st;
      std::vector<PathAction>& v = act == CAPSPAWN_ACTION_MASK_PATH        ? c->masked
                                   : act == CAPSPAWN_ACTION_READ_ONLY_PATH ? c->read_only
                                                                           : c->devices;
      v.push_back({a.dir.prefix, i});
      return {};
    }
    case CAPSPAWN_ACTION_SET_CAPABILITIES:
      return CollectCaps(i, a, c);
    case CAPSPAWN_ACTION_SET_NO_NEW_PRIVS:
      c->no_new_privs = i;
      return {};
    case CAPSPAWN_ACTION_NEW_SESSION:
      c->new_session = i;
      return {};
    case CAPSPAWN_ACTION_SET_RLIMIT: {
      const capspawn_rlimit_t* l = a.rlimit.limit;
      if (!l) return Invalid(i, act, "rlimit.limit is NULL");
      if (l->resource >= RLIMIT_NLIMITS) {
        return Invalid(i, act, "resource " + std::to_string(l->resource) + " is not an RLIMIT_*");
      }
      if (l->soft > l->hard) {
        return Invalid(
            i, act,
            "soft " + std::to_string(l->soft) + " is above hard " + std::to_string(l->hard));
      }
      std::erase_if(c->rlimits, [&](const Rlimit& r) { return r.resource == l->resource; });
      c->rlimits.push_back({l->resource, l->soft, l->hard, i});
      return {};
    }
    case CAPSPAWN_ACTION_SET_IDS:
      if (a.ids.uid == UINT32_MAX) return Invalid(i, act, "ids.uid 4294967295 is not a uid");
      if (a.ids.gid == UINT32_MAX) return Invalid(i, act, "ids.gid 4294967295 is not a gid");
      c->ids = Set<std::pair<uid_t, gid_t>>{{a.ids.uid, a.ids.gid}, i};
      return {};
    case CAPSPAWN_ACTION_SET_GROUPS: {
      if (a.groups.count > kMaxGroups) {
        return Invalid(i, act,
                       "groups.count " + std::to_string(a.groups.count) + " is above 65536");
      }
      if (a.groups.count > 0 && !a.groups.list) return Invalid(i, act, "groups.list is NULL");
      std::vector<gid_t> g(a.groups.list, a.groups.list + a.groups.count);
      for (size_t k = 0; k < g.size(); ++k) {
        if (g[k] == UINT32_MAX) {
          return Invalid(i, act, "groups.list[" + std::to_string(k) + "] 4294967295 is not a gid");
        }
      }
      c->groups = Set<std::vector<gid_t>>{std::move(g), i};
      return {};
    }
    case CAPSPAWN_ACTION_SET_UMASK:
      if (a.number.value < 0 || a.number.value > 0777) {
        return Invalid(i, act,
                       "number.value " + std::to_string(a.number.value) + " is not a mode 0..0777");
      }
      c->umask = Set<mode_t>{static_cast<mode_t>(a.number.value), i};
      return {};
    case CAPSPAWN_ACTION_ADD_UID_MAP:
    case CAPSPAWN_ACTION_ADD_GID_MAP:
      return CollectIdMap(i, a, c);
    case CAPSPAWN_ACTION_SET_SECCOMP_FILTER: {
      if (!a.seccomp.program) return Invalid(i, act, "seccomp.program is NULL");
      if (a.seccomp.count == 0 || a.seccomp.count > kMaxFilter) {
        return Invalid(
            i, act,
            "seccomp.count " + std::to_string(a.seccomp.count) + " is not 1..4096 instructions");
      }
      static_assert(sizeof(capspawn_sock_filter_t) == sizeof(sock_filter));
      std::vector<sock_filter> prog(a.seccomp.count);
      std::memcpy(prog.data(), a.seccomp.program, a.seccomp.count * sizeof(sock_filter));
      c->seccomp = Set<std::vector<sock_filter>>{std::move(prog), i};
      return {};
    }
    case CAPSPAWN_ACTION_SET_CWD:
      if (!a.dir.prefix) return Invalid(i, act, "dir.prefix is NULL");
      if (a.dir.prefix[0] != '/') {
        return Invalid(i, act, std::string("dir.prefix '") + a.dir.prefix + "' is not absolute");
      }
      if (std::strlen(a.dir.prefix) >= 4096) return Invalid(i, act, "dir.prefix is too long");
      c->cwd = Set<std::string>{a.dir.prefix, i};
      return {};
    case CAPSPAWN_ACTION_SET_SYSCTL:
      return CollectSysctl(i, a, c);
    case CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ:
      if (a.number.value < -1000 || a.number.value > 1000) {
        return Invalid(i, act,
                       "number.value " + std::to_string(a.number.value) + " is not -1000..1000");
      }
      c->oom_score_adj = Set<int>{a.number.value, i};
      return {};
    case CAPSPAWN_ACTION_SET_DEATH_SIGNAL:
      if (a.number.value < 0 || a.number.value > SIGRTMAX) {
        return Invalid(i, act,
                       "number.value " + std::to_string(a.number.value) + " is not a signal");
      }
      c->death_signal = Set<int>{a.number.value, i};
      return {};
    case CAPSPAWN_ACTION_JOIN_NAMESPACE:
      return CollectJoin(i, a, c);
    default:
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "action " + std::to_string(i) + ": unknown action " + std::to_string(act));
  }
}

Status Finish(Config* c) {
  for (const Sysctl& s : c->sysctls) {
    const uint32_t ns = SysctlNamespace(s.key);
    if (ns == 0) {
      return Invalid(s.action_index, CAPSPAWN_ACTION_SET_SYSCTL,
                     "'" + s.key +
                         "' is not a namespaced sysctl (net.*, kernel.hostname, "
                         "kernel.domainname, the kernel.msg*/sem/shm* IPC ones, fs.mqueue.*)");
    }
    if (!(c->new_ns & ns)) {
      return Invalid(s.action_index, CAPSPAWN_ACTION_SET_SYSCTL,
                     "'" + s.key + "' needs a new " + NsName(ns) +
                         " namespace (NEW_NAMESPACES with CAPSPAWN_NEW_NS_" + NsName(ns) +
                         "): it would change the caller's");
    }
  }
  if (c->groups && !c->ids) {
    return Invalid(c->groups->action_index, CAPSPAWN_ACTION_SET_GROUPS, "needs SET_IDS");
  }
  return FinishJoins(*c);
}

}  // namespace capspawn::container
