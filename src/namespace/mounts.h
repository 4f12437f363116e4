// SPDX-License-Identifier: Apache-2.0
// The container actions' filesystem (ADD_MOUNT, ADD_DEVICES, MASK_PATH,
// READ_ONLY_PATH) and a root directory entry ("/"), planned as namespace
// operations. See docs/containers.md.
#ifndef CAPSPAWN_SRC_NAMESPACE_MOUNTS_H_
#define CAPSPAWN_SRC_NAMESPACE_MOUNTS_H_

#include <memory>
#include <string>
#include <vector>

#include <capspawn/result.h>

#include "namespace/container_config.h"
#include "namespace/namespace.h"

namespace capspawn::ns {

// Plans one namespace's container mounts in three parts: the copies of
// every bind source and device node (before anything is mounted, so no
// mount can hide one), the mounts on a root slot in action order (missing
// mountpoints made when `create`), and what runs in the final view after
// pivot_root (masked and read-only paths).
class MountPlanner {
 public:
  // `devices` may add to the config's (a DEV_MINIMAL entry on a root entry).
  MountPlanner(Plan* plan, std::vector<container::Mount> mounts,
               std::vector<container::PathAction> devices, const container::Config* config);

  Status Sources();
  void Mounts(int root, bool create);
  void AfterPivot();

 private:
  struct Source {
    int slot = -1;
    bool is_dir = true;
  };
  int OpenTree(const std::string& path, dev_t dev, ino_t ino, bool recursive, const char* label);
  void MakePath(int root, const std::string& rel, bool last_is_file, const char* label);
  int OpenIn(int root, const std::string& rel, const char* label);

  Plan* plan_;
  std::vector<container::Mount> mounts_;
  std::vector<container::PathAction> devices_, masked_, read_only_;
  std::vector<Source> sources_;                 // per mount
  std::vector<std::vector<int>> device_slots_;  // per devices entry, per node
  int dev_null_ = -1;                           // for masked files
};

// A root directory entry: its copy (recursive) becomes "/", the mounts go on
// top in action order, then devices, the root turns read-only if asked,
// pivot_root, then masked and read-only paths. `mounts` holds every entry
// turned into a mount (namespace entries and ADD_MOUNTs, in action order).
Result<std::unique_ptr<Plan>> PlanRootfs(const Entry& root, std::vector<container::Mount> mounts,
                                         std::vector<container::PathAction> devices,
                                         const container::Config* config);

// A namespace entry other than the root turned into a mount on a root entry.
container::Mount EntryAsMount(const Entry& entry);

}  // namespace capspawn::ns

#endif  // CAPSPAWN_SRC_NAMESPACE_MOUNTS_H_
