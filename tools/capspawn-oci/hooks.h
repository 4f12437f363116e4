// SPDX-License-Identifier: Apache-2.0
// OCI hooks that run in the runtime's namespace (prestart, createRuntime,
// poststart, poststop), each spawned through the library with the
// container's state JSON on its stdin, as the runtime spec says.
#ifndef CAPSPAWN_TOOLS_OCI_HOOKS_H_
#define CAPSPAWN_TOOLS_OCI_HOOKS_H_

#include <string>
#include <vector>

#include <capspawn/result.h>

#include "config.h"
#include "state.h"

namespace capspawn::oci {

std::vector<HookSpec> ToHookSpecs(const std::vector<Hook>& hooks);

// Runs `hooks` in order; the first failure (non-zero exit, a signal, the
// timeout) stops and is returned, naming "hooks.KIND[i]".
Status RunHooks(const char* kind, const std::vector<HookSpec>& hooks, const std::string& state);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_HOOKS_H_
