// SPDX-License-Identifier: Apache-2.0
// The container's cgroup is a capspawn job (include/capspawn/job.h): made at
// create from linux.cgroupsPath (as runc reads it: absolute = below the cgroup2
// root, relative = below our own cgroup; empty = our cgroup + "/ID"), limited
// from linux.resources, killed and destroyed at delete.
#ifndef CAPSPAWN_TOOLS_OCI_CGROUP_H_
#define CAPSPAWN_TOOLS_OCI_CGROUP_H_

#include <string>
#include <vector>

#include <capspawn/job.h>
#include <capspawn/result.h>

#include "config.h"

namespace capspawn::oci {

struct JobSetup {
  capspawn::Job job;  // invalid: no job of its own (rootless without a delegated cgroup)
  std::string path;
  std::vector<std::string> made;  // parent cgroups created for it, shallow first
  std::string note;               // why there is no job, when there is none
};

Result<JobSetup> SetUpJob(const Config& cfg, const std::string& id, bool rootless);

// Removes the parents `made` (deepest first) that are empty; others stay.
void RemoveMadeCgroups(const std::vector<std::string>& made);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_CGROUP_H_
