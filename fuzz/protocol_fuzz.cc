// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over the Launcher protocol: its decoder (requests and
// replies) and the daemon's handling of a decoded request (a worker's
// Connection, served in this process over a real connection to a socket of
// its own). Input: the first byte is how many fds (0..15) arrive with the
// datagram, the second picks their kinds two bits each in turn (/dev/null,
// a directory, the connection's own client end, a socketpair's end); the
// rest is the datagram. Beyond "no crash, no sanitizer report": every fd is
// closed whatever the outcome (none leaks, the connection's own end
// included, once its pending request is dropped), an accepted request holds
// exactly the datagram's fds, an accepted reply has a payload iff OK. No
// fd it sends is an executable, so nothing is ever launched.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include <capspawn/fd.h>

#include "client_facts.h"
#include "connection.h"
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace {

namespace protocol = capspawn::protocol;
namespace li = capspawn::launcher_internal;
using capspawn::UniqueFd;

void Check(bool ok) {
  if (!ok) std::abort();
}

int OpenFds() {
  int n = 0;
  for (int fd = 0; fd < 256; ++fd) n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

// A connection to a listening socket of this process, served by a worker's
// Connection (its client: this process).
struct Served {
  UniqueFd client;
  li::ServerOptions options;
  li::ClientFacts facts;
  std::unique_ptr<li::Connection> connection;
};

Served* GetServed() {
  static Served* s = [] {
    auto* served = new Served;
    UniqueFd listener(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    // Abstract: nothing on disk.
    std::snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "capspawn-fuzz-%d", getpid());
    const socklen_t len = sizeof(sa_family_t) + 1 + std::strlen(addr.sun_path + 1);
    Check(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
    Check(listen(listener.get(), 1) == 0);
    served->client.reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    Check(connect(served->client.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
    UniqueFd server(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    Check(server.valid());
    capspawn::Result<li::ClientFacts> facts = li::GatherClientFacts(server.get());
    Check(facts.ok());
    served->facts = std::move(facts.value());
    served->options.quiet = true;
    li::ConnectionSetup setup;
    setup.options = &served->options;
    setup.client = &served->facts;
    setup.context.package_roots = &served->options.roots;
    setup.context.interpreter_paths_allowed = false;
    served->connection = std::make_unique<li::Connection>(std::move(server), std::move(setup));
    return served;
  }();
  return s;
}

std::vector<UniqueFd> Fds(size_t n, uint8_t kinds, int own_end) {
  std::vector<UniqueFd> v;
  for (size_t i = 0; i < n; ++i) {
    switch ((kinds >> (2 * (i % 4))) & 3) {
      case 0:
        v.emplace_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
        break;
      case 1:
        v.emplace_back(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        break;
      case 2:
        v.emplace_back(fcntl(own_end, F_DUPFD_CLOEXEC, 3));
        break;
      default: {
        int sv[2];
        Check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
        v.emplace_back(sv[0]);
        close(sv[1]);
      }
    }
  }
  return v;
}

size_t Count(const protocol::Request& r) {
  size_t n = 0;
  for (const auto& e : r.names) n += e.directory.valid();
  for (const auto& h : r.handles) n += h.handle.valid();
  n += r.info.executable.valid() + r.info.job.valid() + r.info.cwd.valid();
  return n;
}

// Whatever the served connection replied, read and closed.
void Drain(int sock) {
  protocol::Receiver r(8192);
  for (;;) {
    capspawn::Result<bool> got = r.Receive(sock, MSG_DONTWAIT);
    if (!got.ok() || !*got) return;
    (void)r.TakeFds();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Served* served = GetServed();
  const size_t nfds = data[0] & 0x0f;
  const uint8_t kinds = data[1];
  std::span<const uint8_t> bytes(data + 2, size - 2);
  const int own = served->client.get();
  const int before = OpenFds();
  {
    capspawn::Result<protocol::Request> r = protocol::DecodeRequest(bytes, Fds(nfds, kinds, own));
    if (r.ok()) {
      Check(Count(*r) == nfds);
    } else {
      Check(!r.error().message().empty());
    }
  }
  {
    capspawn::Result<protocol::Reply> r = protocol::DecodeReply(bytes, Fds(nfds, kinds, own));
    if (r.ok()) {
      Check((r->status == 0) == (r->payload != protocol::Reply::Payload::kNone));
      Check(r->message.size() < 1024);
    }
  }
  Check(OpenFds() == before);
  // The daemon's side: a bad request ends the connection, which a fuzzer
  // reuses (it holds no state beyond the pending request, dropped here).
  (void)served->connection->Handle(bytes, Fds(nfds, kinds, own), (data[0] & 0x80) != 0);
  served->connection->DropPending();
  Drain(own);
  Check(OpenFds() == before);
  return 0;
}
