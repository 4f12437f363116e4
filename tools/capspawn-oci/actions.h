// SPDX-License-Identifier: Apache-2.0
// A LaunchSpec as the library's spawn actions, each with the config field it
// came from (the library names a failing action by its index).
#ifndef CAPSPAWN_TOOLS_OCI_ACTIONS_H_
#define CAPSPAWN_TOOLS_OCI_ACTIONS_H_

#include <deque>
#include <string>
#include <vector>

#include <capspawn/spawn.h>

#include "plan.h"

namespace capspawn::oci {

struct ActionList {
  std::vector<capspawn_action_t> actions;
  std::vector<std::string> labels;  // labels[i]: what actions[i] stands for
  // What the actions point at (stable addresses while the list lives).
  std::deque<capspawn_mount_t> mounts;
  std::deque<capspawn_rlimit_t> rlimits;
  capspawn_capabilities_t capabilities{};
  std::string name;
};

// Builds the actions; the spec's fds are handed to them (consumed by the
// spawn call). `stdio[i]` becomes fd i when open.
void BuildActions(LaunchSpec& spec, const int stdio[3], ActionList* out);

// The library's message with "[action N is FIELD]" appended when it names one.
std::string Explain(const std::string& message, const ActionList& list);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_ACTIONS_H_
