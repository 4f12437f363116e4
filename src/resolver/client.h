// SPDX-License-Identifier: Apache-2.0
// The client of a Resolver: a name resolved by the Resolver of the launcher
// daemon at a socket (for #!resolve and LauncherClient/Resolver::Resolve).
#ifndef CAPSPAWN_SRC_RESOLVER_CLIENT_H_
#define CAPSPAWN_SRC_RESOLVER_CLIENT_H_

#include <string>
#include <string_view>

#include <capspawn/result.h>

#include "resolver/resolver.h"

namespace capspawn::resolver {

// Resolves `name` over the connected socket `sock`.
Result<Resolution> SendResolve(int sock, std::string_view name);

// Connects to `socket` and resolves `name`.
Result<Resolution> ResolveVia(const std::string& socket, const std::string& name);

}  // namespace capspawn::resolver

#endif  // CAPSPAWN_SRC_RESOLVER_CLIENT_H_
