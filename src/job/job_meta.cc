// SPDX-License-Identifier: Apache-2.0
#include "job/job_meta.h"

#include <sys/xattr.h>

#include <cerrno>
#include <cstring>

#include "job/cgroup_fs.h"

namespace capspawn::job_internal {

std::string FormatMeta(const JobMeta& meta) {
  std::string s = "v1 new_process=";
  s += meta.new_process == NewProcessPolicy::kDeny ? "deny" : "allow";
  if (meta.killed) s += " killed";
  return s;
}

std::optional<JobMeta> ParseMeta(std::string_view text) {
  if (!HasWord(text, "v1")) return std::nullopt;
  JobMeta meta;
  if (HasWord(text, "new_process=deny")) {
    meta.new_process = NewProcessPolicy::kDeny;
  } else if (!HasWord(text, "new_process=allow")) {
    return std::nullopt;
  }
  meta.killed = HasWord(text, "killed");
  return meta;
}

Result<std::optional<JobMeta>> ReadMeta(int dir) {
  char buf[128];
  ssize_t n = fgetxattr(dir, kMetaXattr, buf, sizeof buf);
  if (n < 0) {
    // ENODATA: a plain cgroup. EOPNOTSUPP: a kernel without user xattrs on cgroupfs can
    // hold no capspawn job either.
    if (errno == ENODATA || errno == EOPNOTSUPP) return std::optional<JobMeta>();
    return CgroupError(errno, std::string("read attribute ") + kMetaXattr + " of", FdPath(dir));
  }
  std::optional<JobMeta> meta = ParseMeta(std::string_view(buf, static_cast<size_t>(n)));
  if (!meta) {
    return Error(CAPSPAWN_ERR_IO_DATA_INTEGRITY,
                 std::string("attribute ") + kMetaXattr + " of " + FdPath(dir) +
                     " is malformed: \"" + std::string(buf, static_cast<size_t>(n)) + "\"");
  }
  return meta;
}

Status WriteMeta(int dir, const JobMeta& meta) {
  const std::string value = FormatMeta(meta);
  if (fsetxattr(dir, kMetaXattr, value.data(), value.size(), 0) != 0) {
    if (errno == EOPNOTSUPP) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "set attribute " + std::string(kMetaXattr) + " on " + FdPath(dir) +
                       ": cgroupfs does not support user.* extended attributes here (Linux "
                       ">= 5.7 needed); capspawn stores a job's policy and state there");
    }
    return CgroupError(errno, std::string("set attribute ") + kMetaXattr + " on", FdPath(dir));
  }
  return {};
}

}  // namespace capspawn::job_internal
