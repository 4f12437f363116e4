// Config -> LaunchSpec with the library's namespace as it is today: a private
// mount namespace whose root is a read-only tmpfs holding namespace entries.
// The rootfs becomes one entry per top-level directory; each mount becomes an
// entry (bind), a tmpfs, a procfs of a new pid namespace, or the minimal /dev.
#include "plan.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <cerrno>
#include <set>

#include <capspawn/elf.h>
#include <capspawn/spawn.h>

#include "caps.h"

namespace capspawn::oci {
namespace {

Error NotSupported(const std::string& field, const std::string& why) {
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED, "config.json: " + field + ": " + why);
}
Error Invalid(const std::string& field, const std::string& why) {
  return Error(CAPSPAWN_ERR_INVALID_ARGS, "config.json: " + field + ": " + why);
}

std::string Idx(const char* list, size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

bool Subset(const std::vector<std::string>& options, const std::set<std::string>& allowed,
            std::string* bad) {
  for (const std::string& o : options) {
    if (!allowed.count(o)) {
      *bad = o;
      return false;
    }
  }
  return true;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const Namespace* FindNs(const Config& cfg, const std::string& type) {
  for (const Namespace& n : cfg.linux.namespaces) {
    if (n.type == type) return &n;
  }
  return nullptr;
}

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

// The library does not set capability sets: the container gets what an exec
// gives it. Its bounding set is the caller's; as root (no user namespace) its
// permitted and effective sets are then the bounding set, as non-root (a user
// namespace where it is not uid 0) they are empty; inheritable is the
// caller's, ambient empty. A config asking exactly that is honoured; any other
// (including no "capabilities" at all, which runc reads as "none") is refused.
Status CheckCapabilities(const Process& p, const PlanOptions& opts) {
  std::vector<int> bounding = CallerBoundingSet();
  auto describe = [](const std::vector<int>& v) {
    return std::to_string(v.size()) + " capabilities";
  };
  if (!p.capabilities) {
    return NotSupported("process.capabilities",
                        "absent (runc then gives none), but the library cannot drop capabilities; "
                        "'capspawn-oci spec' writes the sets this build gives");
  }
  const Capabilities& c = *p.capabilities;
  auto same = [](std::vector<int> a, std::vector<int> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
  };
  const std::vector<int> none;
  const std::vector<int>& granted = opts.rootless ? none : bounding;
  struct SetCheck {
    const char* name;
    const std::optional<std::vector<int>>* set;
    const std::vector<int>* must;
  } checks[] = {{"bounding", &c.bounding, &bounding},
                {"effective", &c.effective, &granted},
                {"permitted", &c.permitted, &granted},
                {"inheritable", &c.inheritable, &none},
                {"ambient", &c.ambient, &none}};
  for (const SetCheck& k : checks) {
    const std::vector<int>& asked = k.set->has_value() ? **k.set : none;
    if (!same(asked, *k.must)) {
      return NotSupported(std::string("process.capabilities.") + k.name,
                          describe(asked) +
                              " asked; the library cannot set capability sets, "
                              "and this one would be " +
                              describe(*k.must) + " ('capspawn-oci spec' writes them)");
    }
  }
  if (CallerHasInheritable()) {
    return NotSupported(
        "process.capabilities.inheritable",
        "the caller's inheritable set is not empty and the library cannot clear it");
  }
  return {};
}

Status CheckProcess(const Config& cfg, const PlanOptions& opts) {
  const Process& p = cfg.process;
  if (p.cwd != "/") {
    return NotSupported("process.cwd",
                        "'" + p.cwd +
                            "': the library starts every process in its "
                            "namespace's '/' (a working directory is not supported)");
  }
  if (p.user.uid != geteuid() || p.user.gid != getegid()) {
    return NotSupported("process.user",
                        "uid " + std::to_string(p.user.uid) + " gid " + std::to_string(p.user.gid) +
                            ": the library cannot switch ids; " +
                            "the container runs as the caller (uid " + std::to_string(geteuid()) +
                            " gid " + std::to_string(getegid()) + ")");
  }
  if (!p.user.additional_gids.empty()) {
    return NotSupported("process.user.additionalGids",
                        "the library cannot set supplementary groups");
  }
  return CheckCapabilities(p, opts);
}

Status CheckNamespaces(const Config& cfg, const PlanOptions& opts) {
  for (size_t i = 0; i < cfg.linux.namespaces.size(); ++i) {
    const Namespace& n = cfg.linux.namespaces[i];
    std::string f = Idx("linux.namespaces", i);
    if (!n.path.empty()) {
      return NotSupported(f + ".path", "joining an existing '" + n.type +
                                           "' namespace is not supported by the library");
    }
    if (n.type == "mount" || n.type == "pid") continue;
    if (n.type == "user") {
      if (!opts.rootless) {
        return NotSupported(f,
                            "a user namespace for a container created by root is not "
                            "supported by the library");
      }
      continue;
    }
    return NotSupported(f, "'" + n.type + "' namespaces are not supported by the library");
  }
  if (!FindNs(cfg, "mount")) {
    return NotSupported("linux.namespaces",
                        "no 'mount' namespace: capspawn always gives a container a mount "
                        "namespace of its own");
  }
  if (opts.rootless) {
    if (!FindNs(cfg, "user")) {
      return NotSupported("linux.namespaces",
                          "not root and no 'user' namespace: a container created without "
                          "privilege needs one");
    }
    // The library maps the caller's uid and gid to themselves, one id each.
    auto identity = [](const std::vector<IdMapping>& m, uint32_t id) {
      return m.size() == 1 && m[0].container_id == id && m[0].host_id == id && m[0].size == 1;
    };
    if (!identity(cfg.linux.uid_mappings, geteuid())) {
      return NotSupported("linux.uidMappings",
                          "the library maps only the caller's uid " + std::to_string(geteuid()) +
                              " to itself ({\"containerID\": " + std::to_string(geteuid()) +
                              ", \"hostID\": " + std::to_string(geteuid()) + ", \"size\": 1})");
    }
    if (!identity(cfg.linux.gid_mappings, getegid())) {
      return NotSupported("linux.gidMappings", "the library maps only the caller's gid " +
                                                   std::to_string(getegid()) + " to itself");
    }
  } else if (!cfg.linux.uid_mappings.empty() || !cfg.linux.gid_mappings.empty()) {
    return NotSupported(cfg.linux.uid_mappings.empty() ? "linux.gidMappings" : "linux.uidMappings",
                        "id mappings need a user namespace");
  }
  return {};
}

Status CheckLinux(const Config& cfg) {
  const Linux& l = cfg.linux;
  if (!cfg.hostname.empty()) {
    return NotSupported("hostname", "needs a 'uts' namespace, which the library does not offer");
  }
  if (!l.devices.empty()) {
    return NotSupported("linux.devices", "device nodes beyond the minimal /dev are not supported");
  }
  if (!l.sysctl.empty()) {
    return NotSupported("linux.sysctl." + l.sysctl.begin()->first,
                        "sysctls are not supported by the library");
  }
  if (l.seccomp) return NotSupported("linux.seccomp", "a user seccomp filter is not supported");
  if (!l.rootfs_propagation.empty() && l.rootfs_propagation != "private" &&
      l.rootfs_propagation != "rprivate") {
    return NotSupported(
        "linux.rootfsPropagation",
        "'" + l.rootfs_propagation + "': the container's mounts are always private");
  }
  if (!l.masked_paths.empty()) {
    return NotSupported("linux.maskedPaths", "masking paths is not supported by the library");
  }
  if (!l.readonly_paths.empty()) {
    return NotSupported("linux.readonlyPaths",
                        "read-only sub-paths are not supported by the library");
  }
  if (l.resources) {
    const Resources& r = *l.resources;
    if (!r.devices.empty()) {
      return NotSupported("linux.resources.devices",
                          "device access rules need a device cgroup program on the job");
    }
    if (r.memory_reservation)
      return NotSupported("linux.resources.memory.reservation", "no job limit");
    if (r.memory_swap) return NotSupported("linux.resources.memory.swap", "no job limit");
    if (r.cpu_shares)
      return NotSupported("linux.resources.cpu.shares", "no job limit (cpu.weight)");
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

// What each mount becomes; nothing is opened here.
Status CheckMounts(const Config& cfg) {
  bool have_pid = FindNs(cfg, "pid") != nullptr;
  bool have_proc = false;
  std::set<std::string> dests;
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
      return NotSupported(f + ".uidMappings", "id-mapped mounts are not supported");
    }
    if (m.destination.find('/', 1) != std::string::npos) {
      return NotSupported(f + ".destination",
                          "'" + m.destination +
                              "': the library's namespace takes mounts at top-level paths "
                              "only (nested mount points need a root-directory namespace)");
    }
    if (!dests.insert(m.destination).second) {
      return NotSupported(f + ".destination", "'" + m.destination + "' is mounted twice");
    }
    std::string bad;
    if (m.type == "proc") {
      if (!have_pid) {
        return NotSupported(f,
                            "the library mounts only the procfs of a new pid namespace: add "
                            "{\"type\": \"pid\"} to linux.namespaces");
      }
      if (have_proc) return NotSupported(f, "a second procfs");
      have_proc = true;
      if (!Subset(m.options, {"nosuid", "nodev", "noexec", "rw"}, &bad)) {
        return NotSupported(f + ".options", "'" + bad + "' for a procfs");
      }
    } else if (m.type == "tmpfs") {
      if (!Subset(m.options, {"nosuid", "nodev", "rw", "mode=755", "mode=0755"}, &bad)) {
        return NotSupported(f + ".options",
                            "'" + bad + "': the library's tmpfs is mode 0755, nosuid, nodev");
      }
    } else if (m.type == "bind" || m.type.empty() || Has(m.options, "bind") ||
               Has(m.options, "rbind")) {
      if (!Has(m.options, "rbind")) {
        return NotSupported(f + ".options",
                            "a bind without 'rbind': the library binds directories recursively");
      }
      if (!Subset(m.options, {"rbind", "ro", "rw", "private", "rprivate"}, &bad)) {
        return NotSupported(f + ".options", "'" + bad + "' on a bind mount");
      }
      if (m.source.empty()) return Invalid(f + ".source", "a bind mount needs a source");
    } else {
      return NotSupported(f + ".type", "'" + m.type + "' mounts are not supported by the library");
    }
  }
  if (FindNs(cfg, "pid") && !have_proc) {
    return NotSupported("linux.namespaces",
                        "a 'pid' namespace comes with the library's procfs only: add a proc "
                        "mount at /proc");
  }
  return {};
}

Status AddMounts(const Config& cfg, const PlanOptions& opts, LaunchSpec* spec) {
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const Mount& m = cfg.mounts[i];
    std::string f = Idx("mounts", i);
    NsEntry e;
    e.path = m.destination;
    e.what = f;
    if (m.type == "proc") {
      e.action = CAPSPAWN_ACTION_ADD_NS_PROC;
    } else if (m.type == "tmpfs" && m.destination == "/dev") {
      // runc's /dev is a writable tmpfs with null, zero, full, random, urandom,
      // tty and ptmx; the library's minimal /dev is read-only with three nodes.
      e.action = CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL;
      spec->differences.push_back(f +
                                  ": /dev is the library's read-only minimal /dev "
                                  "(null, zero, urandom)");
    } else if (m.type == "tmpfs") {
      e.action = CAPSPAWN_ACTION_ADD_NS_TMPFS;
    } else {
      std::string src = m.source[0] == '/' ? m.source : opts.bundle + "/" + m.source;
      struct stat st;
      if (stat(src.c_str(), &st) != 0) {
        return Error::FromErrno(errno, "config.json: " + f + ".source " + src);
      }
      if (!S_ISDIR(st.st_mode)) {
        return NotSupported(f + ".source", "'" + src +
                                               "' is not a directory: the library binds "
                                               "directories only");
      }
      e.dir.reset(open(src.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!e.dir) return Error::FromErrno(errno, "config.json: " + f + ".source " + src);
      // As runc: a mount's own options decide, root.readonly does not reach it.
      e.action = Has(m.options, "ro") ? CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY
                                      : CAPSPAWN_ACTION_ADD_NS_ENTRY;
    }
    // The destination must not be a symlink in the rootfs: the library would
    // not follow it, runc would (within the rootfs); refuse the ambiguity.
    struct stat st;
    std::string rel = m.destination.substr(1);
    if (fstatat(spec->root_dir.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
      return Invalid(f + ".destination", "'" + m.destination + "' is a symlink in the rootfs");
    }
    spec->entries.push_back(std::move(e));
  }
  return {};
}

// The rootfs's top-level directories, each an entry (those a mount replaces excepted).
Status AddRootfs(const Config& cfg, LaunchSpec* spec) {
  UniqueFd list(openat(spec->root_dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* d = list ? fdopendir(list.release()) : nullptr;
  if (d == nullptr) return Error::FromErrno(errno, "config.json: root.path: read " + spec->rootfs);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  std::set<std::string> mounted;
  for (const NsEntry& e : spec->entries) mounted.insert(e.path);
  for (const std::string& n : names) {
    if (mounted.count("/" + n)) continue;
    struct stat st;
    if (fstatat(spec->root_dir.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::FromErrno(errno, "config.json: root.path: " + spec->rootfs + "/" + n);
    }
    if (!S_ISDIR(st.st_mode)) {
      return NotSupported("root.path",
                          "'" + spec->rootfs + "/" + n +
                              "' is not a directory: the library's namespace maps the rootfs "
                              "as its top-level directories only");
    }
    NsEntry e;
    e.action =
        cfg.root.readonly ? CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY : CAPSPAWN_ACTION_ADD_NS_ENTRY;
    e.path = "/" + n;
    e.what = "root.path " + e.path;
    e.dir.reset(
        openat(spec->root_dir.get(), n.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!e.dir) return Error::FromErrno(errno, "config.json: root.path: open " + e.path);
    spec->entries.push_back(std::move(e));
  }
  spec->differences.push_back(
      "root.path: '/' itself is the library's read-only tmpfs; the rootfs's top-level "
      "directories are mounted on it");
  return {};
}

}  // namespace

Status CheckSupported(const Config& cfg, const PlanOptions& opts) {
  if (!cfg.refused.empty()) {
    return NotSupported(cfg.refused.front(), "not supported by capspawn");
  }
  if (Status st = CheckProcess(cfg, opts); !st.ok()) return st;
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
  if (headers->interp) {
    std::string dir = headers->interp->substr(0, headers->interp->rfind('/'));
    spec.loader.reset(
        OpenInRoot(spec.root_dir.get(), dir.empty() ? "/" : dir, O_PATH | O_DIRECTORY));
    if (!spec.loader) {
      return Error::FromErrno(errno, "config.json: process.args[0] " + spec.executable_path +
                                         ": its interpreter's directory " + dir + " in the rootfs");
    }
  }
  spec.argv = cfg.process.args;
  spec.env = cfg.process.env;
  // As runc: a process without HOME gets its user's home from the rootfs's
  // /etc/passwd ("/" when it has none).
  if (EnvValue(spec.env, "HOME").empty() &&
      std::none_of(spec.env.begin(), spec.env.end(),
                   [](const std::string& e) { return e.rfind("HOME=", 0) == 0; })) {
    spec.env.push_back("HOME=" + HomeInRootfs(spec.root_dir.get(), cfg.process.user.uid));
  }
  if (cfg.process.user.umask) spec.umask = *cfg.process.user.umask;
  spec.rlimits = cfg.process.rlimits;
  spec.no_new_privileges = cfg.process.no_new_privileges;
  spec.oom_score_adj = cfg.process.oom_score_adj;
  spec.terminal = cfg.process.terminal;
  spec.console_size = cfg.process.console_size;

  if (Status s = AddMounts(cfg, opts, &spec); !s.ok()) return s.error();
  if (Status s = AddRootfs(cfg, &spec); !s.ok()) return s.error();
  return spec;
}

}  // namespace capspawn::oci
