// SPDX-License-Identifier: Apache-2.0
// linux.seccomp as the library's seccomp profile, compiled (libseccomp, in
// the library) into the BPF program CAPSPAWN_ACTION_SET_SECCOMP_FILTER installs.
#ifndef CAPSPAWN_TOOLS_OCI_SECCOMP_PROFILE_H_
#define CAPSPAWN_TOOLS_OCI_SECCOMP_PROFILE_H_

#include <vector>

#include <capspawn/result.h>
#include <capspawn/spawn.h>

#include "config.h"

namespace capspawn::oci {

// What the library cannot do (flags, a listener, SCMP_ACT_NOTIFY): NOT_SUPPORTED
// naming the field; names of unknown actions or operators: INVALID_ARGS.
Status CheckSeccomp(const Seccomp& s);
Result<std::vector<capspawn_sock_filter_t>> CompileSeccomp(const Seccomp& s);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_SECCOMP_PROFILE_H_
