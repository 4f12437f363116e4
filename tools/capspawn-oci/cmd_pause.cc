// SPDX-License-Identifier: Apache-2.0
// capspawn-oci pause ID / resume ID: the job's freeze and thaw.
#include <capspawn/job.h>

#include "commands.h"
#include "container.h"
#include "log.h"

namespace capspawn::oci {
namespace {

int PauseOrResume(const Globals& g, int argc, char** argv, bool pause) {
  const char* name = pause ? "pause" : "resume";
  if (argc != 2 || argv[1][0] == '-')
    return UsageError(name, std::string("usage: ") + name + " ID");
  State s;
  Result<Locked> lock = LockContainer(g, argv[1], &s);
  if (!lock.ok()) return Fail(lock.error());
  ContainerStatus status = CurrentStatus(s);
  ContainerStatus want = pause ? ContainerStatus::kRunning : ContainerStatus::kPaused;
  if (status != want) {
    return Fail(Error(CAPSPAWN_ERR_BAD_STATE, std::string("cannot ") + name + " container '" +
                                                  s.id + "': it is " + StatusName(status)));
  }
  if (s.job.empty()) {
    return Fail(Error(CAPSPAWN_ERR_NOT_SUPPORTED, std::string(name) + " container '" + s.id +
                                                      "': it has no cgroup of its own to freeze"));
  }
  Result<capspawn::Job> job = capspawn::Job::Open(s.job);
  if (!job.ok()) return Fail(job.error().Context(std::string(name) + ": the container's job"));
  Status st = pause ? job->Freeze(10'000'000'000) : job->Thaw();
  if (!st.ok()) return Fail(st.error().Context(std::string(name) + " container '" + s.id + "'"));
  return 0;
}

}  // namespace

int CmdPause(const Globals& g, int argc, char** argv) { return PauseOrResume(g, argc, argv, true); }
int CmdResume(const Globals& g, int argc, char** argv) {
  return PauseOrResume(g, argc, argv, false);
}

}  // namespace capspawn::oci
