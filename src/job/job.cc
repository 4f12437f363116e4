// SPDX-License-Identifier: Apache-2.0
// capspawn::Job: the C++ job object. See docs/jobs.md for the layout.
#include <capspawn/job.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "job/cgroup_fs.h"
#include "job/job_meta.h"
#include "job/job_tree.h"

namespace capspawn {
namespace {

using job_internal::CgroupError;
using job_internal::FdPath;
using job_internal::JobMeta;

constexpr size_t kMaxNameLength = 64;

Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "job name \"" + std::string(name) + "\" must have 1 to 64 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "job name \"" + std::string(name) + "\" may only contain [A-Za-z0-9_-]");
    }
  }
  if (name == job_internal::kLeafName) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "job name \"procs\" is reserved: it holds a job's own processes");
  }
  return {};
}

// The meta of a capspawn job; WRONG_TYPE for a plain cgroup.
Result<JobMeta> RequireJob(int fd, std::string_view action) {
  Result<std::optional<JobMeta>> meta = job_internal::ReadMeta(fd);
  if (!meta) return meta.error();
  if (!meta->has_value()) {
    return Error(CAPSPAWN_ERR_WRONG_TYPE,
                 std::string(action) + " " + FdPath(fd) +
                     ": a plain cgroup, not a job created by capspawn (create a child job)");
  }
  return **meta;
}

Status RequireAlive(int fd, std::string_view action) {
  Result<std::optional<JobMeta>> meta = job_internal::ReadMeta(fd);
  if (!meta) return meta.error();
  if (meta->has_value() && (*meta)->killed) {
    return Error(CAPSPAWN_ERR_BAD_STATE,
                 std::string(action) + " " + FdPath(fd) + ": the job was killed");
  }
  return {};
}

std::string MakeName() {
  static std::atomic<uint64_t> counter{0};
  return "job-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

Result<Job> Job::FromFd(UniqueFd fd) {
  if (Status s = job_internal::CheckCgroupDir(fd.get()); !s) return s.error();
  return Job(std::move(fd));
}

Result<Job> Job::Default() {
  Result<std::string> dir = job_internal::OwnCgroupDir();
  if (!dir) return dir.error();
  return Open(*dir);
}

Result<Job> Job::Open(const std::string& path) {
  Result<UniqueFd> fd = job_internal::OpenCgroupDir(path);
  if (!fd) return fd.error();
  return Job(std::move(*fd));
}

Result<std::string> Job::Path() const {
  if (Status s = job_internal::CheckCgroupDir(fd_.get()); !s) return s.error();
  return FdPath(fd_.get());
}

Result<Job> Job::CreateChild(std::string_view name) const {
  const int parent = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(parent); !s) return s.error();
  Result<std::optional<JobMeta>> parent_meta = job_internal::ReadMeta(parent);
  if (!parent_meta) return parent_meta.error();
  JobMeta meta;
  if (parent_meta->has_value()) {
    if ((*parent_meta)->killed) {
      return Error(CAPSPAWN_ERR_BAD_STATE,
                   "create a child job in " + FdPath(parent) + ": the job was killed");
    }
    meta.new_process = (*parent_meta)->new_process;  // inherited
  }
  if (!name.empty()) {
    if (Status s = CheckName(name); !s) return s.error();
  }
  std::string chosen;
  for (int attempt = 0;; ++attempt) {
    chosen = name.empty() ? MakeName() : std::string(name);
    if (mkdirat(parent, chosen.c_str(), 0755) == 0) break;
    int err = errno;
    if (err == EEXIST && name.empty() && attempt < 100) continue;
    return CgroupError(err, "create job", FdPath(parent) + "/" + chosen);
  }
  // From here on a failure removes what was made: nothing half-created survives.
  UniqueFd child(openat(parent, chosen.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto undo = [&](Error e) -> Result<Job> {
    if (child) unlinkat(child.get(), job_internal::kLeafName, AT_REMOVEDIR);
    unlinkat(parent, chosen.c_str(), AT_REMOVEDIR);
    return e;
  };
  if (!child) return undo(CgroupError(errno, "open new job", FdPath(parent) + "/" + chosen));
  if (Status s = job_internal::WriteMeta(child.get(), meta); !s) return undo(s.error());
  if (mkdirat(child.get(), job_internal::kLeafName, 0755) != 0) {
    return undo(CgroupError(errno, "create", FdPath(child.get()) + "/" + job_internal::kLeafName));
  }
  return Job(std::move(child));
}

Result<Job> Job::OpenChild(std::string_view name) const {
  if (Status s = job_internal::CheckCgroupDir(fd_.get()); !s) return s.error();
  if (Status s = CheckName(name); !s) return s.error();
  UniqueFd child(openat(fd_.get(), std::string(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!child) {
    if (errno == ENOENT) {
      return Error(CAPSPAWN_ERR_NOT_FOUND,
                   "job " + FdPath(fd_.get()) + " has no child job \"" + std::string(name) + "\"");
    }
    return CgroupError(errno, "open child job", FdPath(fd_.get()) + "/" + std::string(name));
  }
  return Job(std::move(child));
}

Result<std::vector<pid_t>> Job::Processes() const {
  if (Status s = job_internal::CheckCgroupDir(fd_.get()); !s) return s.error();
  std::vector<pid_t> pids;
  if (Status s = job_internal::CollectProcs(fd_.get(), &pids); !s) return s.error();
  return pids;
}

Result<std::vector<std::string>> Job::Children() const {
  if (Status s = job_internal::CheckCgroupDir(fd_.get()); !s) return s.error();
  return job_internal::ChildJobNames(fd_.get());
}

Result<JobInfo> Job::Info() const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s.error();
  JobInfo info;
  info.path = FdPath(fd);
  Result<std::optional<JobMeta>> meta = job_internal::ReadMeta(fd);
  if (!meta) return meta.error();
  if (meta->has_value()) {
    info.is_capspawn_job = true;
    info.killed = (*meta)->killed;
    info.new_process = (*meta)->new_process;
  }
  Result<std::string> events = job_internal::ReadControl(fd, "cgroup.events");
  if (events) {
    info.populated = job_internal::EventValue(*events, "populated") == 1;
    info.frozen = job_internal::EventValue(*events, "frozen") == 1;
  } else if (events.status() == CAPSPAWN_ERR_NOT_SUPPORTED) {
    // The root cgroup has no cgroup.events; it is never frozen.
    Result<std::vector<pid_t>> pids = Processes();
    if (!pids) return pids.error();
    info.populated = !pids->empty();
  } else {
    return events.error();
  }
  return info;
}

Status Job::Kill(int64_t timeout_ns) const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s;
  const int64_t deadline = job_internal::DeadlineFromTimeout(timeout_ns);
  // Kill first: if that is refused, nothing changed. A spawn that slips in before the
  // mark is caught when the leaves are removed.
  if (Status s = job_internal::KillAndWait(fd, deadline); !s) return s;
  if (Status s = job_internal::MarkKilledTree(fd); !s) return s;
  return job_internal::RemoveLeavesTree(fd, deadline);
}

Status Job::Freeze(int64_t timeout_ns) const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s;
  if (Status s = RequireAlive(fd, "freeze"); !s) return s;
  if (Status s = job_internal::WriteControl(fd, "cgroup.freeze", "1"); !s) return s;
  return job_internal::WaitEvent(fd, "frozen", 1, timeout_ns);
}

Status Job::Thaw() const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s;
  return job_internal::WriteControl(fd, "cgroup.freeze", "0");
}

Status Job::SetNewProcessPolicy(NewProcessPolicy policy) const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s;
  Result<JobMeta> meta = RequireJob(fd, "set the policy of");
  if (!meta) return meta.error();
  const std::string path = FdPath(fd);
  if (meta->killed)
    return Error(CAPSPAWN_ERR_BAD_STATE, "set the policy of " + path + ": the job was killed");
  if (meta->new_process == policy) return {};
  if (policy == NewProcessPolicy::kAllow) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 "set new-process policy ALLOW on " + path +
                     ": the job's policy is DENY (set on it or inherited) and policies only "
                     "get stricter");
  }
  // As on Fuchsia: a policy applies to what is created after it, so it must be set
  // before the job has processes (they would escape the filter) or child jobs.
  Result<std::vector<std::string>> children = job_internal::ChildJobNames(fd);
  if (!children) return children.error();
  std::vector<pid_t> pids;
  if (Status s = job_internal::CollectProcs(fd, &pids); !s) return s;
  if (!children->empty() || !pids.empty()) {
    return Error(CAPSPAWN_ERR_BAD_STATE,
                 "set the policy of " + path + ": the job already has " +
                     std::to_string(pids.size()) + " process(es) and " +
                     std::to_string(children->size()) +
                     " child job(s); set the policy before spawning or creating child jobs");
  }
  JobMeta updated = *meta;
  updated.new_process = policy;
  return job_internal::WriteMeta(fd, updated);
}

Result<NewProcessPolicy> Job::GetNewProcessPolicy() const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s.error();
  Result<std::optional<JobMeta>> meta = job_internal::ReadMeta(fd);
  if (!meta) return meta.error();
  return meta->has_value() ? (*meta)->new_process : NewProcessPolicy::kAllow;
}

Status Job::Destroy(int64_t timeout_ns) const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s;
  Result<JobMeta> meta = RequireJob(fd, "destroy");
  if (!meta) return meta.error();
  const int64_t deadline = job_internal::DeadlineFromTimeout(timeout_ns);
  Result<UniqueFd> parent = job_internal::OpenParent(fd);
  if (!parent) return parent.error();
  if (!parent->valid()) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "destroy " + FdPath(fd) + ": the top of the hierarchy");
  }
  Result<std::string> name = job_internal::NameInParent(parent->get(), fd);
  if (!name) return name.error();
  if (Status s = job_internal::KillAndWait(fd, deadline); !s) return s;
  if (Status s = job_internal::MarkKilledTree(fd); !s) return s;
  for (;;) {
    if (Status s = job_internal::RemoveLeavesTree(fd, deadline); !s) return s;
    if (Status s = job_internal::RemoveSubtree(fd); !s) return s;
    if (unlinkat(parent->get(), name->c_str(), AT_REMOVEDIR) == 0) return {};
    if (errno != EBUSY) return CgroupError(errno, "remove job", FdPath(fd));
    // Something entered the tree after the kill: kill again.
    if (Status s = job_internal::KillAndWait(fd, deadline); !s) return s;
  }
}

}  // namespace capspawn
