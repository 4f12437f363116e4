// SPDX-License-Identifier: Apache-2.0
// Planning a child's filesystem in the parent: which directories are bound
// where, what the private root's tmpfs holds, which directories of the
// caller's tree are mirrored to make room for a missing path, and the labels
// the child reports failures with. The result is a flat list of operations
// (ns_child.cc runs them). See docs/namespaces.md.
#include "namespace/namespace.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "namespace/container_config.h"
#include "namespace/mounts.h"
#include "namespace/ns_cache.h"

namespace capspawn::ns {
namespace {

#if defined(__x86_64__)
constexpr const char* kTriplet = "x86_64-linux-gnu";
#else
constexpr const char* kTriplet = "aarch64-linux-gnu";
#endif

constexpr const char* kDevNodes[] = {"null", "zero", "urandom"};

// A mount the plan wants, before it becomes operations.
struct Want {
  std::string target;  // absolute
  EntryKind kind = EntryKind::kBind;
  std::string source;  // kBind: absolute, in the caller's tree
  dev_t dev = 0;
  ino_t ino = 0;
  bool read_only = false;
  bool optional = false;  // a loader bind that may land inside an entry
  std::string label;      // "mount /data (action 2)"
  int slot = -1;          // kBind: the open_tree slot
  int fd = -1;            // kBind: the caller's directory, cloned in the parent (no source)
};

bool IsNormalisedAbsolute(std::string_view p) {
  if (p.empty() || p[0] != '/') return false;
  if (p == "/") return true;
  if (p.back() == '/') return false;
  for (size_t i = 1; i <= p.size();) {
    size_t end = p.find('/', i);
    if (end == std::string_view::npos) end = p.size();
    std::string_view comp = p.substr(i, end - i);
    if (comp.empty() || comp == "." || comp == "..") return false;
    i = end + 1;
  }
  return true;
}

}  // namespace

std::string EntryLabel(const Entry& e) {
  std::string l;
  switch (e.kind) {
    case EntryKind::kBind:
      l = "mount ";
      break;
    case EntryKind::kTmpfs:
      l = "tmpfs ";
      break;
    case EntryKind::kProc:
      l = "proc ";
      break;
    case EntryKind::kDevMinimal:
      l = "dev ";
      break;
  }
  l += e.path;
  if (e.action_index != SIZE_MAX) l += " (action " + std::to_string(e.action_index) + ")";
  return l;
}

namespace {

// A bind whose directory cannot be reached (removed, or outside the tree).
Error Unreachable(int fd, const std::string& label, const std::string& source) {
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
               label + ": fd " + std::to_string(fd) + " (" + source +
                   ") is not reachable at a path in the caller's mount tree, which the bind "
                   "needs");
}

// The path a directory fd was opened at: the child rebinds it by that path
// in its copy of the caller's mount tree and checks it by (dev, ino).
Result<std::string> PathOfFd(int fd, const std::string& label) {
  char link[32];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[PATH_MAX];
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n < 0) return Error::FromErrno(errno, label + ": readlink " + link);
  std::string source(buf, static_cast<size_t>(n));
  if (source.empty() || source[0] != '/' || source.ends_with(" (deleted)")) {
    return Unreachable(fd, label, source);
  }
  return source;
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

// A directory that exists in every reasonable tree, to mount a new root's
// tmpfs on before pivot_root (only inside the child's namespace).
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

// Paths already taken, with an overlap test in O(depth · log n) and no
// allocation per lookup: 1,000 entries must not cost a million comparisons.
class PathSet {
 public:
  bool Overlaps(std::string_view p) const { return Covers(p) || HasBelow(p); }
  // Whether p itself or an ancestor is in the set.
  bool Covers(std::string_view p) const {
    if (set_.count(std::string_view("/"))) return true;
    for (size_t i = 1; i <= p.size(); ++i) {
      if ((i == p.size() || p[i] == '/') && set_.count(p.substr(0, i))) return true;
    }
    return false;
  }
  void Add(std::string p) { set_.insert(std::move(p)); }

 private:
  bool HasBelow(std::string_view p) const {
    auto it = set_.upper_bound(p);
    return it != set_.end() && it->size() > p.size() && it->compare(0, p.size(), p) == 0 &&
           (*it)[p.size()] == '/';
  }
  std::set<std::string, std::less<>> set_;
};

// An entry that survived the duplicate and nesting rules, with its identity.
struct Kept {
  const Entry* entry;
  dev_t dev = 0;
  ino_t ino = 0;
  uint64_t mnt_id = 0;
  bool unlinked = false;  // removed from the tree: nothing to bind by path or to mount
};

// What a directory fd is: fails unless it is a directory.
Status IdentifyFd(int fd, const std::string& label, Kept* k) {
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_INO | STATX_NLINK | kStatxMntIdUnique, &sx) !=
      0) {
    return Error::FromErrno(errno, label + ": statx fd " + std::to_string(fd));
  }
  if (!S_ISDIR(sx.stx_mode)) {
    return Error(CAPSPAWN_ERR_NOT_DIR,
                 label + ": fd " + std::to_string(fd) + " is not a directory");
  }
  k->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  k->ino = sx.stx_ino;
  k->mnt_id = sx.stx_mnt_id;
  k->unlinked = (sx.stx_mask & STATX_NLINK) && sx.stx_nlink == 0;
  return {};
}

Op TmpfsOp(Plan* plan, const std::string& path, const char* label) {
  Op op{OpKind::kMountTmpfs};
  op.path = plan->Keep(path);
  op.label = label;
  op.step = "mount tmpfs on";
  return op;
}

// Builds the operations of one plan.
class Planner {
 public:
  explicit Planner(Plan* plan) : plan_(plan) {}

  void OpenTrees(std::vector<Want>* wants) {
    for (Want& w : *wants) {
      if (w.kind == EntryKind::kBind)
        w.slot = OpenTree(w.source, w.dev, w.ino, w.read_only, w.label, w.fd);
      if (w.kind == EntryKind::kDevMinimal) {
        for (const char* node : kDevNodes) {
          std::string src = std::string("/dev/") + node;
          struct stat st;
          if (stat(src.c_str(), &st) != 0) st = {};
          dev_slots_[w.target].push_back(OpenTree(src, st.st_dev, st.st_ino, false, w.label));
        }
      }
    }
  }

  int OpenTree(const std::string& source, dev_t dev, ino_t ino, bool ro, const std::string& label,
               int source_fd = -1) {
    Op op{OpKind::kOpenTree};
    op.a = plan_->NewSlot();
    op.flag = ro;
    op.source_fd = source_fd;
    op.path = source_fd >= 0 ? nullptr : plan_->Keep(source);
    op.dev = dev;
    op.ino = ino;
    op.label = Label(label);
    op.step = ro ? "open_tree (read-only)" : "open_tree";
    plan_->ops.push_back(op);
    return op.a;
  }

  void MountTmpfs(const std::string& path, const char* label) {
    plan_->ops.push_back(TmpfsOp(plan_, path, label));
  }

  int OpenDir(const std::string& path, const char* label) {
    Op op{OpKind::kOpenDir};
    op.a = plan_->NewSlot();
    op.path = plan_->Keep(path);
    op.label = label;
    op.step = "open";
    plan_->ops.push_back(op);
    return op.a;
  }

  // rel must stay alive: a Keep()t string, or a literal.
  void Node(OpKind kind, int dir, const char* rel, const char* link, const char* label) {
    Op op{kind};
    op.a = dir;
    op.path = rel;
    op.link = link;
    op.label = label;
    op.step = kind == OpKind::kMkdir ? "mkdir" : kind == OpKind::kSymlink ? "symlink" : "create";
    plan_->ops.push_back(op);
  }

  void Move(int dir, const char* rel, int slot, bool optional, const char* label) {
    Op op{OpKind::kMove};
    op.a = dir;
    op.b = slot;
    op.path = rel;
    op.flag = optional;
    op.label = label;
    op.step = "move_mount to";
    plan_->ops.push_back(op);
  }

  void ReadOnly(int dir, const char* rel, bool recursive, const char* label) {
    Op op{OpKind::kReadOnly};
    op.a = dir;
    op.path = rel;
    op.flag = recursive;
    op.label = label;
    op.step = "mount_setattr(MOUNT_ATTR_RDONLY)";
    plan_->ops.push_back(op);
  }

  // A special entry's mounts at `base + w.target` (base: the new root's
  // staging path, or "" in the caller's tree).
  void MountSpecial(const Want& w, const std::string& base, bool for_cache) {
    const std::string at = base + w.target;
    const char* label = Label(w.label);
    switch (w.kind) {
      case EntryKind::kBind:
        break;
      case EntryKind::kTmpfs:
        // Cached: every spawn mounts its own after entering (EnterPlan).
        if (!for_cache) MountTmpfs(at, label);
        break;
      case EntryKind::kProc: {
        Op op{OpKind::kMountProc};
        op.path = plan_->Keep(at);
        op.label = label;
        op.step = "mount proc on";
        plan_->ops.push_back(op);
        break;
      }
      case EntryKind::kDevMinimal: {
        MountTmpfs(at, label);
        int d = OpenDir(at, label);
        const std::vector<int>& slots = dev_slots_[w.target];
        for (size_t i = 0; i < slots.size(); ++i) {
          Node(OpKind::kMkfile, d, kDevNodes[i], nullptr, label);
          Move(d, kDevNodes[i], slots[i], false, label);
        }
        ReadOnly(d, "", false, label);
        break;
      }
    }
  }

  const char* Label(const std::string& l) {
    if (l == last_label_) return last_label_ptr_;
    last_label_ = l;
    last_label_ptr_ = plan_->Keep(l);
    return last_label_ptr_;
  }

 private:
  Plan* plan_;
  std::map<std::string, std::vector<int>> dev_slots_;
  std::string last_label_;
  const char* last_label_ptr_ = nullptr;
};

// The caller's dynamic linker and library directories, read-only: each
// existing standard directory, bound at its real path; a symlinked one
// (/lib -> usr/lib) is recreated as the same symlink.
struct SystemLoader {
  std::vector<Want> wants;
  std::vector<std::pair<std::string, std::string>> links;  // path -> symlink target
};

SystemLoader FindSystemLoader(const std::string& interp) {
  SystemLoader out;
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
    out.wants.push_back(*w);
    struct stat lst;
    if (lstat(d.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(d.c_str(), target, sizeof target - 1);
      if (n > 0) out.links.emplace_back(d, std::string(target, static_cast<size_t>(n)));
    }
  }
  return out;
}

void AppendKey(std::string* key, const void* data, size_t n) {
  key->append(static_cast<const char*>(data), n);
}
template <typename T>
void AppendKey(std::string* key, T v) {
  AppendKey(key, &v, sizeof v);
}
void AppendKey(std::string* key, std::string_view s) {
  AppendKey(key, s.size());
  key->append(s);
}

// The user namespace part of a plan (non-root callers), unless the caller's
// container plan makes it.
Status PlanUserNamespace(Plan* plan, bool external) {
  plan->clone_flags |= CLONE_NEWNS;
  if (geteuid() == 0 || external) return {};
  Status st = CheckUserNamespaces();
  if (!st.ok()) return st.error();
  plan->user_ns = true;
  plan->clone_flags |= CLONE_NEWUSER;
  plan->uid_map = plan->Keep(std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1\n");
  plan->gid_map = plan->Keep(std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1\n");
  return {};
}

// Parents before children; for one target, the earliest want wins.
std::vector<Want> Ordered(std::vector<Want> wants) {
  std::stable_sort(wants.begin(), wants.end(),
                   [](const Want& a, const Want& b) { return a.target < b.target; });
  std::vector<Want> ordered;
  ordered.reserve(wants.size());
  for (Want& w : wants) {
    if (!ordered.empty() && ordered.back().target == w.target) continue;
    ordered.push_back(std::move(w));
  }
  return ordered;
}

// A new root holding exactly the wants: tmpfs on the staging directory,
// the directories leading to each mount, the mounts, pivot_root.
Result<std::unique_ptr<Plan>> PlanPrivateRoot(
    std::vector<Want> wants, const std::vector<std::pair<std::string, std::string>>& links,
    bool for_cache, const container::Config* container) {
  auto plan = std::make_unique<Plan>();
  std::optional<MountPlanner> mp;
  if (container && container->HasFilesystem())
    mp.emplace(plan.get(), container->mounts, std::vector<container::PathAction>{}, container);
  const char* staging = StagingDir();
  if (!staging) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "private namespace: no directory to stage the new root on (none of /tmp /mnt "
                 "/run /dev /proc exists)");
  }
  std::vector<Want> ordered = Ordered(std::move(wants));
  Planner p(plan.get());
  p.OpenTrees(&ordered);  // all copies first: nothing is hidden yet
  if (mp) {
    if (Status st = mp->Sources(); !st.ok()) return st.error();
  }
  const char* root_label = "private root";
  p.MountTmpfs(staging, root_label);
  const int root = p.OpenDir(staging, root_label);

  // Directories of the new root: the path to every top-level mount.
  std::unordered_set<std::string_view> made;
  auto make_dirs = [&](const std::string& path) {
    for (size_t i = 1; i <= path.size(); ++i) {
      if (i != path.size() && path[i] != '/') continue;
      std::string_view d(path.data() + 1, i - 1);
      if (d.empty() || made.count(d)) continue;
      const char* kept = plan->Keep(std::string(d));
      made.insert(std::string_view(kept, d.size()));
      p.Node(OpKind::kMkdir, root, kept, nullptr, root_label);
    }
  };
  PathSet tops;
  std::vector<bool> nested(ordered.size());
  for (size_t i = 0; i < ordered.size(); ++i) {
    nested[i] = tops.Covers(ordered[i].target);
    if (!nested[i]) {
      tops.Add(ordered[i].target);
      make_dirs(ordered[i].target);
    }
  }
  for (const auto& [path, target] : links) {
    if (tops.Overlaps(path) || made.count(std::string_view(path).substr(1))) continue;
    if (Dirname(path) != "/") make_dirs(Dirname(path));
    p.Node(OpKind::kSymlink, root, plan->Keep(path.substr(1)), plan->Keep(target), root_label);
  }
  for (size_t i = 0; i < ordered.size(); ++i) {
    const Want& w = ordered[i];
    if (w.kind == EntryKind::kBind) {
      // Only a loader bind may land inside another: on a directory that exists there.
      const char* rel = plan->Keep(w.target.substr(1));
      p.Move(root, rel, w.slot, w.optional && nested[i], p.Label(w.label));
    } else {
      p.MountSpecial(w, staging, for_cache);
    }
  }
  if (mp) mp->Mounts(root, true);
  // The tmpfs becomes "/", read-only: writes go only to read-write entries.
  p.ReadOnly(root, "", false, root_label);
  Op pivot{OpKind::kPivot};
  pivot.a = root;
  pivot.label = root_label;
  pivot.step = "pivot_root";
  plan->ops.push_back(pivot);
  if (mp) mp->AfterPivot();
  return plan;
}

// One name in a directory the child mirrors.
struct Sibling {
  std::string name;
  enum { kDir, kOther, kLink } type;
  std::string link;
  dev_t dev;
  ino_t ino;
};

Result<std::vector<Sibling>> ListDirectory(const std::string& dir, const std::string& label) {
  DIR* d = opendir(dir.c_str());
  if (!d) return Error::FromErrno(errno, label + ": mirror " + dir + ": opendir");
  std::vector<Sibling> out;
  int dfd = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    Sibling s{e->d_name, Sibling::kOther, "", st.st_dev, st.st_ino};
    if (S_ISDIR(st.st_mode)) s.type = Sibling::kDir;
    if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n = readlinkat(dfd, e->d_name, buf, sizeof buf - 1);
      if (n < 0) continue;
      s.type = Sibling::kLink;
      s.link.assign(buf, static_cast<size_t>(n));
    }
    out.push_back(std::move(s));
  }
  closedir(d);
  return out;
}

// The caller's tree with the wants mounted on top. A target missing from
// the caller's tree gets room without touching it: its deepest existing
// ancestor is mirrored in the child (a tmpfs holding a bind of each of its
// names), the missing directories are made in that tmpfs, which then turns
// read-only. A mirrored "/" becomes the root by pivot_root.
Result<std::unique_ptr<Plan>> PlanOverlay(std::vector<Want> wants,
                                          const container::Config* container) {
  auto plan = std::make_unique<Plan>();
  std::optional<MountPlanner> mp;
  if (container && container->HasFilesystem())
    mp.emplace(plan.get(), container->mounts, std::vector<container::PathAction>{}, container);
  std::vector<Want> ordered = Ordered(std::move(wants));

  // Which directories to mirror, and which directories to make in them.
  std::set<std::string> mirrors;
  std::vector<std::pair<std::string, std::string>> missing;  // (dir to make, label)
  std::set<std::string> missing_seen;
  for (const Want& w : ordered) {
    std::string p = w.target;
    std::vector<std::string> chain;
    struct stat st;
    while (stat(p.c_str(), &st) != 0) {
      if (errno != ENOENT) return Error::FromErrno(errno, w.label + ": stat " + p);
      chain.push_back(p);
      p = Dirname(p);
    }
    if (!S_ISDIR(st.st_mode)) {
      return Error(CAPSPAWN_ERR_NOT_DIR,
                   w.label + ": " + p + " is not a directory in the caller's tree");
    }
    if (chain.empty()) continue;
    mirrors.insert(p);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (missing_seen.insert(*it).second) missing.emplace_back(*it, w.label);
    }
  }
  // A mirror inside a directory that is itself missing cannot happen: it exists.
  const bool mirror_root = mirrors.count("/") != 0;
  const char* staging = StagingDir();
  if (mirror_root && !staging) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "no directory to stage the mirrored root on (none of /tmp /mnt /run /dev "
                 "/proc exists)");
  }
  const std::string base = mirror_root ? staging : "";

  Planner p(plan.get());
  p.OpenTrees(&ordered);
  std::map<std::string, std::vector<std::pair<Sibling, int>>> mirror_slots;
  for (const std::string& m : mirrors) {
    const std::string label = "mirror " + m;
    Result<std::vector<Sibling>> names = ListDirectory(m, label);
    if (!names.ok()) return names.error();
    for (Sibling& s : names.value()) {
      int slot = -1;
      if (s.type != Sibling::kLink) {
        slot = p.OpenTree((m == "/" ? "" : m) + "/" + s.name, s.dev, s.ino, false, label);
      }
      mirror_slots[m].emplace_back(std::move(s), slot);
    }
  }
  if (mp) {
    if (Status st = mp->Sources(); !st.ok()) return st.error();
  }

  int root;
  if (mirror_root) {
    const char* label = p.Label("mirror /");
    p.MountTmpfs(staging, label);
    root = p.OpenDir(staging, label);
  } else {
    root = p.OpenDir("/", "root");
  }
  std::map<std::string, int> mirror_dirs;  // mirrored dir -> its tmpfs's slot
  for (const std::string& m : mirrors) {   // shallow first: "/" sorts before the rest
    const char* label = p.Label("mirror " + m);
    int d = root;
    if (m != "/") {
      p.MountTmpfs(base + m, label);
      d = p.OpenDir(base + m, label);
    }
    mirror_dirs[m] = d;
    for (auto& [s, slot] : mirror_slots[m]) {
      const char* name = plan->Keep(s.name);
      if (s.type == Sibling::kLink) {
        p.Node(OpKind::kSymlink, d, name, plan->Keep(s.link), label);
        continue;
      }
      p.Node(s.type == Sibling::kDir ? OpKind::kMkdir : OpKind::kMkfile, d, name, nullptr, label);
      p.Move(d, name, slot, false, label);
    }
  }
  for (const auto& [dir, label] : missing) {
    p.Node(OpKind::kMkdir, root, plan->Keep(dir.substr(1)), nullptr, p.Label(label));
  }
  for (const Want& w : ordered) {
    if (w.kind == EntryKind::kBind) {
      p.Move(root, plan->Keep(w.target.substr(1)), w.slot, false, p.Label(w.label));
    } else {
      p.MountSpecial(w, base, false);
    }
  }
  if (mp) mp->Mounts(root, false);  // onto what the caller's tree has: nothing is created there
  for (const auto& [m, d] : mirror_dirs) p.ReadOnly(d, "", false, p.Label("mirror " + m));
  if (mirror_root) {
    Op pivot{OpKind::kPivot};
    pivot.a = root;
    pivot.label = "mirrored root";
    pivot.step = "pivot_root";
    plan->ops.push_back(pivot);
  }
  if (mp) mp->AfterPivot();
  if (!mirrors.empty()) {
    // The cwd's path leads to the same directory in the new view.
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) {
      Op chdir_op{OpKind::kChdir};
      chdir_op.path = plan->Keep(cwd);
      chdir_op.label = "cwd";
      chdir_op.step = "chdir";
      plan->ops.push_back(chdir_op);
    }
  }
  return plan;
}

// A spawn's plan for entering a cached namespace: each tmpfs entry is its
// own, mounted after entering, in a copy of the namespace.
std::unique_ptr<Plan> EnterPlan(std::shared_ptr<const CachedNamespace> ns,
                                const std::vector<Kept>& kept) {
  auto plan = std::make_unique<Plan>();
  plan->cached = std::move(ns);
  for (const Kept& k : kept) {
    if (k.entry->kind != EntryKind::kTmpfs) continue;
    plan->per_spawn_ops.push_back(
        TmpfsOp(plan.get(), k.entry->path, plan->Keep(EntryLabel(*k.entry))));
  }
  // Root could change the shared namespace (umount, remount read-write):
  // it gets a copy. A non-root child has no capability in the cached user
  // namespace once it has exec'd (docs/namespaces.md), so it shares it.
  plan->private_copy = plan->cached->user.get() < 0 || !plan->per_spawn_ops.empty();
  return plan;
}

// A root directory entry: every other entry and ADD_MOUNT becomes a mount
// on it, in action order; a dynamic program's interpreter must be in it.
Result<std::unique_ptr<Plan>> PlanWithRootEntry(const Request& r, const Entry& root,
                                                const std::vector<Kept>& kept, bool has_proc) {
  if (r.headers && r.headers->interp) {
    const std::string& interp = *r.headers->interp;
    if (faccessat(root.fd, interp.c_str() + (interp[0] == '/'), F_OK, 0) != 0) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   EntryLabel(root) + ": the program is dynamically linked and its interpreter " +
                       interp + " is not in the root directory");
    }
  }
  std::vector<container::Mount> mounts;
  std::vector<container::PathAction> devices;
  for (const Kept& k : kept) {
    mounts.push_back(EntryAsMount(*k.entry));
    if (k.entry->kind == EntryKind::kDevMinimal) {
      devices.push_back({k.entry->path, k.entry->action_index});
    }
  }
  if (r.container)
    mounts.insert(mounts.end(), r.container->mounts.begin(), r.container->mounts.end());
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const container::Mount& a, const container::Mount& b) {
                     return a.action_index < b.action_index;
                   });
  Result<std::unique_ptr<Plan>> plan =
      PlanRootfs(root, std::move(mounts), std::move(devices), r.container);
  if (!plan.ok()) return plan.error();
  if (has_proc) plan.value()->clone_flags |= CLONE_NEWPID;
  Status st = PlanUserNamespace(plan.value().get(), r.external_user_ns);
  if (!st.ok()) return st.error();
  return plan;
}

}  // namespace

const char* StagingDirectory() { return StagingDir(); }
Result<std::string> PathOfFdForBind(int fd, const std::string& label) {
  return PathOfFd(fd, label);
}

bool IsNormalisedAbsolute(const std::string& p) {
  return IsNormalisedAbsolute(std::string_view(p));
}

Result<std::vector<size_t>> KeptEntries(const std::vector<Entry>& entries) {
  // fdio's rule for ADD_NS_ENTRY: a duplicate keeps the first, a nested one
  // is dropped. The special entries follow the same rule.
  std::vector<size_t> kept;
  kept.reserve(entries.size());
  PathSet taken;
  bool have_root = false;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (!IsNormalisedAbsolute(e.path)) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   EntryLabel(e) + ": the path is not absolute and normalised");
    }
    if (e.path == "/") {
      if (e.kind != EntryKind::kBind) {
        return Error(CAPSPAWN_ERR_INVALID_ARGS,
                     EntryLabel(e) + ": only a directory entry can be the root");
      }
      // The root directory: every other entry is a mount on it, so "/"
      // is not taken; a later "/" is a duplicate, dropped.
      if (!have_root) kept.push_back(i);
      have_root = true;
      continue;
    }
    if (taken.Overlaps(e.path)) continue;
    taken.Add(e.path);
    kept.push_back(i);
  }
  return kept;
}

Result<std::unique_ptr<Plan>> PlanNamespace(const Request& r) {
  bool clone_ns = r.clone_namespace;
  for (const std::string& d : r.clone_dirs) clone_ns |= d == "/";

  Result<std::vector<size_t>> kept_index = KeptEntries(r.entries);
  if (!kept_index.ok()) return kept_index.error();
  std::vector<Kept> kept;
  kept.reserve(kept_index->size());
  PathSet taken;
  bool has_proc = false;
  const Entry* root_entry = nullptr;
  for (size_t i : *kept_index) {
    const Entry& e = r.entries[i];
    if (e.path == "/") {
      root_entry = &e;
      continue;
    }
    Kept k{&e};
    if (e.kind == EntryKind::kBind) {
      Status st = IdentifyFd(e.fd, EntryLabel(e), &k);
      if (!st.ok()) return st.error();
    }
    has_proc |= e.kind == EntryKind::kProc;
    taken.Add(e.path);
    kept.push_back(k);
  }
  const bool container_fs = r.container && r.container->HasFilesystem();
  if (root_entry) return PlanWithRootEntry(r, *root_entry, kept, has_proc);
  if (clone_ns && kept.empty() && !container_fs) return std::unique_ptr<Plan>();

  // The loader (private root only: with CLONE_NAMESPACE the caller's own is visible).
  const std::string* interp = nullptr;
  if (!clone_ns && r.headers && r.headers->interp) {
    interp = &*r.headers->interp;
    if (r.loader_fd < 0 && !r.default_ldsvc) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "the program is dynamically linked: it needs its interpreter " + *interp +
                       ", but the spawn has no loader (PA_LDSVC_LOADER or DEFAULT_LDSVC) and no "
                       "CLONE_NAMESPACE, so " +
                       *interp + " would not exist in its namespace");
    }
  }
  Kept loader{nullptr};
  if (interp && r.loader_fd >= 0) {
    Status st = IdentifyFd(r.loader_fd, "loader fd", &loader);
    if (!st.ok()) return st.error();
  }

  // A private root seen before: enter the cached namespace. (A procfs needs
  // a pid namespace of the spawn's own, so it is built every time.)
  Cache& cache = Cache::Get();
  const bool cacheable = !clone_ns && !has_proc && !container_fs && !r.external_user_ns &&
                         r.use_cache && cache.Enabled();
  std::string key;
  uint64_t generation = 0;
  if (cacheable) {
    key.reserve(64 + kept.size() * 48);
    AppendKey(&key, geteuid());
    AppendKey(&key, getegid());
    AppendKey(&key, interp ? std::string_view(*interp) : std::string_view());
    AppendKey(&key, r.loader_fd >= 0 && interp);
    AppendKey(&key, r.default_ldsvc && interp);
    if (interp && r.loader_fd >= 0) {
      AppendKey(&key, loader.dev);
      AppendKey(&key, loader.ino);
      AppendKey(&key, loader.mnt_id);
    }
    for (const Kept& k : kept) {
      AppendKey(&key, static_cast<uint8_t>(k.entry->kind) | (k.entry->read_only ? 0x80 : 0));
      AppendKey(&key, std::string_view(k.entry->path));
      AppendKey(&key, k.dev);
      AppendKey(&key, k.ino);
      AppendKey(&key, k.mnt_id);
    }
    for (const std::string& d : r.clone_dirs) {
      struct statx sx = {};
      bool there =
          statx(AT_FDCWD, d.c_str(), 0, STATX_TYPE | STATX_INO | kStatxMntIdUnique, &sx) == 0 &&
          S_ISDIR(sx.stx_mode);
      AppendKey(&key, std::string_view(d));
      AppendKey(&key, there);
      if (there) {
        AppendKey(&key, sx.stx_dev_major);
        AppendKey(&key, sx.stx_dev_minor);
        AppendKey(&key, sx.stx_ino);
        AppendKey(&key, sx.stx_mnt_id);
      }
    }
    Cache::Hit hit = cache.Lookup(key);
    generation = hit.generation;
    if (hit.ns) return EnterPlan(std::move(hit.ns), kept);
  }

  // Plan a build. Without a user namespace (root), the cached build's
  // entries are cloned from their fds in the caller's namespace, before the
  // builder leaves it (PrecloneTrees): no path lookup and no inode check. A
  // builder in a user namespace cannot clone a mount of the caller's
  // namespace, and an unprivileged caller may not clone there: it looks the
  // path up in the builder and checks the inode.
  const bool preclone = cacheable && geteuid() == 0;
  std::vector<Want> wants;
  wants.reserve(kept.size() + 8);
  for (const Kept& k : kept) {
    Want w;
    w.target = k.entry->path;
    w.kind = k.entry->kind;
    w.read_only = k.entry->read_only;
    w.label = EntryLabel(*k.entry);
    if (w.kind == EntryKind::kBind && preclone) {
      // As the path route would find: a removed directory cannot be mounted.
      if (k.unlinked) return Unreachable(k.entry->fd, w.label, "removed");
      w.fd = k.entry->fd;
    } else if (w.kind == EntryKind::kBind) {
      Result<std::string> src = PathOfFd(k.entry->fd, w.label);
      if (!src.ok()) return src.error();
      w.source = std::move(src.value());
      w.dev = k.dev;
      w.ino = k.ino;
    }
    wants.push_back(std::move(w));
  }

  Result<std::unique_ptr<Plan>> plan = std::unique_ptr<Plan>();
  if (clone_ns) {
    plan = PlanOverlay(std::move(wants), r.container);
  } else {
    // CLONE_DIR: the caller's directory at the same path; a missing one gives nothing.
    for (const std::string& d : r.clone_dirs) {
      if (taken.Overlaps(d)) continue;
      std::optional<Want> w = WantFromPath(d, d, false, "clone dir " + d);
      if (!w) continue;
      taken.Add(d);
      wants.push_back(*w);
    }
    std::vector<std::pair<std::string, std::string>> links;
    if (interp && r.loader_fd >= 0) {
      // Where the kernel and the dynamic linker look.
      Result<std::string> src = PathOfFd(r.loader_fd, "loader");
      if (!src.ok()) return src.error();
      for (const std::string& t : {Dirname(*interp), std::string("/lib/") + kTriplet}) {
        Want w;
        w.target = t;
        w.source = src.value();
        w.dev = loader.dev;
        w.ino = loader.ino;
        w.read_only = true;
        w.optional = true;
        w.label = "loader at " + t;
        wants.push_back(std::move(w));
      }
    } else if (interp) {
      SystemLoader sys = FindSystemLoader(*interp);
      for (Want& w : sys.wants) wants.push_back(std::move(w));
      links = std::move(sys.links);
    }
    plan = PlanPrivateRoot(std::move(wants), links, cacheable, r.container);
  }
  if (!plan.ok()) return plan.error();
  Plan& built = *plan.value();
  if (has_proc) built.clone_flags |= CLONE_NEWPID;
  Status st = PlanUserNamespace(&built, r.external_user_ns);
  if (!st.ok()) return st.error();
  if (!cacheable) return plan;

  // Build it once, keep it, and enter it like any later spawn will.
  Result<std::shared_ptr<const CachedNamespace>> ns = BuildCachedNamespace(built);
  if (!ns.ok()) return ns.error();
  cache.Insert(key, ns.value(), generation);
  return EnterPlan(std::move(ns.value()), kept);
}

void Apply(Plan& plan, engine::LaunchPlan* launch) {
  plan.slots.assign(static_cast<size_t>(plan.slot_count), -1);
  if (plan.cached) {
    if (plan.cached->user.get() >= 0) {
      launch->hook_fds.push_back({plan.cached->user.get(), &plan.user_fd_child});
    }
    launch->hook_fds.push_back({plan.cached->mnt.get(), &plan.mnt_fd_child});
    launch->hooks.push_back({&EnterCachedInChild, &plan});
    return;
  }
  launch->extra_clone_flags |= plan.clone_flags;
  launch->hooks.push_back({&BuildInChild, &plan});
}

}  // namespace capspawn::ns
