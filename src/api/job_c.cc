// SPDX-License-Identifier: Apache-2.0
// The C API of jobs: thin wrappers over capspawn::Job that never take the caller's fd.
#include <capspawn/job.h>
#include <capspawn/spawn.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "api/barrier.h"
#include "base/c_error.h"
#include "job/cgroup_fs.h"

namespace {

using capspawn::Error;
using capspawn::Fail;
using capspawn::Job;
using capspawn::Result;
using capspawn::Status;
using capspawn::UniqueFd;

capspawn_status_t Done(const Status& s, char* err_msg_out) {
  if (s) {
    if (err_msg_out != nullptr) err_msg_out[0] = '\0';
    return CAPSPAWN_OK;
  }
  return Fail(s.error(), err_msg_out);
}

// A Job over a duplicate of the caller's fd, so the caller keeps its own.
Result<Job> Borrow(int job) {
  if (job < 0) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE, "job fd " + std::to_string(job) + " is invalid");
  }
  if (Status s = capspawn::job_internal::CheckCgroupDir(job); !s) return s.error();
  UniqueFd dup(fcntl(job, F_DUPFD_CLOEXEC, 3));
  if (!dup) {
    return Error(CAPSPAWN_ERR_NO_RESOURCES,
                 "dup job fd " + std::to_string(job) + ": " + strerror(errno));
  }
  return Job::FromFd(std::move(dup));
}

capspawn_status_t Hand(Result<Job> job, int* job_out, char* err_msg_out) {
  if (!job) return Fail(job.error(), err_msg_out);
  *job_out = job->release();
  if (err_msg_out != nullptr) err_msg_out[0] = '\0';
  return CAPSPAWN_OK;
}

Error NullOut(const char* what) {
  return Error(CAPSPAWN_ERR_INVALID_ARGS, std::string(what) + " is NULL");
}

}  // namespace

extern "C" {

capspawn_status_t capspawn_job_default(int* job_out, char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (job_out == nullptr) return Fail(NullOut("job_out"), err_msg_out);
    return Hand(Job::Default(), job_out, err_msg_out);
  });
}

capspawn_status_t capspawn_job_open(const char* path, int* job_out, char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (path == nullptr) return Fail(NullOut("path"), err_msg_out);
    if (job_out == nullptr) return Fail(NullOut("job_out"), err_msg_out);
    return Hand(Job::Open(path), job_out, err_msg_out);
  });
}

capspawn_status_t capspawn_job_create(int parent_job, const char* name, int* job_out,
                                      char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (job_out == nullptr) return Fail(NullOut("job_out"), err_msg_out);
    Result<Job> parent = Borrow(parent_job);
    if (!parent) return Fail(parent.error(), err_msg_out);
    if (name != nullptr && name[0] == '\0') {
      return Fail(Error(CAPSPAWN_ERR_INVALID_ARGS, "job name is empty (NULL picks one)"),
                  err_msg_out);
    }
    return Hand(parent->CreateChild(name == nullptr ? "" : name), job_out, err_msg_out);
  });
}

capspawn_status_t capspawn_job_open_child(int job, const char* name, int* job_out,
                                          char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (name == nullptr) return Fail(NullOut("name"), err_msg_out);
    if (job_out == nullptr) return Fail(NullOut("job_out"), err_msg_out);
    Result<Job> parent = Borrow(job);
    if (!parent) return Fail(parent.error(), err_msg_out);
    return Hand(parent->OpenChild(name), job_out, err_msg_out);
  });
}

capspawn_status_t capspawn_job_get_processes(int job, pid_t* pids, size_t capacity,
                                             size_t* actual_out, size_t* available_out,
                                             char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (pids == nullptr && capacity != 0) return Fail(NullOut("pids"), err_msg_out);
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    Result<std::vector<pid_t>> all = j->Processes();
    if (!all) return Fail(all.error(), err_msg_out);
    size_t n = all->size() < capacity ? all->size() : capacity;
    for (size_t i = 0; i < n; ++i) pids[i] = (*all)[i];
    if (actual_out != nullptr) *actual_out = n;
    if (available_out != nullptr) *available_out = all->size();
    return Done({}, err_msg_out);
  });
}

capspawn_status_t capspawn_job_get_children(int job, char* names, size_t capacity,
                                            size_t* actual_out, size_t* available_out,
                                            char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (names == nullptr && capacity != 0) return Fail(NullOut("names"), err_msg_out);
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    Result<std::vector<std::string>> all = j->Children();
    if (!all) return Fail(all.error(), err_msg_out);
    size_t used = 0, written = 0;
    for (const std::string& name : *all) {
      if (used + name.size() + 1 > capacity) break;
      memcpy(names + used, name.c_str(), name.size() + 1);
      used += name.size() + 1;
      ++written;
    }
    if (actual_out != nullptr) *actual_out = written;
    if (available_out != nullptr) *available_out = all->size();
    return Done({}, err_msg_out);
  });
}

capspawn_status_t capspawn_job_kill(int job, int64_t timeout_ns, char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    return Done(j->Kill(timeout_ns), err_msg_out);
  });
}

capspawn_status_t capspawn_job_freeze(int job, int64_t timeout_ns, char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    return Done(j->Freeze(timeout_ns), err_msg_out);
  });
}

capspawn_status_t capspawn_job_thaw(int job, char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    return Done(j->Thaw(), err_msg_out);
  });
}

capspawn_status_t capspawn_job_set_policy(int job, uint32_t condition, uint32_t action,
                                          char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (condition != CAPSPAWN_JOB_POL_NEW_PROCESS) {
      return Fail(Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                        "policy condition " + std::to_string(condition) +
                            ": only CAPSPAWN_JOB_POL_NEW_PROCESS exists on Linux"),
                  err_msg_out);
    }
    if (action != CAPSPAWN_JOB_POL_ACTION_ALLOW && action != CAPSPAWN_JOB_POL_ACTION_DENY) {
      return Fail(Error(CAPSPAWN_ERR_INVALID_ARGS,
                        "policy action " + std::to_string(action) + ": ALLOW (0) or DENY (1)"),
                  err_msg_out);
    }
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    return Done(j->SetNewProcessPolicy(action == CAPSPAWN_JOB_POL_ACTION_DENY
                                           ? capspawn::NewProcessPolicy::kDeny
                                           : capspawn::NewProcessPolicy::kAllow),
                err_msg_out);
  });
}

capspawn_status_t capspawn_job_get_policy(int job, uint32_t condition, uint32_t* action_out,
                                          char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (action_out == nullptr) return Fail(NullOut("action_out"), err_msg_out);
    if (condition != CAPSPAWN_JOB_POL_NEW_PROCESS) {
      return Fail(Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                        "policy condition " + std::to_string(condition) +
                            ": only CAPSPAWN_JOB_POL_NEW_PROCESS exists on Linux"),
                  err_msg_out);
    }
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    Result<capspawn::NewProcessPolicy> p = j->GetNewProcessPolicy();
    if (!p) return Fail(p.error(), err_msg_out);
    *action_out = *p == capspawn::NewProcessPolicy::kDeny ? CAPSPAWN_JOB_POL_ACTION_DENY
                                                          : CAPSPAWN_JOB_POL_ACTION_ALLOW;
    return Done({}, err_msg_out);
  });
}

capspawn_status_t capspawn_job_set_limit(int job, uint32_t limit, int64_t value,
                                         char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    if (limit < CAPSPAWN_JOB_LIMIT_MEMORY_MAX || limit > CAPSPAWN_JOB_LIMIT_CPU_WEIGHT) {
      return Fail(Error(CAPSPAWN_ERR_INVALID_ARGS, "unknown job limit " + std::to_string(limit)),
                  err_msg_out);
    }
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    return Done(j->SetLimit(static_cast<capspawn::JobLimit>(limit), value), err_msg_out);
  });
}

capspawn_status_t capspawn_job_destroy(int job, int64_t timeout_ns, char* err_msg_out) {
  return capspawn::api::Guard(err_msg_out, [&]() -> capspawn_status_t {
    Result<Job> j = Borrow(job);
    if (!j) return Fail(j.error(), err_msg_out);
    return Done(j->Destroy(timeout_ns), err_msg_out);
  });
}

}  // extern "C"
