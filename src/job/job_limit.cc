// SPDX-License-Identifier: Apache-2.0
// Job::SetLimit: memory, pids and cpu limits, where the controller reaches the job.
#include <capspawn/job.h>

#include <cctype>

#include "job/cgroup_fs.h"
#include "job/job_meta.h"

namespace capspawn {
namespace {

using job_internal::FdPath;
using job_internal::JobMeta;

// "a b c" from a control file's text, or "none".
std::string Words(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) {
      if (!out.empty()) out += ' ';
      out.append(text.substr(i, j - i));
    }
    i = j;
  }
  return out.empty() ? "none" : out;
}

// Makes `controller` available to the children of `dir`, enabling it up the chain of
// capspawn jobs (which hold no processes themselves, so cgroup v2 lets them). Plain
// cgroups (the default job...) are never changed.
Status EnableForChildren(int dir, const std::string& controller) {
  Result<std::string> subtree = job_internal::ReadControl(dir, "cgroup.subtree_control");
  if (!subtree) return subtree.error();
  if (job_internal::HasWord(*subtree, controller)) return {};
  const std::string path = FdPath(dir);
  Result<std::optional<JobMeta>> meta = job_internal::ReadMeta(dir);
  if (!meta) return meta.error();
  if (!meta->has_value()) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "the " + controller + " controller is not enabled in " + path +
                     "/cgroup.subtree_control (enabled there: " + Words(*subtree) +
                     "); capspawn does not change cgroups it did not create: " +
                     "whoever owns it runs `echo +" + controller + " > " + path +
                     "/cgroup.subtree_control`");
  }
  Result<std::string> available = job_internal::ReadControl(dir, "cgroup.controllers");
  if (!available) return available.error();
  if (!job_internal::HasWord(*available, controller)) {
    Result<UniqueFd> parent = job_internal::OpenParent(dir);
    if (!parent) return parent.error();
    if (!parent->valid()) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "the " + controller + " controller does not exist in this cgroup2 hierarchy");
    }
    if (Status s = EnableForChildren(parent->get(), controller); !s) return s;
  }
  return job_internal::WriteControl(dir, "cgroup.subtree_control", "+" + controller);
}

}  // namespace

Status Job::SetLimit(JobLimit limit, int64_t value) const {
  const int fd = fd_.get();
  if (Status s = job_internal::CheckCgroupDir(fd); !s) return s;
  Result<std::optional<JobMeta>> meta = job_internal::ReadMeta(fd);
  if (!meta) return meta.error();
  if (meta->has_value() && (*meta)->killed) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "set a limit of " + FdPath(fd) + ": the job was killed");
  }
  std::string controller, file, text;
  const bool unlimited = value == CAPSPAWN_JOB_UNLIMITED;
  if (value < 0 && !unlimited) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "limit value " + std::to_string(value) + " (use CAPSPAWN_JOB_UNLIMITED)");
  }
  switch (limit) {
    case JobLimit::kMemoryMax:
      controller = "memory", file = "memory.max";
      text = unlimited ? "max" : std::to_string(value);
      break;
    case JobLimit::kPidsMax:
      controller = "pids", file = "pids.max";
      text = unlimited ? "max" : std::to_string(value);
      break;
    case JobLimit::kCpuMax:
      controller = "cpu", file = "cpu.max";
      // Thousandths of a CPU over a 100 ms period; the kernel's minimum quota is 1 ms.
      if (!unlimited && (value < 10 || value > 1000000)) {
        return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                     "cpu limit " + std::to_string(value) +
                         " (thousandths of a CPU) must be between 10 and 1000000");
      }
      text = unlimited ? "max 100000" : std::to_string(value * 100) + " 100000";
      break;
    case JobLimit::kCpuWeight:
      // A weight is not a limit: "unlimited" is the default weight, 100.
      controller = "cpu", file = "cpu.weight";
      if (!unlimited && (value < 1 || value > 10000)) {
        return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                     "cpu weight " + std::to_string(value) + " must be between 1 and 10000");
      }
      text = std::to_string(unlimited ? 100 : value);
      break;
    default:
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "unknown job limit " + std::to_string(static_cast<int>(limit)));
  }
  Result<std::string> available = job_internal::ReadControl(fd, "cgroup.controllers");
  if (!available) return available.error();
  if (!job_internal::HasWord(*available, controller)) {
    Result<UniqueFd> parent = job_internal::OpenParent(fd);
    if (!parent) return parent.error();
    if (!parent->valid()) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "limit " + file + " of " + FdPath(fd) + ": the root cgroup cannot be limited");
    }
    if (Status s = EnableForChildren(parent->get(), controller); !s) {
      return s.error().Context("limit " + file + " of " + FdPath(fd));
    }
  }
  return job_internal::WriteControl(fd, file.c_str(), text);
}

}  // namespace capspawn
