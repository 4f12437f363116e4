// SPDX-License-Identifier: Apache-2.0
#include "job/job_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "job/cgroup_fs.h"
#include "job/job_meta.h"

namespace capspawn::job_internal {
namespace {

Result<UniqueFd> OpenSub(int dir, const std::string& name) {
  UniqueFd fd(openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return CgroupError(errno, "open", FdPath(dir) + "/" + name);
  return fd;
}

// Calls fn(sub_fd) for each sub-cgroup of dir, stopping at the first error.
template <typename Fn>
Status ForEachSub(int dir, Fn fn) {
  Result<std::vector<std::string>> subs = SubCgroups(dir);
  if (!subs) return subs.error();
  for (const std::string& name : *subs) {
    Result<UniqueFd> sub = OpenSub(dir, name);
    if (!sub) {
      // Removed concurrently (a racing destroy): nothing left to do there.
      if (sub.status() == CAPSPAWN_ERR_BAD_STATE) continue;
      return sub.error();
    }
    if (Status s = fn(name, sub->get()); !s) return s;
  }
  return {};
}

bool IsJob(int dir) {
  Result<std::optional<JobMeta>> meta = ReadMeta(dir);
  return meta && meta->has_value();
}

}  // namespace

Status CollectProcs(int dir, std::vector<pid_t>* pids) {
  Result<std::vector<pid_t>> own = ProcsOf(dir);
  if (!own) return own.error();
  pids->insert(pids->end(), own->begin(), own->end());
  return ForEachSub(dir, [pids](const std::string&, int sub) { return CollectProcs(sub, pids); });
}

Result<std::vector<std::string>> ChildJobNames(int dir) {
  Result<std::vector<std::string>> subs = SubCgroups(dir);
  if (!subs) return subs.error();
  if (!IsJob(dir)) return subs;
  std::vector<std::string> out;
  for (std::string& name : *subs) {
    if (name != kLeafName) out.push_back(std::move(name));
  }
  return out;
}

Status MarkKilledTree(int dir) {
  Result<std::optional<JobMeta>> meta = ReadMeta(dir);
  if (!meta) return meta.error();
  if (meta->has_value() && !(*meta)->killed) {
    JobMeta m = **meta;
    m.killed = true;
    if (Status s = WriteMeta(dir, m); !s) return s;
  }
  return ForEachSub(dir, [](const std::string& name, int sub) -> Status {
    if (name == kLeafName) return {};
    return MarkKilledTree(sub);
  });
}

Status KillAndWait(int dir, int64_t deadline_ns) {
  if (Status s = WriteControl(dir, "cgroup.kill", "1"); !s) return s;
  int ms = PollMillisLeft(deadline_ns);
  int64_t timeout = ms < 0 ? -1 : static_cast<int64_t>(ms) * 1000000;
  return WaitEvent(dir, "populated", 0, timeout);
}

namespace {

Status RemoveLeaves(int top, int dir, int64_t deadline_ns) {
  if (IsJob(dir)) {
    for (;;) {
      if (unlinkat(dir, kLeafName, AT_REMOVEDIR) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) {
        return CgroupError(errno, "remove", FdPath(dir) + "/" + kLeafName);
      }
      // A spawn got into the leaf after the kill: kill again.
      if (Status s = KillAndWait(top, deadline_ns); !s) return s;
    }
  }
  return ForEachSub(dir, [top, deadline_ns](const std::string&, int sub) {
    return RemoveLeaves(top, sub, deadline_ns);
  });
}

}  // namespace

Status RemoveLeavesTree(int dir, int64_t deadline_ns) {
  return RemoveLeaves(dir, dir, deadline_ns);
}

Status RemoveSubtree(int dir) {
  return ForEachSub(dir, [dir](const std::string& name, int sub) -> Status {
    if (Status s = RemoveSubtree(sub); !s) return s;
    if (unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return CgroupError(errno, "remove", FdPath(dir) + "/" + name);
    }
    return {};
  });
}

Result<std::string> NameInParent(int parent, int dir) {
  struct stat self;
  if (fstat(dir, &self) != 0) return CgroupError(errno, "fstat", FdPath(dir));
  int copy = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return CgroupError(errno, "open", FdPath(parent));
  DIR* d = fdopendir(copy);
  if (d == nullptr) {
    int err = errno;
    close(copy);
    return CgroupError(err, "opendir", FdPath(parent));
  }
  std::string found;
  while (struct dirent* e = readdir(d)) {
    if (e->d_type != DT_DIR || e->d_ino != self.st_ino) continue;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    found = e->d_name;
    break;
  }
  closedir(d);
  if (found.empty()) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "job " + FdPath(dir) + " is no longer in its parent " +
                                             FdPath(parent) + " (destroyed)");
  }
  return found;
}

}  // namespace capspawn::job_internal
