// SPDX-License-Identifier: Apache-2.0
// `capspawn run`'s container options: each one capspawn_action_t of the
// container range (capspawn/spawn.h), parsed here without touching any fd.
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <capspawn/container.h>

#include "options.h"

namespace capspawn::cli {
namespace {

enum : int {
  kOptNet = kFirstContainerOption,
  kOptPid,
  kOptIpc,
  kOptUts,
  kOptCgroupns,
  kOptUserns,
  kOptInit,
  kOptHostname,
  kOptCapAdd,
  kOptCapDrop,
  kOptNoNewPrivs,
  kOptRlimit,
  kOptUid,
  kOptGid,
  kOptGroups,
  kOptUidMap,
  kOptGidMap,
  kOptSeccomp,
  kOptChdir,
  kOptDieWithParent,
  kOptNewSession,
  kOptRoot,
  kOptRootRo,
  kOptMount,
  kOptBind,
  kOptRbind,
  kOptMask,
  kOptRoPath,
  kOptDevices,
  kOptSysctl,
  kOptOomScoreAdj,
  kOptUmask,
  kOptJoin,
};

const option kOptions[] = {
    {"net", no_argument, nullptr, kOptNet},
    {"pid", no_argument, nullptr, kOptPid},
    {"ipc", no_argument, nullptr, kOptIpc},
    {"uts", no_argument, nullptr, kOptUts},
    {"cgroupns", no_argument, nullptr, kOptCgroupns},
    {"userns", no_argument, nullptr, kOptUserns},
    {"init", no_argument, nullptr, kOptInit},
    {"hostname", required_argument, nullptr, kOptHostname},
    {"cap-add", required_argument, nullptr, kOptCapAdd},
    {"cap-drop", required_argument, nullptr, kOptCapDrop},
    {"no-new-privs", no_argument, nullptr, kOptNoNewPrivs},
    {"rlimit", required_argument, nullptr, kOptRlimit},
    {"uid", required_argument, nullptr, kOptUid},
    {"gid", required_argument, nullptr, kOptGid},
    {"groups", required_argument, nullptr, kOptGroups},
    {"uid-map", required_argument, nullptr, kOptUidMap},
    {"gid-map", required_argument, nullptr, kOptGidMap},
    {"seccomp", required_argument, nullptr, kOptSeccomp},
    {"chdir", required_argument, nullptr, kOptChdir},
    {"die-with-parent", no_argument, nullptr, kOptDieWithParent},
    {"new-session", no_argument, nullptr, kOptNewSession},
    {"root", required_argument, nullptr, kOptRoot},
    {"root-ro", required_argument, nullptr, kOptRootRo},
    {"mount", required_argument, nullptr, kOptMount},
    {"bind", required_argument, nullptr, kOptBind},
    {"rbind", required_argument, nullptr, kOptRbind},
    {"mask", required_argument, nullptr, kOptMask},
    {"ro-path", required_argument, nullptr, kOptRoPath},
    {"devices", required_argument, nullptr, kOptDevices},
    {"sysctl", required_argument, nullptr, kOptSysctl},
    {"oom-score-adj", required_argument, nullptr, kOptOomScoreAdj},
    {"umask", required_argument, nullptr, kOptUmask},
    {"join", required_argument, nullptr, kOptJoin},
    {nullptr, 0, nullptr, 0},
};

struct Word {
  const char* word;
  uint32_t value;
};
constexpr Word kMountKinds[] = {
    {"proc", CAPSPAWN_MOUNT_PROC},     {"tmpfs", CAPSPAWN_MOUNT_TMPFS},
    {"devpts", CAPSPAWN_MOUNT_DEVPTS}, {"mqueue", CAPSPAWN_MOUNT_MQUEUE},
    {"sysfs", CAPSPAWN_MOUNT_SYSFS},   {"cgroup2", CAPSPAWN_MOUNT_CGROUP2},
};
constexpr Word kMountFlags[] = {
    {"ro", CAPSPAWN_MOUNT_RDONLY},
    {"nosuid", CAPSPAWN_MOUNT_NOSUID},
    {"nodev", CAPSPAWN_MOUNT_NODEV},
    {"noexec", CAPSPAWN_MOUNT_NOEXEC},
    {"relatime", CAPSPAWN_MOUNT_RELATIME},
    {"noatime", CAPSPAWN_MOUNT_NOATIME},
    {"strictatime", CAPSPAWN_MOUNT_STRICTATIME},
    {"nodiratime", CAPSPAWN_MOUNT_NODIRATIME},
    {"rw", 0},
};
constexpr Word kRlimits[] = {
    {"cpu", RLIMIT_CPU},           {"fsize", RLIMIT_FSIZE},
    {"data", RLIMIT_DATA},         {"stack", RLIMIT_STACK},
    {"core", RLIMIT_CORE},         {"rss", RLIMIT_RSS},
    {"nproc", RLIMIT_NPROC},       {"nofile", RLIMIT_NOFILE},
    {"memlock", RLIMIT_MEMLOCK},   {"as", RLIMIT_AS},
    {"locks", RLIMIT_LOCKS},       {"sigpending", RLIMIT_SIGPENDING},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"rtprio", RLIMIT_RTPRIO},     {"rttime", RLIMIT_RTTIME},
};

bool ParseNumber(const std::string& text, uint64_t max, uint64_t* v, int base = 10) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    if (!(base == 8 && !text.empty() && text.find_first_not_of("01234567") == std::string::npos))
      return false;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long n = strtoull(text.c_str(), &end, base);
  if (errno || *end || n > max) return false;
  *v = n;
  return true;
}

bool ParseSigned(const std::string& text, long lo, long hi, long* v) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long n = strtol(text.c_str(), &end, 10);
  if (errno || *end || n < lo || n > hi) return false;
  *v = n;
  return true;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// "ro,nosuid,size=1m": flag words into *flags, the rest into *data.
void MountOptions(const std::string& list, uint32_t* flags, std::string* data) {
  if (list.empty()) return;
  for (const std::string& item : Split(list, ',')) {
    bool known = false;
    for (const Word& w : kMountFlags) {
      if (item == w.word) {
        *flags |= w.value;
        known = true;
      }
    }
    if (!known) *data += (data->empty() ? "" : ",") + item;
  }
}

bool Fail(std::string* error, const std::string& text) {
  *error = text;
  return false;
}

bool Parse(int c, const std::string& spelled, const std::string& value, RunOptions* o,
           std::string* error) {
  ActionOption a;
  a.option = spelled;
  switch (c) {
    case kOptNet:
    case kOptPid:
    case kOptIpc:
    case kOptUts:
    case kOptCgroupns:
    case kOptUserns:
    case kOptInit:
      a.action = CAPSPAWN_ACTION_NEW_NAMESPACES;
      a.kind = c == kOptNet        ? CAPSPAWN_NEW_NS_NET
               : c == kOptPid      ? CAPSPAWN_NEW_NS_PID
               : c == kOptIpc      ? CAPSPAWN_NEW_NS_IPC
               : c == kOptUts      ? CAPSPAWN_NEW_NS_UTS
               : c == kOptCgroupns ? CAPSPAWN_NEW_NS_CGROUP
               : c == kOptUserns   ? CAPSPAWN_NEW_NS_USER
                                   : CAPSPAWN_NEW_NS_PID | CAPSPAWN_NEW_NS_PID_INIT;
      break;
    case kOptHostname:
      a.action = CAPSPAWN_ACTION_SET_HOSTNAME;
      a.path = value;
      break;
    case kOptCapAdd:
    case kOptCapDrop: {
      uint64_t caps = 0;
      for (const std::string& name : Split(value, ',')) {
        if (name == "ALL" || name == "all") {
          const int last = capspawn_capability_last();
          caps |= last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
          continue;
        }
        const int cap = capspawn_capability_from_name(name.c_str());
        if (cap < 0) return Fail(error, spelled + ": unknown capability '" + name + "'");
        caps |= uint64_t{1} << cap;
      }
      const bool first = o->cap_changes.empty();
      o->cap_changes.push_back({c == kOptCapAdd, caps});
      if (!first) return true;
      a.action = CAPSPAWN_ACTION_SET_CAPABILITIES;
      break;
    }
    case kOptNoNewPrivs:
      a.action = CAPSPAWN_ACTION_SET_NO_NEW_PRIVS;
      break;
    case kOptNewSession:
      a.action = CAPSPAWN_ACTION_NEW_SESSION;
      break;
    case kOptRlimit: {
      const size_t eq = value.find('=');
      const std::string res = value.substr(0, eq);
      bool known = false;
      for (const Word& w : kRlimits) {
        if (res == w.word || "RLIMIT_" + res == std::string("RLIMIT_") + w.word) {
          a.id = w.value;
          known = true;
        }
      }
      if (!known)
        return Fail(error, spelled + ": unknown resource '" + res + "' (nofile, nproc, core, ...)");
      if (eq == std::string::npos) return Fail(error, spelled + ": expected RES=SOFT[:HARD]");
      std::vector<std::string> lim = Split(value.substr(eq + 1), ':');
      auto num = [](const std::string& t, uint64_t* v) {
        if (t == "unlimited" || t == "infinity") {
          *v = UINT64_MAX;
          return true;
        }
        return ParseNumber(t, UINT64_MAX, v);
      };
      if (lim.size() > 2 || !num(lim[0], &a.soft) || !num(lim.back(), &a.hard)) {
        return Fail(error, spelled + ": expected RES=SOFT[:HARD] (numbers or 'unlimited')");
      }
      a.action = CAPSPAWN_ACTION_SET_RLIMIT;
      break;
    }
    case kOptUid:
    case kOptGid: {
      uint64_t id;
      if (!ParseNumber(value, UINT32_MAX - 1, &id))
        return Fail(error, spelled + ": expected a number");
      const bool first = o->uid < 0 && o->gid < 0;
      (c == kOptUid ? o->uid : o->gid) = static_cast<int64_t>(id);
      if (!first) return true;
      a.action = CAPSPAWN_ACTION_SET_IDS;
      break;
    }
    case kOptGroups:
      o->groups.clear();
      for (const std::string& g : Split(value, ',')) {
        uint64_t id;
        if (!ParseNumber(g, UINT32_MAX - 1, &id))
          return Fail(error, spelled + ": bad gid '" + g + "'");
        o->groups.push_back(static_cast<uint32_t>(id));
      }
      return true;
    case kOptUidMap:
    case kOptGidMap: {
      std::vector<std::string> f = Split(value, ':');
      uint64_t in, out, n;
      if (f.size() != 3 || !ParseNumber(f[0], UINT32_MAX, &in) ||
          !ParseNumber(f[1], UINT32_MAX, &out) || !ParseNumber(f[2], UINT32_MAX, &n)) {
        return Fail(error, spelled + ": expected INSIDE:OUTSIDE:COUNT");
      }
      a.action = c == kOptUidMap ? CAPSPAWN_ACTION_ADD_UID_MAP : CAPSPAWN_ACTION_ADD_GID_MAP;
      a.inside = static_cast<uint32_t>(in);
      a.outside = static_cast<uint32_t>(out);
      a.count = static_cast<uint32_t>(n);
      o->explicit_maps = true;
      break;
    }
    case kOptSeccomp:
      if (value.empty()) return Fail(error, spelled + ": expected a file");
      a.action = CAPSPAWN_ACTION_SET_SECCOMP_FILTER;
      a.dir = value;
      break;
    case kOptChdir:
      a.action = CAPSPAWN_ACTION_SET_CWD;
      a.path = value;
      break;
    case kOptDieWithParent:
      a.action = CAPSPAWN_ACTION_SET_DEATH_SIGNAL;
      a.number = SIGKILL;
      break;
    case kOptRoot:
    case kOptRootRo:
      if (value.empty()) return Fail(error, spelled + ": expected a directory");
      a.action =
          c == kOptRoot ? CAPSPAWN_ACTION_ADD_NS_ENTRY : CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY;
      a.path = "/";
      a.dir = value;
      break;
    case kOptMount: {
      std::vector<std::string> f = Split(value, ':');
      if (f.size() < 2 || f.size() > 3)
        return Fail(error, spelled + ": expected TYPE:TARGET[:OPTIONS]");
      bool known = false;
      for (const Word& w : kMountKinds) {
        if (f[0] == w.word) {
          a.kind = w.value;
          known = true;
        }
      }
      if (!known) {
        return Fail(error, spelled + ": unknown type '" + f[0] +
                               "' (proc, tmpfs, devpts, mqueue, sysfs, cgroup2; binds: --bind)");
      }
      a.action = CAPSPAWN_ACTION_ADD_MOUNT;
      a.path = f[1];
      if (f.size() == 3) MountOptions(f[2], &a.flags, &a.data);
      break;
    }
    case kOptBind:
    case kOptRbind: {
      std::vector<std::string> f = Split(value, ':');
      if (f.size() < 2 || f.size() > 3 || f[0].empty()) {
        return Fail(error, spelled + ": expected SRC:TARGET[:OPTIONS]");
      }
      a.action = CAPSPAWN_ACTION_ADD_MOUNT;
      a.kind = CAPSPAWN_MOUNT_BIND;
      a.dir = f[0];
      a.path = f[1];
      a.flags = c == kOptRbind ? CAPSPAWN_MOUNT_RECURSIVE : 0;
      if (f.size() == 3) MountOptions(f[2], &a.flags, &a.data);
      if (!a.data.empty())
        return Fail(error, spelled + ": unknown bind option(s) '" + a.data + "'");
      break;
    }
    case kOptMask:
    case kOptRoPath:
    case kOptDevices:
      a.action = c == kOptMask     ? CAPSPAWN_ACTION_MASK_PATH
                 : c == kOptRoPath ? CAPSPAWN_ACTION_READ_ONLY_PATH
                                   : CAPSPAWN_ACTION_ADD_DEVICES;
      a.path = value;
      break;
    case kOptSysctl: {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) return Fail(error, spelled + ": expected KEY=VALUE");
      a.action = CAPSPAWN_ACTION_SET_SYSCTL;
      a.path = value.substr(0, eq);
      a.data = value.substr(eq + 1);
      break;
    }
    case kOptOomScoreAdj: {
      long v;
      if (!ParseSigned(value, -1000, 1000, &v))
        return Fail(error, spelled + ": expected -1000..1000");
      a.action = CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ;
      a.number = static_cast<int>(v);
      break;
    }
    case kOptUmask: {
      uint64_t v;
      if (!ParseNumber(value, 0777, &v, 8))
        return Fail(error, spelled + ": expected an octal mode 0..0777");
      a.action = CAPSPAWN_ACTION_SET_UMASK;
      a.number = static_cast<int>(v);
      break;
    }
    case kOptJoin: {
      static constexpr Word kTypes[] = {
          {"net", CLONE_NEWNET},       {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
          {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},  {"pid", CLONE_NEWPID},
          {"user", CLONE_NEWUSER},
      };
      const size_t eq = value.find('=');
      const std::string type = eq == std::string::npos ? value : value.substr(0, eq);
      a.kind = 0;
      for (const Word& w : kTypes) {
        if (type == w.word) a.kind = w.value;
      }
      if (eq == std::string::npos || a.kind == 0 || eq + 1 == value.size()) {
        return Fail(error, spelled +
                               ": expected TYPE=PATH, TYPE one of net, ipc, uts, cgroup, "
                               "mnt, pid, user");
      }
      a.action = CAPSPAWN_ACTION_JOIN_NAMESPACE;
      a.dir = value.substr(eq + 1);
      break;
    }
    default:
      return Fail(error, "unhandled option " + spelled);
  }
  o->actions.push_back(std::move(a));
  return true;
}

}  // namespace

const option* ContainerLongOptions() { return kOptions; }

bool HandleContainerOption(int c, const char* name, const std::string& value, RunOptions* o,
                           bool* ok, std::string* error) {
  if (c < kFirstContainerOption || c > kOptJoin) return false;
  std::string spelled = std::string("--") + name;
  const bool takes = kOptions[c - kFirstContainerOption].has_arg != no_argument;
  if (takes) spelled += " " + value;
  *ok = Parse(c, spelled, value, o, error);
  return true;
}

}  // namespace capspawn::cli
