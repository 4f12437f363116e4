// SPDX-License-Identifier: Apache-2.0
// The container operations the commands share: create (config -> job ->
// stopped init -> state), and destroy (kill, remove the job and its
// parents, poststop hooks, remove the state).
#ifndef CAPSPAWN_TOOLS_OCI_CONTAINER_H_
#define CAPSPAWN_TOOLS_OCI_CONTAINER_H_

#include <optional>
#include <string>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "commands.h"
#include "state.h"

namespace capspawn::oci {

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool foreground = false;  // `run` without --detach: the stdio stay ours
};

// What `run` keeps from its create to its start: the container's lock, and
// init's pidfd as the library returned it.
struct Held {
  Locked lock;
  UniqueFd init;
};

// Creates the container, stopped (status "created"). On failure nothing is
// left: no process, job, cgroup or state directory. With `held` (run), the
// lock and init's pidfd are handed to the caller instead of released and the
// state is not written: the caller starts the container under the same lock,
// and its write is the only one anybody can read (every reader locks first).
Result<State> CreateContainer(const Globals& g, const CreateOptions& o,
                              std::optional<Held>* held = nullptr);

// Starts a created container and runs its poststart hooks. `init` is the
// pidfd CreateContainer handed to `run`; -1 (`start`): the state's pid is
// opened with OpenInit and checked to be the created process, still stopped.
Status StartContainer(Locked& lock, State& s, int init = -1);

// Kills what is left of the container, destroys its job, runs poststop
// hooks (a failure is logged), and removes its state. `init`: as for
// StartContainer.
Status DestroyContainer(Locked& lock, const State& s, int init = -1);

// Opens the store at g.root and locks container `id`.
Result<Locked> LockContainer(const Globals& g, const std::string& id, State* s);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_CONTAINER_H_
