// SPDX-License-Identifier: Apache-2.0
// Turning `capspawn run`'s container options into capspawn_action_t values
// (the fds they open, the structs they point at).
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_CONTAINER_ACTIONS_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_CONTAINER_ACTIONS_H_

#include <deque>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/spawn.h>

#include "options.h"

namespace capspawn::cli {

// What the actions point at; lives until the spawn returns.
struct ContainerStorage {
  std::deque<capspawn_mount_t> mounts;
  std::deque<capspawn_rlimit_t> rlimits;
  std::deque<std::vector<capspawn_sock_filter_t>> filters;
  capspawn_capabilities_t caps{};
  std::vector<uint32_t> groups;
  std::deque<UniqueFd> join_fds;  // JOIN_NAMESPACE's namespaces (borrowed by the actions)
};

// Fills *act for a container option. Fds it opens go to *opened (the spawn
// consumes them). False with *status and *message on failure.
bool BuildContainerAction(const RunOptions& o, const ActionOption& a, ContainerStorage* storage,
                          capspawn_action_t* act, std::vector<int>* opened,
                          capspawn_status_t* status, std::string* message);

// The uid/gid maps capspawn adds for --uid/--gid as a non-root caller without
// --uid-map/--gid-map (the id maps to the caller, as bwrap does).
std::vector<capspawn_action_t> ImpliedIdMaps(const RunOptions& o);

}  // namespace capspawn::cli

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_CONTAINER_ACTIONS_H_
