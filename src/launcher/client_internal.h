// SPDX-License-Identifier: Apache-2.0
// The launcher client's building blocks, over borrowed data: what
// LauncherClient and the capspawn_spawn* translation share.
#ifndef CAPSPAWN_SRC_LAUNCHER_CLIENT_INTERNAL_H_
#define CAPSPAWN_SRC_LAUNCHER_CLIENT_INTERNAL_H_

#include <capspawn/spawn.h>
#include <capspawn/start.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <capspawn/launcher.h>
#include <capspawn/process.h>
#include <capspawn/result.h>

#include "base/launcher_env.h"
#include "protocol/messages.h"
#include "resolver/resolver.h"

namespace capspawn::launcher_internal {

// A request's datagrams, all encoded before any is sent (then one sendmmsg).
// Chunked: as many datagrams as the fd and byte limits need; an item that
// fits no datagram is INVALID_ARGS and adds nothing.
Status AppendStrings(std::vector<protocol::Outgoing>* batch, protocol::RequestKind kind,
                     std::span<const std::string_view> strings);
Status AppendNames(std::vector<protocol::Outgoing>* batch,
                   std::span<const protocol::NameRef> names);
Status AppendHandles(std::vector<protocol::Outgoing>* batch,
                     std::span<const protocol::HandleRef> handles);
// A Launch reply (or the failure to get one) as its Process; a
// CreateWithoutStarting reply as its start data.
Result<Process> ProcessFromReply(Result<protocol::Reply> reply);
Result<ProcessStartData> StartDataFromReply(Result<protocol::Reply> reply);

// The same, sent at once.
Status SendStrings(int sock, protocol::RequestKind kind, std::span<const std::string_view> strings);
Status SendNames(int sock, std::span<const protocol::NameRef> names);
Status SendHandles(int sock, std::span<const protocol::HandleRef> handles);
Result<Process> SendLaunch(int sock, const protocol::LaunchRef& info);
Result<ProcessStartData> SendCreateWithoutStarting(int sock, const protocol::LaunchRef& info);

// capspawn_spawn_etc (vmo false: `path`) or capspawn_spawn_vmo (vmo true:
// `executable_fd`, always consumed) through the
// launcher at `socket`: flags and actions are turned into the protocol's
// explicit arguments, environment, names and handles here, in the client.
capspawn_status_t SpawnViaLauncher(const char* socket, int job, uint32_t flags, bool vmo,
                                   const char* path, int executable_fd, const char* const* argv,
                                   const char* const* environ, size_t action_count,
                                   const capspawn_action_t* actions, int* process_out,
                                   char* err_msg_out);
// capspawn_create_without_starting through the launcher at `socket`
// (CreateWithoutStarting): the same translation; `executable_fd` (or -1
// with `path`) is consumed. Fills *data_out on success.
capspawn_status_t CreateViaLauncher(const char* socket, int job, uint32_t flags, const char* path,
                                    int executable_fd, const char* const* argv,
                                    const char* const* environ, size_t action_count,
                                    const capspawn_action_t* actions,
                                    capspawn_start_data_t* data_out, char* err_msg_out);
}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_SRC_LAUNCHER_CLIENT_INTERNAL_H_
