// SPDX-License-Identifier: Apache-2.0
// Config -> LaunchSpec: the rootfs is the container's root directory (an
// ADD_NS_ENTRY at "/"), and every other field one of the library's container
// actions (docs/containers.md).
#include "plan.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <capspawn/elf.h>
#include <capspawn/spawn.h>

#include "seccomp_profile.h"

namespace capspawn::oci {

Error NotSupported(const std::string& field, const std::string& why) {
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED, "config.json: " + field + ": " + why);
}
Error Invalid(const std::string& field, const std::string& why) {
  return Error(CAPSPAWN_ERR_INVALID_ARGS, "config.json: " + field + ": " + why);
}

namespace {

std::string Idx(const char* list, size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

// The OCI names of the kinds a path may join, and setns's names for them.
struct NsKind {
  const char* oci;
  int nstype;
  const char* kernel;
};
constexpr NsKind kNsKinds[] = {
    {"pid", CLONE_NEWPID, "pid"},          {"network", CLONE_NEWNET, "net"},
    {"ipc", CLONE_NEWIPC, "ipc"},          {"uts", CLONE_NEWUTS, "uts"},
    {"cgroup", CLONE_NEWCGROUP, "cgroup"}, {"mount", CLONE_NEWNS, "mnt"},
    {"user", CLONE_NEWUSER, "user"},       {"time", CLONE_NEWTIME, "time"},
};
const NsKind* KindOf(const std::string& oci) {
  for (const NsKind& k : kNsKinds) {
    if (oci == k.oci) return &k;
  }
  return nullptr;
}
const NsKind* KindOf(int nstype) {
  for (const NsKind& k : kNsKinds) {
    if (nstype == k.nstype) return &k;
  }
  return nullptr;
}

// A namespace the container has of its own (listed without a path).
const Namespace* FindNewNs(const Config& cfg, const std::string& type) {
  for (const Namespace& n : cfg.linux.namespaces) {
    if (n.type == type && n.path.empty()) return &n;
  }
  return nullptr;
}

const Namespace* FindNs(const Config& cfg, const std::string& type) {
  for (const Namespace& n : cfg.linux.namespaces) {
    if (n.type == type) return &n;
  }
  return nullptr;
}

}  // namespace

// openat2 inside `root`: absolute paths, "..", and symlinks stay in it.
int OpenInRoot(int root, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, root, path.c_str(), &how, sizeof how));
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  for (const std::string& e : env) {
    if (e.compare(0, name.size() + 1, name + "=") == 0) return e.substr(name.size() + 1);
  }
  return {};
}

// The home directory of `uid` in the rootfs's /etc/passwd, or "/".
std::string HomeInRootfs(int root, uint32_t uid) {
  UniqueFd fd(OpenInRoot(root, "/etc/passwd", O_RDONLY));
  if (!fd) return "/";
  std::string text(65536, '\0');
  ssize_t n = read(fd.get(), text.data(), text.size());
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find('\n', i);
    if (end == std::string::npos) end = text.size();
    std::vector<std::string> f;
    size_t j = i;
    while (j <= end) {
      size_t k = text.find(':', j);
      if (k == std::string::npos || k > end) k = end;
      f.push_back(text.substr(j, k - j));
      j = k + 1;
    }
    if (f.size() >= 6 && f[2] == std::to_string(uid) && !f[5].empty()) return f[5];
    i = end + 1;
  }
  return "/";
}

// The program of process.args[0], found as the container would find it: by
// its path, or along the container's PATH, inside the rootfs.
Result<UniqueFd> OpenProgram(int root, const Config& cfg, std::string* found) {
  const std::string& name = cfg.process.args[0];
  std::vector<std::string> candidates;
  if (name.find('/') != std::string::npos) {
    candidates.push_back(name[0] == '/' ? name : cfg.process.cwd + "/" + name);
  } else {
    std::string path = EnvValue(cfg.process.env, "PATH");
    if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t i = 0;
    while (i <= path.size()) {
      size_t j = path.find(':', i);
      if (j == std::string::npos) j = path.size();
      std::string dir = path.substr(i, j - i);
      if (dir.empty()) dir = cfg.process.cwd;
      candidates.push_back(dir + "/" + name);
      i = j + 1;
    }
  }
  for (const std::string& c : candidates) {
    UniqueFd fd(OpenInRoot(root, c, O_RDONLY));
    if (!fd) continue;
    struct stat st;
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) continue;
    *found = c;
    return fd;
  }
  return Error(CAPSPAWN_ERR_NOT_FOUND,
               "config.json: process.args[0]: '" + name + "' is not an executable file in the " +
                   (name.find('/') != std::string::npos ? "rootfs" : "rootfs's PATH"));
}

// The five sets as the library's bit masks; an absent set (or no
// "capabilities" at all) is empty, as runc reads it.
capspawn_capabilities_t CapabilityMasks(const Process& p) {
  capspawn_capabilities_t c{};
  if (!p.capabilities) return c;
  auto mask = [](const std::optional<std::vector<int>>& set) {
    uint64_t m = 0;
    if (set) {
      for (int cap : *set) m |= uint64_t{1} << cap;
    }
    return m;
  };
  c.bounding = mask(p.capabilities->bounding);
  c.effective = mask(p.capabilities->effective);
  c.permitted = mask(p.capabilities->permitted);
  c.inheritable = mask(p.capabilities->inheritable);
  c.ambient = mask(p.capabilities->ambient);
  return c;
}

namespace {

Status CheckNamespaces(const Config& cfg, const PlanOptions& opts) {
  for (size_t i = 0; i < cfg.linux.namespaces.size(); ++i) {
    const Namespace& n = cfg.linux.namespaces[i];
    std::string f = Idx("linux.namespaces", i);
    if (!n.path.empty()) {
      if (n.type == "mount") {
        return NotSupported(f + ".path",
                            "joining an existing 'mount' namespace: capspawn builds the "
                            "container's mount namespace from root.path and mounts");
      }
      if (n.type == "user") {
        return NotSupported(f + ".path",
                            "joining an existing 'user' namespace is not supported by the "
                            "library (setns into a user namespace needs a process that shares "
                            "no memory)");
      }
      if (n.type != "time") {
        const NsKind* k = KindOf(n.type);
        if (!k) return Invalid(f + ".type", "unknown namespace type '" + n.type + "'");
        Result<UniqueFd> fd = OpenNamespace(n.path, k->nstype, f + ".path");
        if (!fd.ok()) return fd.error();
        for (size_t j = 0; j < i; ++j) {
          if (cfg.linux.namespaces[j].type == n.type) {
            return Invalid(f, "'" + n.type + "' is listed twice");
          }
        }
      }
    }
    if (n.type == "time") {
      return NotSupported(f, "'time' namespaces are not supported by the library");
    }
  }
  if (!FindNs(cfg, "mount")) {
    return NotSupported("linux.namespaces",
                        "no 'mount' namespace: capspawn always gives a container a mount "
                        "namespace of its own");
  }
  bool user = FindNs(cfg, "user") != nullptr;
  if (opts.rootless && !user) {
    return NotSupported("linux.namespaces",
                        "not root and no 'user' namespace: a container created without "
                        "privilege needs one");
  }
  if (!user && (!cfg.linux.uid_mappings.empty() || !cfg.linux.gid_mappings.empty())) {
    return Invalid(cfg.linux.uid_mappings.empty() ? "linux.gidMappings" : "linux.uidMappings",
                   "id mappings need a 'user' namespace");
  }
  if (user && (cfg.linux.uid_mappings.empty() || cfg.linux.gid_mappings.empty())) {
    return Invalid(cfg.linux.uid_mappings.empty() ? "linux.uidMappings" : "linux.gidMappings",
                   "a 'user' namespace needs its mappings (as runc)");
  }
  if (!cfg.hostname.empty() && !FindNs(cfg, "uts")) {
    return Invalid("hostname", "needs a 'uts' namespace in linux.namespaces (as runc)");
  }
  if (!cfg.hostname.empty() && !FindNewNs(cfg, "uts")) {
    return NotSupported("hostname",
                        "the 'uts' namespace is joined by path: capspawn sets a hostname only "
                        "in a namespace of the container's own");
  }
  if (!cfg.domainname.empty() && !FindNs(cfg, "uts")) {
    return Invalid("domainname", "needs a 'uts' namespace in linux.namespaces (as runc)");
  }
  return {};
}

Status CheckLinux(const Config& cfg) {
  const Linux& l = cfg.linux;
  if (Status st = CheckDevices(cfg); !st.ok()) return st;
  if (l.seccomp) {
    if (Status st = CheckSeccomp(*l.seccomp); !st.ok()) return st;
  }
  if (!l.rootfs_propagation.empty() && l.rootfs_propagation != "private" &&
      l.rootfs_propagation != "rprivate") {
    return NotSupported(
        "linux.rootfsPropagation",
        "'" + l.rootfs_propagation + "': the container's mounts are always private");
  }
  if (l.resources) {
    const Resources& r = *l.resources;
    if (r.memory_reservation)
      return NotSupported("linux.resources.memory.reservation", "no job limit");
    if (r.memory_swap) return NotSupported("linux.resources.memory.swap", "no job limit");
    // The kernel's range for cgroup v1 shares; they become a cpu.weight.
    if (r.cpu_shares && *r.cpu_shares != 0 && (*r.cpu_shares < 2 || *r.cpu_shares > 262144)) {
      return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                   "config.json: linux.resources.cpu.shares: " + std::to_string(*r.cpu_shares) +
                       " is outside 2..262144");
    }
    if (!r.cpu_cpus.empty()) return NotSupported("linux.resources.cpu.cpus", "no cpuset support");
    if (!r.cpu_mems.empty()) return NotSupported("linux.resources.cpu.mems", "no cpuset support");
    if (r.cpu_quota && *r.cpu_quota > 0) {
      uint64_t period = r.cpu_period.value_or(100000);
      if (period == 0 || (static_cast<uint64_t>(*r.cpu_quota) * 1000) % period != 0) {
        return NotSupported("linux.resources.cpu.quota",
                            "the job's CPU limit is in thousandths of a CPU: quota * 1000 must "
                            "be a multiple of the period");
      }
    }
  }
  if (!cfg.hooks.create_container.empty()) {
    return NotSupported("hooks.createContainer",
                        "hooks inside the container's namespaces need a library hook point");
  }
  if (!cfg.hooks.start_container.empty()) {
    return NotSupported("hooks.startContainer",
                        "hooks inside the container's namespaces need a library hook point");
  }
  return {};
}

uint32_t NamespaceFlags(const Config& cfg) {
  static const std::pair<const char*, uint32_t> kFlags[] = {
      {"pid", CAPSPAWN_NEW_NS_PID},       {"network", CAPSPAWN_NEW_NS_NET},
      {"ipc", CAPSPAWN_NEW_NS_IPC},       {"uts", CAPSPAWN_NEW_NS_UTS},
      {"cgroup", CAPSPAWN_NEW_NS_CGROUP}, {"user", CAPSPAWN_NEW_NS_USER}};
  uint32_t flags = 0;
  for (const auto& [name, flag] : kFlags) {
    if (FindNewNs(cfg, name)) flags |= flag;
  }
  return flags;
}

}  // namespace

Result<UniqueFd> OpenNamespace(const std::string& path, int nstype, const std::string& field) {
  const NsKind* want = KindOf(nstype);
  if (path.empty() || path[0] != '/') {
    return Invalid(field, "'" + path + "' is not an absolute path");
  }
  // A namespace file is a regular file of nsfs: anything else (a FIFO, a
  // device) is never opened, so that opening cannot block or act.
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Error::FromErrno(errno, "config.json: " + field + " '" + path + "'");
  }
  if (!S_ISREG(st.st_mode)) return Invalid(field, "'" + path + "' is not a namespace file");
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return Error::FromErrno(errno, "config.json: " + field + " '" + path + "'");
  const int actual = ioctl(fd.get(), NS_GET_NSTYPE);
  if (actual < 0) {
    return Invalid(field, "'" + path + "' is not a namespace file (ioctl(NS_GET_NSTYPE): " +
                              strerror(errno) + ")");
  }
  if (actual != nstype) {
    const NsKind* is = KindOf(actual);
    return Invalid(field, "'" + path + "' is a '" + (is ? is->oci : "other") +
                              "' namespace, not '" + (want ? want->oci : "?") + "'");
  }
  return fd;
}

Status CheckSupported(const Config& cfg, const PlanOptions& opts) {
  if (!cfg.refused.empty()) {
    return NotSupported(cfg.refused.front(), "not supported by capspawn");
  }
  if (Status st = CheckNamespaces(cfg, opts); !st.ok()) return st;
  if (Status st = CheckLinux(cfg); !st.ok()) return st;
  return CheckMounts(cfg);
}

Result<LaunchSpec> PlanLaunch(const Config& cfg, const PlanOptions& opts) {
  if (Status st = CheckSupported(cfg, opts); !st.ok()) return st.error();
  LaunchSpec spec;
  spec.rootfs = cfg.root.path[0] == '/' ? cfg.root.path : opts.bundle + "/" + cfg.root.path;
  struct stat st;
  if (lstat(spec.rootfs.c_str(), &st) != 0) {
    return Error::FromErrno(errno, "config.json: root.path " + spec.rootfs);
  }
  if (S_ISLNK(st.st_mode)) {
    return Invalid("root.path", "'" + spec.rootfs + "' is a symlink");
  }
  if (!S_ISDIR(st.st_mode)) return Invalid("root.path", "'" + spec.rootfs + "' is not a directory");
  spec.root_dir.reset(open(spec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!spec.root_dir) return Error::FromErrno(errno, "config.json: root.path " + spec.rootfs);

  Result<UniqueFd> exe = OpenProgram(spec.root_dir.get(), cfg, &spec.executable_path);
  if (!exe.ok()) return exe.error();
  spec.executable = std::move(exe.value());
  char magic[2] = {};
  if (pread(spec.executable.get(), magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!') {
    return NotSupported("process.args[0]",
                        "'" + spec.executable_path +
                            "' is a script: the library would look for its interpreter outside "
                            "the rootfs");
  }
  Result<elf::ElfHeaders> headers = elf::ParseHeaders(spec.executable.get());
  if (!headers.ok()) {
    return headers.error().Context("config.json: process.args[0] " + spec.executable_path);
  }
  // The program's interpreter is found by the kernel in the container's
  // root, as for any exec there.
  spec.argv = cfg.process.args;
  spec.env = cfg.process.env;
  // As runc: a process without HOME gets its user's home from the rootfs's
  // /etc/passwd ("/" when it has none).
  if (EnvValue(spec.env, "HOME").empty() &&
      std::none_of(spec.env.begin(), spec.env.end(),
                   [](const std::string& e) { return e.rfind("HOME=", 0) == 0; })) {
    spec.env.push_back("HOME=" + HomeInRootfs(spec.root_dir.get(), cfg.process.user.uid));
  }
  const Process& p = cfg.process;
  if (p.user.umask) spec.umask = *p.user.umask;
  spec.rlimits = p.rlimits;
  spec.no_new_privileges = p.no_new_privileges;
  spec.oom_score_adj = p.oom_score_adj;
  spec.terminal = p.terminal;
  spec.console_size = p.console_size;
  spec.cwd = p.cwd;
  spec.uid = p.user.uid;
  spec.gid = p.user.gid;
  spec.groups = p.user.additional_gids;
  spec.capabilities = CapabilityMasks(p);
  spec.root_readonly = cfg.root.readonly;
  spec.namespaces = NamespaceFlags(cfg);
  spec.uid_map = cfg.linux.uid_mappings;
  spec.gid_map = cfg.linux.gid_mappings;
  spec.hostname = cfg.hostname;
  // The domain name is the UTS namespace's kernel.domainname.
  if (!cfg.domainname.empty()) {
    spec.sysctls.push_back({"kernel.domainname", cfg.domainname, "domainname"});
  }
  for (const auto& [key, value] : cfg.linux.sysctl) {
    spec.sysctls.push_back({key, value, "linux.sysctl." + key});
  }
  spec.masked_paths = cfg.linux.masked_paths;
  spec.readonly_paths = cfg.linux.readonly_paths;
  if (cfg.linux.seccomp) {
    Result<std::vector<capspawn_sock_filter_t>> prog = CompileSeccomp(*cfg.linux.seccomp);
    if (!prog.ok()) return prog.error();
    spec.seccomp = std::move(prog.value());
  }
  if (Status s = PlanMounts(cfg, opts, &spec); !s.ok()) return s.error();
  for (size_t i = 0; i < cfg.linux.namespaces.size(); ++i) {
    const Namespace& n = cfg.linux.namespaces[i];
    if (n.path.empty()) continue;
    JoinSpec j;
    j.nstype = KindOf(n.type)->nstype;
    j.what = Idx("linux.namespaces", i) + ".path";
    Result<UniqueFd> fd = OpenNamespace(n.path, j.nstype, j.what);
    if (!fd.ok()) return fd.error();
    j.fd = std::move(fd.value());
    spec.joins.push_back(std::move(j));
  }
  return spec;
}

}  // namespace capspawn::oci
