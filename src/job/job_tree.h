// SPDX-License-Identifier: Apache-2.0
// Walks over a job's cgroup subtree: every operation on a job covers its child jobs.
#ifndef CAPSPAWN_SRC_JOB_JOB_TREE_H_
#define CAPSPAWN_SRC_JOB_JOB_TREE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <capspawn/result.h>

namespace capspawn::job_internal {

// Appends the pids of every cgroup in the subtree of `dir` (including `dir`).
Status CollectProcs(int dir, std::vector<pid_t>* pids);

// Whether `dir` has child jobs: sub-cgroups other than a capspawn job's leaf.
Result<std::vector<std::string>> ChildJobNames(int dir);

// Marks every capspawn job of the subtree (including `dir`) killed.
Status MarkKilledTree(int dir);

// cgroup.kill on `dir`, then waits until the subtree is empty.
Status KillAndWait(int dir, int64_t deadline_ns);

// Removes the leaf of every capspawn job in the subtree, so a spawn racing with the kill
// fails (clone3 into a removed cgroup is ENODEV). A leaf that a racing spawn just
// entered is killed again. Stops at the deadline with TIMED_OUT.
Status RemoveLeavesTree(int dir, int64_t deadline_ns);

// Removes every sub-cgroup of `dir`, bottom-up (they must be empty).
Status RemoveSubtree(int dir);

// The name of `dir` inside `parent` (found by inode).
Result<std::string> NameInParent(int parent, int dir);

}  // namespace capspawn::job_internal

#endif  // CAPSPAWN_SRC_JOB_JOB_TREE_H_
