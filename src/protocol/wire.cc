// SPDX-License-Identifier: Apache-2.0
#include "protocol/wire.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "base/status.h"

namespace capspawn::protocol {

Result<UniqueFd> Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "launcher socket path '" + path + "' does not fit a sockaddr_un");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
  // A datagram must fit the send buffer whole; the default (wmem_default,
  // often 208 KiB) is close to kMaxDatagramBytes. The kernel caps this at
  // wmem_max (no error) and doubles it.
  int sndbuf = static_cast<int>(2 * kMaxDatagramBytes);
  setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  int r;
  do {
    r = connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    int err = errno;
    std::string what = "connect to the launcher at " + path + ": " + std::strerror(err);
    if (err == ENOENT || err == ECONNREFUSED || err == ENOTSOCK || err == EPROTOTYPE) {
      return Error(CAPSPAWN_ERR_PEER_CLOSED, what + " (is capspawn-launcherd running?)");
    }
    return Error(StatusFromErrno(err), what);
  }
  return sock;
}

namespace {

Error SendError(int err) {
  if (err == EPIPE || err == ECONNRESET || err == ENOTCONN) {
    return Error(CAPSPAWN_ERR_PEER_CLOSED,
                 std::string("send to the launcher: ") + std::strerror(err));
  }
  if (err == EBADF) return Error(CAPSPAWN_ERR_BAD_HANDLE, "sendmsg: an fd to pass is not open");
  return Error::FromErrno(err, "sendmsg");
}

// A send failed because the launcher closed the connection: it may have
// said why first, in a reply left in our queue (a refusal before serving,
// a request left unfinished too long). That reply's error, if there is one.
Error ClosedError(int sock, int err) {
  Receiver receiver(8192);
  Result<bool> got = receiver.Receive(sock, MSG_DONTWAIT);
  if (got.ok() && *got && !receiver.fds_truncated()) {
    Result<Reply> reply = DecodeReply(receiver.bytes(), receiver.TakeFds());
    if (reply.ok() && reply->status != CAPSPAWN_OK) return Error(reply->status, reply->message);
  }
  return SendError(err);
}

}  // namespace

Status Send(int sock, const Outgoing& message) {
  return SendAll(sock, std::span<const Outgoing>(&message, 1));
}

Status SendAll(int sock, std::span<const Outgoing> messages, size_t* sent) {
  if (sent) *sent = 0;
  for (const Outgoing& m : messages) {
    if (m.fds.size() > kMaxFdsPerDatagram) {
      return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                   std::to_string(m.fds.size()) + " fds do not fit one datagram (at most 253)");
    }
  }
  std::vector<mmsghdr> headers(messages.size());
  std::vector<iovec> iovs(messages.size());
  size_t control_bytes = 0;
  for (const Outgoing& m : messages) {
    if (!m.fds.empty()) control_bytes += CMSG_SPACE(sizeof(int) * m.fds.size());
  }
  std::vector<uint64_t> control(control_bytes / sizeof(uint64_t) + 1);  // cmsghdr-aligned
  char* next = reinterpret_cast<char*>(control.data());
  for (size_t i = 0; i < messages.size(); ++i) {
    const Outgoing& m = messages[i];
    iovs[i] = {const_cast<uint8_t*>(m.bytes.data()), m.bytes.size()};
    msghdr& msg = headers[i].msg_hdr;
    msg = msghdr{};
    msg.msg_iov = &iovs[i];
    msg.msg_iovlen = 1;
    if (m.fds.empty()) continue;
    const size_t len = sizeof(int) * m.fds.size();
    msg.msg_control = next;
    msg.msg_controllen = CMSG_SPACE(len);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(len);
    std::memcpy(CMSG_DATA(c), m.fds.data(), len);
    next += CMSG_SPACE(len);
  }
  size_t done = 0;
  while (done < headers.size()) {
    int n = sendmmsg(sock, headers.data() + done, static_cast<unsigned>(headers.size() - done),
                     MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) return ClosedError(sock, errno);
      return SendError(errno);
    }
    done += static_cast<size_t>(n);
    if (sent) *sent = done;
  }
  return {};
}

Receiver::Receiver(size_t capacity)
    : buffer_(capacity / sizeof(uint64_t) + 1), capacity_(capacity) {}

std::span<const uint8_t> Receiver::bytes() const {
  return {reinterpret_cast<const uint8_t*>(buffer_.data()), size_};
}

Result<bool> Receiver::Receive(int sock, int flags) {
  fds_.clear();
  size_ = 0;
  truncated_ = false;
  iovec iov{buffer_.data(), buffer_.size() * sizeof(uint64_t)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerDatagram)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  bool reset = false;
  for (;;) {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
    if (n < 0 && errno == EINTR) continue;
    // The peer closed with our data unread: the error comes first, what it
    // sent before closing may still be queued behind it.
    if (n < 0 && errno == ECONNRESET && !reset) {
      reset = true;
      flags |= MSG_DONTWAIT;
      continue;
    }
    break;
  }
  if (n < 0) {
    if (errno == ECONNRESET || errno == EAGAIN) return false;
    return Error::FromErrno(errno, "recvmsg");
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds_.emplace_back(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    fds_.clear();
    truncated_ = true;
  }
  if ((msg.msg_flags & MSG_TRUNC) || static_cast<size_t>(n) > capacity_) {
    fds_.clear();
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "a datagram is larger than " + std::to_string(capacity_) + " bytes");
  }
  if (n == 0 && fds_.empty() && !truncated_) return false;
  size_ = static_cast<size_t>(n);
  return true;
}

Result<Reply> Call(int sock, const Outgoing& request) {
  Status sent = Send(sock, request);
  if (!sent.ok()) return sent.error();
  return ReceiveReply(sock);
}

Result<Reply> ReceiveReply(int sock) {
  // Replies are small: a message of at most 1 KiB and a few fields.
  Receiver receiver(8192);
  Result<bool> got = receiver.Receive(sock);
  if (!got.ok()) return got.error();
  if (*got && receiver.fds_truncated()) {
    return Error(CAPSPAWN_ERR_NO_RESOURCES,
                 "the launcher's reply carried fds this process could not receive: it is at "
                 "its fd limit (RLIMIT_NOFILE)");
  }
  if (!*got) {
    return Error(CAPSPAWN_ERR_PEER_CLOSED,
                 "the launcher closed the connection without replying (it rejects malformed "
                 "requests by closing; see its log)");
  }
  return DecodeReply(receiver.bytes(), receiver.TakeFds());
}

}  // namespace capspawn::protocol
