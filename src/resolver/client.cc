// SPDX-License-Identifier: Apache-2.0
#include "resolver/client.h"

#include <capspawn/spawn.h>

#include "protocol/messages.h"
#include "protocol/wire.h"

namespace capspawn::resolver {

Result<Resolution> SendResolve(int sock, std::string_view name) {
  if (name.size() > CAPSPAWN_MAX_RESOLVE_NAME_SIZE) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "resolve name of " + std::to_string(name.size()) +
                                                " bytes is longer than " +
                                                std::to_string(CAPSPAWN_MAX_RESOLVE_NAME_SIZE));
  }
  Result<protocol::Reply> reply = protocol::Call(sock, protocol::EncodeResolve(name));
  if (!reply.ok()) return reply.error();
  if (reply->status != CAPSPAWN_OK) {
    return Error(reply->status, reply->message.empty() ? std::string("the launcher gave no message")
                                                       : reply->message);
  }
  if (reply->payload != protocol::Reply::Payload::kResolved) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "the launcher answered Resolve with a reply of the wrong kind");
  }
  return Resolution{std::move(reply->executable), std::move(reply->loader)};
}

Result<Resolution> ResolveVia(const std::string& socket, const std::string& name) {
  Result<UniqueFd> sock = protocol::Connect(socket);
  if (!sock.ok()) return sock.error();
  return SendResolve(sock->get(), name);
}

}  // namespace capspawn::resolver
