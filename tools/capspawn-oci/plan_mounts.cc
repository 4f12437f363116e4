// SPDX-License-Identifier: Apache-2.0
// config.json's mounts as the library's ADD_MOUNT actions: a mount's options
// split into mount flags and the file system's own options; each destination
// made, if missing, inside the root by the library (nested ones too).
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "plan.h"

namespace capspawn::oci {
namespace {

std::string Idx(const char* list, size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool IsBind(const Mount& m) {
  return m.type == "bind" || m.type.empty() || Has(m.options, "bind") || Has(m.options, "rbind");
}

const std::map<std::string, uint32_t>& Kinds() {
  // "cgroup" is cgroup v2: the library mounts no v1 hierarchy.
  static const std::map<std::string, uint32_t> k = {
      {"proc", CAPSPAWN_MOUNT_PROC},     {"tmpfs", CAPSPAWN_MOUNT_TMPFS},
      {"devpts", CAPSPAWN_MOUNT_DEVPTS}, {"mqueue", CAPSPAWN_MOUNT_MQUEUE},
      {"sysfs", CAPSPAWN_MOUNT_SYSFS},   {"cgroup2", CAPSPAWN_MOUNT_CGROUP2},
      {"cgroup", CAPSPAWN_MOUNT_CGROUP2}};
  return k;
}

// Options that are mount flags (0: the default, nothing to set).
const std::map<std::string, uint32_t>& Flags() {
  static const std::map<std::string, uint32_t> f = {
      {"ro", CAPSPAWN_MOUNT_RDONLY},
      {"rw", 0},
      {"nosuid", CAPSPAWN_MOUNT_NOSUID},
      {"suid", 0},
      {"nodev", CAPSPAWN_MOUNT_NODEV},
      {"dev", 0},
      {"noexec", CAPSPAWN_MOUNT_NOEXEC},
      {"exec", 0},
      {"relatime", CAPSPAWN_MOUNT_RELATIME},
      {"noatime", CAPSPAWN_MOUNT_NOATIME},
      {"strictatime", CAPSPAWN_MOUNT_STRICTATIME},
      {"nodiratime", CAPSPAWN_MOUNT_NODIRATIME},
      {"atime", 0},
      {"diratime", 0},
      {"defaults", 0},
      {"bind", 0},
      {"rbind", 0},
      // The container's mount tree is private: these say what it is.
      {"private", 0},
      {"rprivate", 0}};
  return f;
}

// Options the library has no way to give (refused naming the option).
const std::set<std::string>& Unsupported() {
  static const std::set<std::string> u = {
      "shared",       "rshared",        "slave",         "rslave",     "unbindable",
      "runbindable",  "sync",           "async",         "dirsync",    "remount",
      "mand",         "nomand",         "lazytime",      "nolazytime", "symfollow",
      "nosymfollow",  "silent",         "loud",          "tmpcopyup",  "idmap",
      "ridmap",       "norelatime",     "nostrictatime", "rro",        "rrw",
      "rnosuid",      "rsuid",          "rnodev",        "rdev",       "rnoexec",
      "rexec",        "rnoatime",       "ratime",        "rrelatime",  "rnorelatime",
      "rstrictatime", "rnostrictatime", "rnodiratime",   "rdiratime",  "rnosymfollow",
      "rsymfollow"};
  return u;
}

}  // namespace

Status CheckMounts(const Config& cfg) {
  bool have_pid = false;
  for (const Namespace& n : cfg.linux.namespaces) have_pid |= n.type == "pid";
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const Mount& m = cfg.mounts[i];
    std::string f = Idx("mounts", i);
    if (m.destination == "/") return Invalid(f + ".destination", "a mount cannot replace '/'");
    if (m.destination.compare(0, 6, "/proc/") == 0) {
      return Invalid(f + ".destination", "'" + m.destination + "': mounts onto /proc are refused");
    }
    if (m.destination == "/proc" && m.type != "proc") {
      return Invalid(f + ".destination", "only a procfs may be mounted on /proc");
    }
    if (!m.uid_mappings.empty() || !m.gid_mappings.empty()) {
      return NotSupported(f + ".uidMappings", "id-mapped mounts are not supported by the library");
    }
    bool bind = IsBind(m);
    if (!bind && !Kinds().count(m.type)) {
      return NotSupported(f + ".type", "'" + m.type + "' mounts are not supported by the library");
    }
    if (m.type == "proc" && !have_pid) {
      return NotSupported(f,
                          "the library mounts only the procfs of a new pid namespace: add "
                          "{\"type\": \"pid\"} to linux.namespaces");
    }
    for (const std::string& o : m.options) {
      if (Unsupported().count(o)) {
        return NotSupported(f + ".options", "'" + o + "' is not supported by the library");
      }
      if (bind && !Flags().count(o)) {
        return NotSupported(f + ".options", "'" + o + "' on a bind mount");
      }
    }
    if (bind && m.source.empty()) return Invalid(f + ".source", "a bind mount needs a source");
  }
  return {};
}

Status PlanMounts(const Config& cfg, const PlanOptions& opts, LaunchSpec* spec) {
  bool dev_bound = false, dev_mounted = false;
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const Mount& m = cfg.mounts[i];
    MountSpec ms;
    ms.what = Idx("mounts", i);
    ms.target = m.destination;
    bool bind = IsBind(m);
    for (const std::string& o : m.options) {
      auto it = Flags().find(o);
      if (it != Flags().end()) {
        ms.flags |= it->second;
      } else {
        ms.data += (ms.data.empty() ? "" : ",") + o;
      }
    }
    if (bind) {
      ms.kind = CAPSPAWN_MOUNT_BIND;
      if (Has(m.options, "rbind")) ms.flags |= CAPSPAWN_MOUNT_RECURSIVE;
      std::string src = m.source[0] == '/' ? m.source : opts.bundle + "/" + m.source;
      ms.source.reset(open(src.c_str(), O_PATH | O_CLOEXEC));
      if (!ms.source) return Error::FromErrno(errno, "config.json: " + ms.what + ".source " + src);
    } else {
      ms.kind = Kinds().at(m.type);
      if (m.type == "cgroup") {
        spec->differences.push_back(ms.what +
                                    ": a 'cgroup' mount is cgroup v2 (runc mounts v1 hierarchies "
                                    "on a host without a unified hierarchy)");
      }
    }
    // A symlink as the destination would be followed inside the rootfs (as
    // runc does); refused so that a mount never lands somewhere unexpected.
    struct stat st;
    std::string rel = m.destination.substr(1);
    if (fstatat(spec->root_dir.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
      return Invalid(ms.what + ".destination",
                     "'" + m.destination + "' is a symlink in the rootfs");
    }
    if (m.destination == "/dev") {
      dev_bound = bind;
      dev_mounted = true;
    }
    spec->mounts.push_back(std::move(ms));
  }
  // As runc: the default devices (and /dev's symlinks) go into a /dev that is
  // not a bind mount. Without a /dev mount the rootfs's own /dev is used as it is.
  spec->devices = dev_mounted && !dev_bound;
  if (!dev_mounted) {
    spec->differences.push_back(
        "no mount at /dev: the rootfs's own /dev is used and no device node is added to it");
  }
  return {};
}

Status CheckDevices(const Config& cfg) {
  // What ADD_DEVICES gives: bind mounts of the host's nodes (mode 0666, root's).
  struct Known {
    const char* path;
    int64_t major, minor;
  };
  static const Known kDefault[] = {{"/dev/null", 1, 3},    {"/dev/zero", 1, 5},
                                   {"/dev/full", 1, 7},    {"/dev/random", 1, 8},
                                   {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
  for (size_t i = 0; i < cfg.linux.devices.size(); ++i) {
    const Device& d = cfg.linux.devices[i];
    const Known* k = nullptr;
    for (const Known& c : kDefault) {
      if (d.path == c.path) k = &c;
    }
    bool same = k && d.type == 'c' && d.major == k->major && d.minor == k->minor &&
                (!d.file_mode || (*d.file_mode & 07777) == 0666) && d.uid.value_or(0) == 0 &&
                d.gid.value_or(0) == 0;
    if (!same) {
      return NotSupported(Idx("linux.devices", i),
                          "'" + d.path +
                              "': the library gives only the default devices (null, zero, full, "
                              "random, urandom, tty as the host's nodes); it cannot make others");
    }
  }
  return {};
}

}  // namespace capspawn::oci
