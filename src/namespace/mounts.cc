// SPDX-License-Identifier: Apache-2.0
// Container mounts as namespace operations: every path in the new root is
// resolved inside it (RESOLVE_IN_ROOT), file systems are made with the mount
// API (fsopen/fsconfig/fsmount: an option the kernel refuses is named in the
// error), binds are detached copies moved into place.
#include "namespace/mounts.h"

#include <linux/mount.h>
#include <sys/stat.h>

#include <utility>

namespace capspawn::ns {
namespace {

constexpr const char* kDeviceNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
constexpr std::pair<const char*, const char*> kDeviceLinks[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

const char* FsType(uint32_t kind) {
  switch (kind) {
    case CAPSPAWN_MOUNT_PROC:
      return "proc";
    case CAPSPAWN_MOUNT_TMPFS:
      return "tmpfs";
    case CAPSPAWN_MOUNT_DEVPTS:
      return "devpts";
    case CAPSPAWN_MOUNT_MQUEUE:
      return "mqueue";
    case CAPSPAWN_MOUNT_SYSFS:
      return "sysfs";
    case CAPSPAWN_MOUNT_CGROUP2:
      return "cgroup2";
    default:
      return "bind";
  }
}

// MOUNT_ATTR_* for the flags; *clr gets MOUNT_ATTR__ATIME when an atime mode is set.
uint64_t Attr(uint32_t flags, uint64_t* clr) {
  uint64_t a = 0;
  if (flags & CAPSPAWN_MOUNT_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (flags & CAPSPAWN_MOUNT_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (flags & CAPSPAWN_MOUNT_NODEV) a |= MOUNT_ATTR_NODEV;
  if (flags & CAPSPAWN_MOUNT_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (flags & CAPSPAWN_MOUNT_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (flags & (CAPSPAWN_MOUNT_RELATIME | CAPSPAWN_MOUNT_NOATIME | CAPSPAWN_MOUNT_STRICTATIME)) {
    if (clr) *clr |= MOUNT_ATTR__ATIME;
    if (flags & CAPSPAWN_MOUNT_NOATIME) a |= MOUNT_ATTR_NOATIME;
    if (flags & CAPSPAWN_MOUNT_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  }
  return a;
}

std::string Label(const container::Mount& m) {
  std::string l = m.kind == CAPSPAWN_MOUNT_BIND ? "bind mount on "
                                                : std::string("mount ") + FsType(m.kind) + " on ";
  l += m.target;
  if (m.action_index != SIZE_MAX) l += " (action " + std::to_string(m.action_index) + ")";
  return l;
}

std::string PathLabel(const char* what, const container::PathAction& p) {
  return std::string(what) + " " + p.path + " (action " + std::to_string(p.action_index) + ")";
}

std::string Parent(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}
std::string Base(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

}  // namespace

container::Mount EntryAsMount(const Entry& e) {
  container::Mount m;
  m.target = e.path;
  m.action_index = e.action_index;
  switch (e.kind) {
    case EntryKind::kBind:
      m.kind = CAPSPAWN_MOUNT_BIND;
      m.flags = CAPSPAWN_MOUNT_RECURSIVE | (e.read_only ? CAPSPAWN_MOUNT_RDONLY : 0);
      m.source_fd = e.fd;
      break;
    case EntryKind::kProc:
      m.kind = CAPSPAWN_MOUNT_PROC;
      m.flags = CAPSPAWN_MOUNT_NOSUID | CAPSPAWN_MOUNT_NODEV | CAPSPAWN_MOUNT_NOEXEC;
      break;
    case EntryKind::kTmpfs:
    case EntryKind::kDevMinimal:
      m.kind = CAPSPAWN_MOUNT_TMPFS;
      m.flags = CAPSPAWN_MOUNT_NOSUID | (e.kind == EntryKind::kTmpfs ? CAPSPAWN_MOUNT_NODEV : 0);
      m.options = {{"mode", "0755", false}};
      break;
  }
  return m;
}

MountPlanner::MountPlanner(Plan* plan, std::vector<container::Mount> mounts,
                           std::vector<container::PathAction> devices,
                           const container::Config* config)
    : plan_(plan), mounts_(std::move(mounts)), devices_(std::move(devices)) {
  if (config) {
    devices_.insert(devices_.end(), config->devices.begin(), config->devices.end());
    masked_ = config->masked;
    read_only_ = config->read_only;
  }
}

int MountPlanner::OpenTree(const std::string& path, dev_t dev, ino_t ino, bool recursive,
                           const char* label) {
  Op op{OpKind::kOpenTree};
  op.a = plan_->NewSlot();
  op.path = plan_->Keep(path);
  op.dev = dev;
  op.ino = ino;
  op.recursive = recursive;
  op.label = label;
  op.step = "open_tree";
  plan_->ops.push_back(op);
  return op.a;
}

Status MountPlanner::Sources() {
  for (const container::Mount& m : mounts_) {
    Source s;
    if (m.kind == CAPSPAWN_MOUNT_BIND) {
      const std::string label = Label(m);
      struct stat st;
      if (fstat(m.source_fd, &st) != 0) {
        return Error::FromErrno(errno, label + ": fstat source fd " + std::to_string(m.source_fd));
      }
      Result<std::string> path = PathOfFdForBind(m.source_fd, label);
      if (!path.ok()) return path.error();
      s.is_dir = S_ISDIR(st.st_mode);
      s.slot = OpenTree(*path, st.st_dev, st.st_ino, (m.flags & CAPSPAWN_MOUNT_RECURSIVE) != 0,
                        plan_->Keep(label));
    }
    sources_.push_back(s);
  }
  for (const container::PathAction& d : devices_) {
    const char* label = plan_->Keep(PathLabel("devices in", d));
    std::vector<int> slots;
    for (const char* node : kDeviceNodes) {
      const std::string host = std::string("/dev/") + node;
      struct stat st;
      if (stat(host.c_str(), &st) != 0) {
        slots.push_back(-1);  // the caller has none: the child gets none either
        continue;
      }
      slots.push_back(OpenTree(host, st.st_dev, st.st_ino, false, label));
    }
    device_slots_.push_back(std::move(slots));
  }
  if (!masked_.empty()) {
    struct stat st;
    if (stat("/dev/null", &st) != 0) return Error::FromErrno(errno, "masked paths: stat /dev/null");
    dev_null_ = OpenTree("/dev/null", st.st_dev, st.st_ino, false, "masked paths");
  }
  return {};
}

void MountPlanner::MakePath(int root, const std::string& rel, bool last_is_file,
                            const char* label) {
  for (size_t i = 0; i <= rel.size(); ++i) {
    if (i != rel.size() && rel[i] != '/') continue;
    const std::string upto = rel.substr(0, i);
    Op op{i == rel.size() && last_is_file ? OpKind::kMkfileIn : OpKind::kMkdirIn};
    op.a = root;
    op.label = label;
    op.shown = plan_->Keep("/" + upto);
    if (op.kind == OpKind::kMkfileIn) {
      op.path = plan_->Keep(upto);
      op.step = "create mountpoint";
    } else {
      op.path = plan_->Keep(Parent(upto));
      op.name = plan_->Keep(Base(upto));
      op.step = "mkdir";
    }
    plan_->ops.push_back(op);
  }
}

int MountPlanner::OpenIn(int root, const std::string& rel, const char* label) {
  Op op{OpKind::kOpenIn};
  op.a = root;
  op.b = plan_->NewSlot();
  op.path = plan_->Keep(rel);
  op.shown = plan_->Keep("/" + rel);
  op.label = label;
  op.step = "open mountpoint";
  plan_->ops.push_back(op);
  return op.b;
}

void MountPlanner::Mounts(int root, bool create) {
  for (size_t i = 0; i < mounts_.size(); ++i) {
    const container::Mount& m = mounts_[i];
    const char* label = plan_->Keep(Label(m));
    const std::string rel = m.target.substr(1);
    const bool bind = m.kind == CAPSPAWN_MOUNT_BIND;
    if (create) MakePath(root, rel, bind && !sources_[i].is_dir, label);
    const int target = OpenIn(root, rel, label);
    uint64_t clr = 0;
    const uint64_t attr = Attr(m.flags, bind ? &clr : nullptr);
    Op op{bind ? OpKind::kBindTo : OpKind::kMountFs};
    op.b = target;
    op.label = label;
    op.shown = plan_->Keep(m.target);
    op.attr_set = attr;
    op.attr_clr = clr;
    if (bind) {
      op.a = sources_[i].slot;
      op.recursive = (m.flags & CAPSPAWN_MOUNT_RECURSIVE) != 0;
      op.step = "move_mount";
    } else {
      op.fstype = FsType(m.kind);
      std::vector<FsOpt> opts;
      for (const container::FsOption& o : m.options) {
        opts.push_back({plan_->Keep(o.key), o.flag ? nullptr : plan_->Keep(o.value)});
      }
      op.opt_count = opts.size();
      op.opts = plan_->KeepOpts(std::move(opts));
      op.step = "fsopen";
    }
    plan_->ops.push_back(op);
  }
  for (size_t d = 0; d < devices_.size(); ++d) {
    const char* label = plan_->Keep(PathLabel("devices in", devices_[d]));
    const std::string dir = devices_[d].path.substr(1);
    if (create) MakePath(root, dir, false, label);
    for (size_t n = 0; n < std::size(kDeviceNodes); ++n) {
      const int src = device_slots_[d][n];
      if (src < 0) continue;
      const std::string rel = dir + "/" + kDeviceNodes[n];
      if (create) MakePath(root, rel, true, label);
      Op op{OpKind::kBindTo};
      op.a = src;
      op.b = OpenIn(root, rel, label);
      op.recursive = false;
      op.label = label;
      op.shown = plan_->Keep("/" + rel);
      op.step = "move_mount";
      plan_->ops.push_back(op);
    }
    if (!create) continue;  // never a new name in the caller's own tree
    for (const auto& [name, link] : kDeviceLinks) {
      Op op{OpKind::kSymlinkIn};
      op.a = root;
      op.path = plan_->Keep(dir);
      op.name = name;
      op.link = link;
      op.label = label;
      op.shown = plan_->Keep("/" + dir + "/" + name);
      op.step = "symlink";
      plan_->ops.push_back(op);
    }
  }
}

void MountPlanner::AfterPivot() {
  for (const container::PathAction& p : masked_) {
    Op op{OpKind::kMask};
    op.a = dev_null_;
    op.path = plan_->Keep(p.path);
    op.label = plan_->Keep(PathLabel("mask", p));
    op.step = "open";
    plan_->ops.push_back(op);
  }
  for (const container::PathAction& p : read_only_) {
    Op op{OpKind::kReadOnlyPath};
    op.path = plan_->Keep(p.path);
    op.label = plan_->Keep(PathLabel("read-only path", p));
    op.step = "open_tree";
    plan_->ops.push_back(op);
  }
}

Result<std::unique_ptr<Plan>> PlanRootfs(const Entry& root, std::vector<container::Mount> mounts,
                                         std::vector<container::PathAction> devices,
                                         const container::Config* config) {
  auto plan = std::make_unique<Plan>();
  const char* staging = StagingDirectory();
  const std::string label_s = EntryLabel(root);
  const char* label = plan->Keep(label_s);
  if (!staging) {
    return Error(
        CAPSPAWN_ERR_NOT_SUPPORTED,
        label_s + ": no directory to stage the root on (none of /tmp /mnt /run /dev /proc)");
  }
  struct stat st;
  if (fstat(root.fd, &st) != 0) return Error::FromErrno(errno, label_s + ": fstat");
  if (!S_ISDIR(st.st_mode)) {
    return Error(CAPSPAWN_ERR_NOT_DIR,
                 label_s + ": fd " + std::to_string(root.fd) + " is not a directory");
  }
  Result<std::string> path = PathOfFdForBind(root.fd, label_s);
  if (!path.ok()) return path.error();

  MountPlanner mp(plan.get(), std::move(mounts), std::move(devices), config);
  // Every copy first: the root's, then the binds' and device nodes'.
  Op tree{OpKind::kOpenTree};
  tree.a = plan->NewSlot();
  tree.path = plan->Keep(*path);
  tree.dev = st.st_dev;
  tree.ino = st.st_ino;
  tree.label = label;
  tree.step = "open_tree";
  plan->ops.push_back(tree);
  if (Status s = mp.Sources(); !s.ok()) return s.error();

  Op cwd_root{OpKind::kOpenDir};
  cwd_root.a = plan->NewSlot();
  cwd_root.path = "/";
  cwd_root.label = label;
  cwd_root.step = "open";
  plan->ops.push_back(cwd_root);
  Op move{OpKind::kMove};
  move.a = cwd_root.a;
  move.b = tree.a;
  move.path = plan->Keep(std::string(staging).substr(1));
  move.label = label;
  move.step = "move_mount to";
  plan->ops.push_back(move);
  Op open{OpKind::kOpenDir};
  open.a = plan->NewSlot();
  open.path = staging;
  open.label = label;
  open.step = "open";
  plan->ops.push_back(open);
  const int r = open.a;

  mp.Mounts(r, true);
  if (root.read_only) {
    Op ro{OpKind::kReadOnly};
    ro.a = r;
    ro.path = "";
    ro.flag = false;  // the root mount only: OCI's root.readonly
    ro.label = label;
    ro.step = "mount_setattr(MOUNT_ATTR_RDONLY)";
    plan->ops.push_back(ro);
  }
  Op pivot{OpKind::kPivot};
  pivot.a = r;
  pivot.label = label;
  pivot.step = "pivot_root";
  plan->ops.push_back(pivot);
  mp.AfterPivot();
  return plan;
}

}  // namespace capspawn::ns
