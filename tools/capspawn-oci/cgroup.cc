// SPDX-License-Identifier: Apache-2.0
// Job set-up: the cgroup path, its parents, the job, its limits.
#include "cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "devices.h"
#include "util.h"

namespace capspawn::oci {
namespace {

// Our own cgroup's path below the cgroup2 mount ("/user.slice/x"), from /proc/self/cgroup.
Result<std::string> OwnCgroupRelative() {
  std::string text;
  if (Status st = ReadSmallFile("/proc/self/cgroup", &text); !st.ok()) return st.error();
  size_t at = text.find("0::");
  if (at == std::string::npos || (at != 0 && text[at - 1] != '\n')) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED, "no cgroup v2 line in /proc/self/cgroup");
  }
  size_t end = text.find('\n', at);
  return text.substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
}

bool ValidJobName(const std::string& n) {
  return !n.empty() && n.size() <= 64 && n != "procs" &&
         n.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
             std::string::npos;
}

Status ApplyLimits(const capspawn::Job& job, const Resources& r) {
  auto set = [&](capspawn::JobLimit l, int64_t v, const char* field) -> Status {
    Status st = job.SetLimit(l, v < 0 ? CAPSPAWN_JOB_UNLIMITED : v);
    if (!st.ok()) return st.error().Context("config.json: " + std::string(field));
    return {};
  };
  if (r.memory_limit) {
    if (Status st =
            set(capspawn::JobLimit::kMemoryMax, *r.memory_limit, "linux.resources.memory.limit");
        !st.ok()) {
      return st;
    }
  }
  if (r.pids_limit) {
    // runc: 0 and -1 both mean no limit.
    int64_t v = *r.pids_limit <= 0 ? -1 : *r.pids_limit;
    if (Status st = set(capspawn::JobLimit::kPidsMax, v, "linux.resources.pids.limit"); !st.ok()) {
      return st;
    }
  }
  // runc's conversion of v1 shares to a v2 weight: 2..262144 onto 1..10000,
  // so 1024 shares are weight 39, and a Kubernetes pod sandbox's 2 shares
  // weight 1. 0 means "not set". Where the cpu controller cannot reach the
  // job, 1024 (v1's default, what containerd's default spec asks) is
  // accepted with nothing set; any other value is NOT_SUPPORTED.
  if (r.cpu_shares && *r.cpu_shares != 0) {
    int64_t weight = static_cast<int64_t>(1 + ((*r.cpu_shares - 2) * 9999) / 262142);
    Status st = set(capspawn::JobLimit::kCpuWeight, weight, "linux.resources.cpu.shares");
    if (!st.ok() && !(*r.cpu_shares == 1024 && st.status() == CAPSPAWN_ERR_NOT_SUPPORTED)) {
      return st;
    }
  }
  if (r.cpu_quota && *r.cpu_quota != 0) {
    int64_t v = -1;
    if (*r.cpu_quota > 0) {
      uint64_t period = r.cpu_period.value_or(100000);
      v = static_cast<int64_t>(static_cast<uint64_t>(*r.cpu_quota) * 1000 / period);
    }
    if (Status st = set(capspawn::JobLimit::kCpuMax, v, "linux.resources.cpu.quota"); !st.ok()) {
      return st;
    }
  }
  return {};
}

}  // namespace

Result<JobSetup> SetUpJob(const Config& cfg, const std::string& id, bool rootless) {
  const std::string& cp = cfg.linux.cgroups_path;
  if (cp.find(':') != std::string::npos) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "config.json: linux.cgroupsPath: '" + cp +
                     "' is systemd's slice:prefix:name form; systemd cgroups are not supported");
  }
  Result<capspawn::Job> own = capspawn::Job::Default();
  if (!own.ok()) return own.error().Context("the container's cgroup");
  Result<std::string> own_path = own->Path();
  if (!own_path.ok()) return own_path.error();
  Result<std::string> own_rel = OwnCgroupRelative();
  if (!own_rel.ok()) return own_rel.error();
  std::string mount_root = *own_path;
  if (*own_rel != "/") mount_root = own_path->substr(0, own_path->size() - own_rel->size());

  std::string wanted;  // absolute below the cgroup2 mount
  if (cp.empty()) {
    wanted = (*own_rel == "/" ? "" : *own_rel) + "/" + id;
  } else {
    std::optional<std::string> n =
        NormaliseAbsolute(cp[0] == '/' ? cp : (*own_rel == "/" ? "" : *own_rel) + "/" + cp);
    if (!n || *n == "/") {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "config.json: linux.cgroupsPath: '" + cp + "' leaves the cgroup tree");
    }
    wanted = *n;
  }
  size_t slash = wanted.rfind('/');
  std::string name = wanted.substr(slash + 1);
  std::string parent_rel = wanted.substr(0, slash);
  if (!ValidJobName(name)) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 std::string("config.json: ") +
                     (cp.empty() ? "the container id" : "linux.cgroupsPath") +
                     ": the cgroup name '" + name +
                     "' is not a capspawn job name ([A-Za-z0-9_-], at most 64 bytes, not 'procs')");
  }

  JobSetup out;
  // Parents: made as plain cgroups when missing, and remembered.
  std::string cur = mount_root;
  size_t i = 1;
  while (i <= parent_rel.size()) {
    size_t j = parent_rel.find('/', i);
    if (j == std::string::npos) j = parent_rel.size();
    cur += "/" + parent_rel.substr(i, j - i);
    if (mkdir(cur.c_str(), 0755) == 0) {
      out.made.push_back(cur);
    } else if (errno != EEXIST) {
      int err = errno;
      RemoveMadeCgroups(out.made);
      if (rootless && (err == EACCES || err == EPERM || err == EROFS) && cp.empty() &&
          !cfg.linux.resources) {
        out.note = "no cgroup of its own (mkdir " + cur + ": " + strerror(err) + ")";
        return out;
      }
      return Error::FromErrno(err, "the container's cgroup: mkdir " + cur);
    }
    i = j + 1;
  }
  Result<capspawn::Job> parent = capspawn::Job::Open(mount_root + parent_rel);
  Result<capspawn::Job> job =
      parent.ok() ? parent->CreateChild(name) : Result<capspawn::Job>(parent.error());
  if (!job.ok()) {
    RemoveMadeCgroups(out.made);
    if (rootless && job.status() == CAPSPAWN_ERR_ACCESS_DENIED && cp.empty() &&
        !cfg.linux.resources) {
      out.made.clear();
      out.note = "no cgroup of its own (" + job.error().message() + ")";
      return out;
    }
    return job.error().Context("the container's cgroup " + mount_root + wanted);
  }
  out.path = mount_root + wanted;
  out.job = std::move(job.value());
  if (cfg.linux.resources) {
    Status st = ApplyLimits(out.job, *cfg.linux.resources);
    // Rootless, the rules are not enforced (loading a device program needs
    // CAP_BPF or CAP_SYS_ADMIN): in a user namespace no device node can be
    // made, and the container has only the default devices, bound.
    if (st.ok() && !rootless && !cfg.linux.resources->devices.empty()) {
      st = AttachDeviceRules(out.path, WithDefaultDevices(cfg.linux.resources->devices));
    }
    if (!st.ok()) {
      (void)out.job.Destroy();
      RemoveMadeCgroups(out.made);
      return st.error();
    }
  }
  return out;
}

void RemoveMadeCgroups(const std::vector<std::string>& made) {
  for (auto it = made.rbegin(); it != made.rend(); ++it) rmdir(it->c_str());
}

}  // namespace capspawn::oci
