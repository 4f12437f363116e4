// SPDX-License-Identifier: Apache-2.0
// The state capspawn stores with a job: an extended attribute on its cgroup directory,
// so it outlives the process that set it and is readable by anyone holding the job.
#ifndef CAPSPAWN_SRC_JOB_JOB_META_H_
#define CAPSPAWN_SRC_JOB_JOB_META_H_

#include <optional>
#include <string>
#include <string_view>

#include <capspawn/job.h>
#include <capspawn/result.h>

namespace capspawn::job_internal {

// user.* xattrs work on cgroupfs since Linux 5.7, for root and for the directory's owner
// (a delegatee owns the directories it creates); trusted.* would need CAP_SYS_ADMIN.
inline constexpr char kMetaXattr[] = "user.capspawn.job";

struct JobMeta {
  NewProcessPolicy new_process = NewProcessPolicy::kAllow;
  bool killed = false;
};

// "v1 new_process=deny killed".
std::string FormatMeta(const JobMeta& meta);
std::optional<JobMeta> ParseMeta(std::string_view text);

// The meta of the job `dir`; nullopt when `dir` is a plain cgroup (no attribute).
Result<std::optional<JobMeta>> ReadMeta(int dir);
Status WriteMeta(int dir, const JobMeta& meta);

}  // namespace capspawn::job_internal

#endif  // CAPSPAWN_SRC_JOB_JOB_META_H_
