// SPDX-License-Identifier: Apache-2.0
// Datagrams over AF_UNIX SOCK_SEQPACKET: one message per datagram, its fds in
// SCM_RIGHTS. Both sides use these; see docs/protocol.md.
#ifndef CAPSPAWN_SRC_PROTOCOL_WIRE_H_
#define CAPSPAWN_SRC_PROTOCOL_WIRE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "protocol/messages.h"

namespace capspawn::protocol {

// Connects to a launcher socket. PEER_CLOSED when nothing listens there
// (no such socket, connection refused), INVALID_ARGS for a path that does
// not fit a sockaddr_un.
Result<UniqueFd> Connect(const std::string& path);

// Sends one datagram. PEER_CLOSED when the peer has gone.
Status Send(int sock, const Outgoing& message);

// Sends datagrams in order, as few sendmmsg calls as the kernel allows.
// `*sent` (if given) counts the datagrams that left whole; on error the rest
// were not sent. Errors as Send; when the launcher closed the connection
// after a reply saying why (a refusal), that reply's error.
Status SendAll(int sock, std::span<const Outgoing> messages, size_t* sent = nullptr);

// Receives datagrams into a reusable, word-aligned buffer.
class Receiver {
 public:
  explicit Receiver(size_t capacity = kMaxDatagramBytes);
  // One datagram: true, or false at end of stream (the peer closed; with
  // MSG_DONTWAIT in `flags`, also when none is waiting). A datagram too
  // large for kMaxDatagramBytes is an error (INVALID_ARGS).
  Result<bool> Receive(int sock, int flags = 0);
  // The last datagram's fds could not all be received (MSG_CTRUNC): with
  // room for the most a datagram can carry (SCM_MAX_FD, 253), that means this
  // process is at its fd limit. Its bytes are kept, its fds closed.
  bool fds_truncated() const { return truncated_; }
  std::span<const uint8_t> bytes() const;
  // The datagram's fds (close-on-exec); moved out by the decoder.
  std::vector<UniqueFd> TakeFds() { return std::move(fds_); }

 private:
  std::vector<uint64_t> buffer_;
  size_t capacity_;
  size_t size_ = 0;
  bool truncated_ = false;
  std::vector<UniqueFd> fds_;
};

// Receives and decodes the reply to a request sent before; PEER_CLOSED if
// the launcher closed the connection instead.
Result<Reply> ReceiveReply(int sock);

// Send one request and receive its reply (Launch, CreateWithoutStarting, Resolve).
Result<Reply> Call(int sock, const Outgoing& request);

}  // namespace capspawn::protocol

#endif  // CAPSPAWN_SRC_PROTOCOL_WIRE_H_
