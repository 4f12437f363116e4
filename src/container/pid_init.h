// SPDX-License-Identifier: Apache-2.0
// The pid-1 init (CAPSPAWN_NEW_NS_PID_INIT): the embedded program (pid1.c)
// copied into a sealed memfd, which the spawn child executes as pid 1 of the
// new pid namespace once the program exists (engine::LaunchPlan::init_fd).
#ifndef CAPSPAWN_SRC_CONTAINER_PID_INIT_H_
#define CAPSPAWN_SRC_CONTAINER_PID_INIT_H_

#include <string>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::container {

// A close-on-exec memfd holding the init, sealed against any change, for
// one spawn. `label` names the action in a failure.
Result<UniqueFd> PidInitExecutable(const std::string& label);

}  // namespace capspawn::container

#endif  // CAPSPAWN_SRC_CONTAINER_PID_INIT_H_
