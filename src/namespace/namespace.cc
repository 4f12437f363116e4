// Planning a child's filesystem in the parent: which directories are bound
// where, which directories and symlinks the private root's tmpfs holds, and
// the labels the child reports failures with. See docs/namespaces.md.
#include "namespace/namespace.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace capspawn::ns {
namespace {

#if defined(__x86_64__)
constexpr const char* kTriplet = "x86_64-linux-gnu";
#else
constexpr const char* kTriplet = "aarch64-linux-gnu";
#endif

// A bind the plan wants, before it is turned into child data.
struct Want {
  std::string target;  // absolute
  std::string source;  // absolute, in the caller's tree
  dev_t dev = 0;
  ino_t ino = 0;
  bool read_only = false;
  bool optional = false;
  std::string label;  // "mount /data (action 2)"
};

std::string EntryLabel(const Entry& e) {
  std::string l = "mount " + e.path;
  if (e.action_index != SIZE_MAX) l += " (action " + std::to_string(e.action_index) + ")";
  return l;
}

// The path a directory fd was opened at, checked to still lead to it: the
// child rebinds it by that path in its copy of the caller's mount tree.
Result<Want> WantFromFd(int fd, const std::string& target, bool ro, const std::string& label) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return Error::FromErrno(errno, label + ": fstat fd " + std::to_string(fd));
  if (!S_ISDIR(st.st_mode)) {
    return Error(CAPSPAWN_ERR_NOT_DIR,
                 label + ": fd " + std::to_string(fd) + " is not a directory");
  }
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[PATH_MAX];
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n < 0) return Error::FromErrno(errno, label + ": readlink " + link);
  std::string source(buf, static_cast<size_t>(n));
  struct stat at;
  if (source.empty() || source[0] != '/' || stat(source.c_str(), &at) != 0 ||
      at.st_dev != st.st_dev || at.st_ino != st.st_ino) {
    return Error(
        CAPSPAWN_ERR_NOT_SUPPORTED,
        label + ": fd " + std::to_string(fd) + " (" + source +
            ") is not reachable at its path in the caller's mount tree, which the bind needs");
  }
  Want w;
  w.target = target;
  w.source = std::move(source);
  w.dev = st.st_dev;
  w.ino = st.st_ino;
  w.read_only = ro;
  w.label = label;
  return w;
}

// A directory of the caller's tree by path, or nothing when it does not exist.
std::optional<Want> WantFromPath(const std::string& source, const std::string& target, bool ro,
                                 const std::string& label) {
  struct stat st;
  if (stat(source.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  Want w;
  w.target = target;
  w.source = source;
  w.dev = st.st_dev;
  w.ino = st.st_ino;
  w.read_only = ro;
  w.label = label;
  return w;
}

std::string Dirname(const std::string& p) {
  size_t slash = p.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return p.substr(0, slash);
}

// A directory that exists in every reasonable tree, to mount the private
// root's tmpfs on before pivot_root (only inside the child's namespace).
const char* StagingDir() {
  static const char* dir = [] {
    for (const char* d : {"/tmp", "/mnt", "/run", "/dev", "/proc"}) {
      struct stat st;
      if (stat(d, &st) == 0 && S_ISDIR(st.st_mode)) return d;
    }
    return static_cast<const char*>(nullptr);
  }();
  return dir;
}

// The caller's dynamic linker and library directories, read-only: each
// existing standard directory, bound at its real path; a symlinked one
// (/lib -> usr/lib) is recreated as the same symlink.
void DefaultLoader(const std::string& interp, std::vector<Want>* wants,
                   std::vector<std::pair<std::string, std::string>>* links) {
  std::vector<std::string> dirs = {Dirname(interp),
                                   "/lib",
                                   "/lib64",
                                   "/usr/lib",
                                   "/usr/lib64",
                                   std::string("/lib/") + kTriplet,
                                   std::string("/usr/lib/") + kTriplet};
  for (const std::string& d : dirs) {
    char real[PATH_MAX];
    if (!realpath(d.c_str(), real)) continue;
    std::optional<Want> w = WantFromPath(real, real, true, "loader " + std::string(real));
    if (!w) continue;
    w->optional = true;
    wants->push_back(*w);
    struct stat lst;
    if (lstat(d.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(d.c_str(), target, sizeof target - 1);
      if (n > 0) links->emplace_back(d, std::string(target, static_cast<size_t>(n)));
    }
  }
}

// Paths already taken, with an overlap test in O(depth + log n): 1,000
// entries must not cost a million comparisons.
class PathSet {
 public:
  bool Overlaps(const std::string& p) const {
    if (set_.count("/")) return true;
    for (size_t i = 1; i <= p.size(); ++i) {
      if ((i == p.size() || p[i] == '/') && set_.count(p.substr(0, i))) return true;
    }
    auto it = set_.lower_bound(p + "/");
    return it != set_.end() && it->compare(0, p.size() + 1, p + "/") == 0;
  }
  // Whether an ancestor (or p itself) is in the set.
  bool Covers(const std::string& p) const {
    for (size_t i = 1; i <= p.size(); ++i) {
      if ((i == p.size() || p[i] == '/') && set_.count(p.substr(0, i))) return true;
    }
    return false;
  }
  void Add(const std::string& p) { set_.insert(p); }

 private:
  std::set<std::string> set_;
};

}  // namespace

bool IsNormalisedAbsolute(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  if (p == "/") return true;
  if (p.back() == '/') return false;
  for (size_t i = 1; i <= p.size();) {
    size_t end = p.find('/', i);
    if (end == std::string::npos) end = p.size();
    std::string_view comp(p.data() + i, end - i);
    if (comp.empty() || comp == "." || comp == "..") return false;
    i = end + 1;
  }
  return true;
}

Result<std::unique_ptr<Plan>> PlanNamespace(const Request& r) {
  bool clone_ns = r.clone_namespace;
  for (const std::string& d : r.clone_dirs) clone_ns |= d == "/";

  // fdio's rule for ADD_NS_ENTRY: a duplicate keeps the first, a nested one is dropped.
  std::vector<Want> wants;
  PathSet kept;
  for (const Entry& e : r.entries) {
    std::string label = EntryLabel(e);
    if (!IsNormalisedAbsolute(e.path)) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, label + ": the path is not absolute and normalised");
    }
    if (e.path == "/") {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, label + ": an entry cannot replace the root");
    }
    if (kept.Overlaps(e.path)) continue;
    Result<Want> w = WantFromFd(e.fd, e.path, e.read_only, label);
    if (!w.ok()) return w.error();
    kept.Add(e.path);
    wants.push_back(std::move(w.value()));
  }
  if (clone_ns && wants.empty()) return std::unique_ptr<Plan>();

  auto plan = std::make_unique<Plan>();
  plan->private_root = !clone_ns;
  std::vector<std::pair<std::string, std::string>> links;  // path -> symlink target
  if (!clone_ns) {
    // CLONE_DIR: the caller's directory at the same path; a missing one gives nothing.
    for (const std::string& d : r.clone_dirs) {
      if (kept.Overlaps(d)) continue;
      std::optional<Want> w = WantFromPath(d, d, false, "clone dir " + d);
      if (!w) continue;
      kept.Add(d);
      wants.push_back(*w);
    }
    // The loader: where the kernel and the dynamic linker look.
    if (r.headers && r.headers->interp) {
      const std::string& interp = *r.headers->interp;
      if (r.loader_fd >= 0) {
        std::vector<std::string> targets = {Dirname(interp), std::string("/lib/") + kTriplet};
        for (const std::string& t : targets) {
          Result<Want> w = WantFromFd(r.loader_fd, t, true, "loader at " + t);
          if (!w.ok()) return w.error();
          w->optional = true;
          wants.push_back(std::move(w.value()));
        }
      } else if (r.default_ldsvc) {
        DefaultLoader(interp, &wants, &links);
      } else {
        return Error(CAPSPAWN_ERR_INVALID_ARGS,
                     "the program is dynamically linked: it needs its interpreter " + interp +
                         ", but the spawn has no loader (PA_LDSVC_LOADER or DEFAULT_LDSVC) and no "
                         "CLONE_NAMESPACE, so " +
                         interp + " would not exist in its namespace");
      }
    }
    plan->staging = StagingDir();
    if (!plan->staging) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "private namespace: no directory to stage the new root on (none of /tmp /mnt "
                   "/run /dev /proc exists)");
    }
  } else {
    // The caller's tree with the entries on top: each target must already be
    // a directory there, since nothing may be created in the caller's tree.
    for (const Want& w : wants) {
      struct stat st;
      if (stat(w.target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                     w.label +
                         ": with CLONE_NAMESPACE an entry must be mounted on a directory "
                         "that exists in the caller's tree, and " +
                         w.target + " does not");
      }
    }
  }

  // Parents before children; for one target, the earliest want wins.
  std::stable_sort(wants.begin(), wants.end(),
                   [](const Want& a, const Want& b) { return a.target < b.target; });
  std::vector<Want> ordered;
  for (Want& w : wants) {
    if (!ordered.empty() && ordered.back().target == w.target) continue;
    ordered.push_back(std::move(w));
  }

  // Directories of the private root: the path to every top-level mount.
  std::set<std::string> made;
  auto make_dirs = [&](const std::string& path) {
    for (size_t i = 1; i <= path.size(); ++i) {
      if (i != path.size() && path[i] != '/') continue;
      std::string d = path.substr(1, i - 1);
      if (d.empty() || !made.insert(d).second) continue;
      plan->nodes.push_back({plan->Keep(d), nullptr, plan->Keep("private root: mkdir /" + d)});
    }
  };
  PathSet tops;
  for (Want& w : ordered) {
    const bool nested = tops.Covers(w.target);
    if (!nested) {
      tops.Add(w.target);
      if (plan->private_root) make_dirs(w.target);
    }
    // Only a loader bind may land inside another: on a directory that exists there.
    ChildMount m{};
    m.source = plan->Keep(w.source);
    m.target = plan->Keep(w.target.substr(1));
    m.dev = w.dev;
    m.ino = w.ino;
    m.read_only = w.read_only;
    m.optional = w.optional && nested;
    m.step_open = plan->Keep(w.label + ": open " + w.source);
    m.step_check = plan->Keep(w.label + ": " + w.source + " is no longer the handed directory");
    m.step_tree = plan->Keep(w.label + ": open_tree");
    m.step_move = plan->Keep(w.label + ": move_mount");
    m.step_ro = plan->Keep(w.label + ": mount_setattr(MOUNT_ATTR_RDONLY)");
    plan->mounts.push_back(m);
  }
  for (const auto& [path, target] : links) {
    if (tops.Overlaps(path) || made.count(path.substr(1))) continue;
    make_dirs(Dirname(path) == "/" ? std::string() : Dirname(path));
    plan->nodes.push_back({plan->Keep(path.substr(1)), plan->Keep(target),
                           plan->Keep("private root: symlink " + path)});
  }
  plan->trees.assign(plan->mounts.size(), -1);

  plan->clone_flags = CLONE_NEWNS;
  if (geteuid() != 0) {
    Status st = CheckUserNamespaces();
    if (!st.ok()) return st.error();
    plan->user_ns = true;
    plan->clone_flags |= CLONE_NEWUSER;
    plan->uid_map =
        plan->Keep(std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1\n");
    plan->gid_map =
        plan->Keep(std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1\n");
  }
  return plan;
}

void Apply(Plan& plan, engine::LaunchPlan* launch) {
  launch->extra_clone_flags |= plan.clone_flags;
  launch->hooks.push_back({&BuildInChild, &plan});
}

}  // namespace capspawn::ns
