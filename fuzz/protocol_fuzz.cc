// libFuzzer target over the Launcher protocol's decoder (requests and
// replies). The first input byte is how many fds (0..15) arrive with the
// datagram; the rest is the datagram. Beyond "no crash, no sanitizer report":
// every fd is closed whatever the outcome (none leaks), an accepted request
// holds exactly the datagram's fds, and an accepted reply has a payload iff OK.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include <capspawn/fd.h>

#include "protocol/messages.h"

namespace {

namespace protocol = capspawn::protocol;

void Check(bool ok) {
  if (!ok) std::abort();
}

int OpenFds() {
  int n = 0;
  for (int fd = 0; fd < 256; ++fd) n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

std::vector<capspawn::UniqueFd> Fds(size_t n) {
  std::vector<capspawn::UniqueFd> v;
  for (size_t i = 0; i < n; ++i) v.emplace_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  return v;
}

size_t Count(const protocol::Request& r) {
  size_t n = 0;
  for (const auto& e : r.names) n += e.directory.valid();
  for (const auto& h : r.handles) n += h.handle.valid();
  n += r.info.executable.valid() + r.info.job.valid() + r.info.cwd.valid();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t nfds = data[0] & 0x0f;
  std::span<const uint8_t> bytes(data + 1, size - 1);
  const int before = OpenFds();
  {
    capspawn::Result<protocol::Request> r = protocol::DecodeRequest(bytes, Fds(nfds));
    if (r.ok()) {
      Check(Count(*r) == nfds);
    } else {
      Check(!r.error().message().empty());
    }
  }
  {
    capspawn::Result<protocol::Reply> r = protocol::DecodeReply(bytes, Fds(nfds));
    if (r.ok()) {
      Check((r->status == 0) == (r->payload != protocol::Reply::Payload::kNone));
      Check(r->message.size() < 1024);
    }
  }
  Check(OpenFds() == before);
  return 0;
}
