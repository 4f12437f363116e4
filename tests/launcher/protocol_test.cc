// SPDX-License-Identifier: Apache-2.0
// The wire protocol as untrusted input: the decoder's rules one by one, then
// the same abuse sent to a live daemon, which must close only that connection.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <capspawn/launcher.h>

#include "daemon_fixture.h"
#include "protocol/launcher.capnp.h"
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace capspawn_test {
namespace {

namespace protocol = capspawn::protocol;
using capspawn::LauncherClient;
using capspawn::LaunchHandleInfo;
using capspawn::LaunchInfo;
using capspawn::Process;
using capspawn::Result;
using protocol::RequestKind;

std::vector<UniqueFd> DevNulls(size_t n) {
  std::vector<UniqueFd> v;
  for (size_t i = 0; i < n; ++i) v.emplace_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  return v;
}

protocol::Outgoing HandlesMessage(size_t n) {
  std::vector<protocol::HandleRef> refs;
  for (size_t i = 0; i < n; ++i) refs.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, i), 100});
  return protocol::EncodeHandles(refs);
}

Result<protocol::Request> Decode(const protocol::Outgoing& m, size_t fds) {
  return protocol::DecodeRequest(m.bytes, DevNulls(fds));
}

// A Request with its union's discriminant (the first 16 bits of its data
// section, after the segment table and the root pointer) set to `which`.
std::vector<uint8_t> WithDiscriminant(std::vector<uint8_t> bytes, uint16_t which) {
  std::memcpy(bytes.data() + 16, &which, sizeof which);
  return bytes;
}

TEST(ProtocolDecode, EveryKindRoundTrips) {
  std::vector<std::string_view> args = {"a", std::string_view("b\0c", 3), ""};
  Result<protocol::Request> r = Decode(protocol::EncodeStrings(RequestKind::kAddArgs, args), 0);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->kind, RequestKind::kAddArgs);
  EXPECT_EQ(r->strings.Copy(), (std::vector<std::string>{"a", std::string("b\0c", 3), ""}));

  r = Decode(protocol::EncodeStrings(RequestKind::kAddEnvirons, args), 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RequestKind::kAddEnvirons);

  std::vector<protocol::NameRef> names = {{"/a", 5}, {"/b", 6}};
  r = Decode(protocol::EncodeNames(names), 2);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->names.size(), 2u);
  EXPECT_EQ(r->names[1].path, "/b");
  EXPECT_TRUE(r->names[1].directory.valid());

  r = Decode(HandlesMessage(3), 3);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->handles.size(), 3u);
  EXPECT_EQ(r->handles[2].id, CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 2));
  EXPECT_EQ(r->handles[2].name, "");

  std::vector<protocol::HandleRef> named = {{CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), 100, "http"}};
  r = Decode(protocol::EncodeHandles(named), 1);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->handles[0].name, "http");

  std::string name = "n";
  protocol::LaunchRef info{.executable = 9, .job = 8, .name = &name, .default_loader = true};
  r = Decode(protocol::EncodeLaunch(RequestKind::kLaunch, info), 2);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->kind, RequestKind::kLaunch);
  EXPECT_TRUE(r->info.executable.valid());
  EXPECT_TRUE(r->info.job.valid());
  EXPECT_FALSE(r->info.cwd.valid());
  EXPECT_EQ(r->info.name, "n");
  EXPECT_TRUE(r->info.default_loader);

  r = Decode(protocol::EncodeLaunch(RequestKind::kCreateWithoutStarting, {.executable = 3}), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RequestKind::kCreateWithoutStarting);
  EXPECT_FALSE(r->info.name.has_value());

  r = Decode(protocol::EncodeResolve("pkg/bin"), 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resolve_name, "pkg/bin");

  r = Decode(protocol::EncodeSetOptions(0x81), 0);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->kind, RequestKind::kSetOptions);
  EXPECT_EQ(r->options, 0x81u);
}

TEST(ProtocolDecode, UnknownKindIsRejected) {
  protocol::Outgoing m = protocol::EncodeResolve("x");
  for (uint16_t which : {8, 9, 99, 0xffff}) {
    Result<protocol::Request> r = protocol::DecodeRequest(WithDiscriminant(m.bytes, which), {});
    ASSERT_FALSE(r.ok()) << which;
    EXPECT_EQ(r.status(), CAPSPAWN_ERR_NOT_SUPPORTED) << r.error().message();
  }
  // The patch itself is sound: 6 is Resolve.
  EXPECT_TRUE(protocol::DecodeRequest(WithDiscriminant(m.bytes, 6), {}).ok());
}

TEST(ProtocolDecode, EveryTruncationIsRejected) {
  std::vector<std::string_view> args(50, "argument");
  protocol::Outgoing m = protocol::EncodeStrings(RequestKind::kAddArgs, args);
  for (size_t n = 0; n < m.bytes.size(); ++n) {
    Result<protocol::Request> r =
        protocol::DecodeRequest(std::span<const uint8_t>(m.bytes.data(), n), {});
    EXPECT_FALSE(r.ok()) << n;
  }
}

TEST(ProtocolDecode, TrailingBytesAreRejected) {
  protocol::Outgoing m = protocol::EncodeResolve("x");
  m.bytes.resize(m.bytes.size() + 8, 0);
  EXPECT_EQ(protocol::DecodeRequest(m.bytes, {}).status(), CAPSPAWN_ERR_INVALID_ARGS);
}

TEST(ProtocolDecode, FdCountMustMatchTheIndices) {
  int before = CountOpenFds();
  // More fds than indices.
  Result<protocol::Request> r = Decode(HandlesMessage(2), 3);
  EXPECT_EQ(r.status(), CAPSPAWN_ERR_INVALID_ARGS);
  // Fewer: an index out of range.
  r = Decode(HandlesMessage(3), 2);
  EXPECT_EQ(r.status(), CAPSPAWN_ERR_INVALID_ARGS);
  // Fds with a message that names none.
  r = Decode(protocol::EncodeResolve("x"), 1);
  EXPECT_EQ(r.status(), CAPSPAWN_ERR_INVALID_ARGS);
  // Every fd of a rejected message is closed.
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(ProtocolDecode, AnIndexNamedTwiceIsRejected) {
  capnp::MallocMessageBuilder message;
  auto list = message.initRoot<protocol::wire::Request>().initAddHandles(2);
  list[0].setHandle(0);
  list[1].setHandle(0);
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  std::vector<uint8_t> bytes(flat.asBytes().begin(), flat.asBytes().end());
  Result<protocol::Request> r = protocol::DecodeRequest(bytes, DevNulls(2));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("twice"), std::string::npos) << r.error().message();
}

TEST(ProtocolDecode, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  protocol::Outgoing m = HandlesMessage(4);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b = m.bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    (void)protocol::DecodeRequest(b, DevNulls(rng() % 6));
  }
}

TEST(ProtocolDecode, ReplyPayloadIsPresentIffOk) {
  protocol::Outgoing ok = protocol::EncodeProcessReply(100);
  Result<protocol::Reply> r = protocol::DecodeReply(ok.bytes, DevNulls(1));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->process.valid());
  protocol::Outgoing err = protocol::EncodeErrorReply(CAPSPAWN_ERR_NOT_FOUND, "gone");
  r = protocol::DecodeReply(err.bytes, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, CAPSPAWN_ERR_NOT_FOUND);
  EXPECT_EQ(r->message, "gone");
  // OK without a payload, an error with one: both malformed.
  capnp::MallocMessageBuilder a;
  a.initRoot<protocol::wire::Reply>().setStatus(CAPSPAWN_OK);
  kj::Array<capnp::word> fa = capnp::messageToFlatArray(a);
  EXPECT_EQ(protocol::DecodeReply({fa.asBytes().begin(), fa.asBytes().size()}, {}).status(),
            CAPSPAWN_ERR_INVALID_ARGS);
  capnp::MallocMessageBuilder b;
  auto rb = b.initRoot<protocol::wire::Reply>();
  rb.setStatus(CAPSPAWN_ERR_INTERNAL);
  rb.setProcess(0);
  kj::Array<capnp::word> fb = capnp::messageToFlatArray(b);
  EXPECT_EQ(
      protocol::DecodeReply({fb.asBytes().begin(), fb.asBytes().size()}, DevNulls(1)).status(),
      CAPSPAWN_ERR_INVALID_ARGS);
}

// --- Against a live daemon ---------------------------------------------------

// A raw connection: sends one datagram, then tells whether the daemon closed it.
class Raw {
 public:
  explicit Raw(const std::string& socket) {
    Result<UniqueFd> s = protocol::Connect(socket);
    EXPECT_TRUE(s.ok());
    if (s.ok()) fd_ = std::move(s.value());
  }
  bool Send(const std::vector<uint8_t>& bytes, const std::vector<int>& fds = {}) {
    return protocol::Send(fd_.get(), protocol::Outgoing{bytes, fds}).ok();
  }
  // True when the daemon closed the connection (EOF within the timeout).
  bool Closed(int timeout_ms = 10000) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    char c;
    return recv(fd_.get(), &c, 1, MSG_DONTWAIT) == 0;
  }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

// After any abuse: a fresh client still launches.
void ExpectServes(LauncherTest* t, const std::string& socket) {
  Result<LauncherClient> c = LauncherClient::Connect(socket);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->AddArgs({ChildPath(), "--report-fd", "-1", "--exit", "5"}).ok());
  t->AddRootIfDynamic(*c);
  LaunchInfo info;
  info.executable.reset(open(ChildPath(), O_RDONLY | O_CLOEXEC));
  Result<Process> p = c->Launch(std::move(info));
  ASSERT_TRUE(p.ok()) << p.error().message();
  Result<int64_t> rc = p->Wait();
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(*rc, 5);
}

TEST_F(LauncherTest, GarbageClosesOnlyThatConnection) {
  // A client in the middle of a launch, before and after the abuse.
  LauncherClient waiting = Connect();
  ASSERT_TRUE(waiting.AddArgs({ChildPath(), "--report-fd", "-1", "--exit", "9"}).ok());
  AddRootIfDynamic(waiting);
  std::mt19937 rng(7);
  std::vector<std::vector<uint8_t>> abuse;
  abuse.push_back(std::vector<uint8_t>(64, 0xff));                            // garbage
  abuse.push_back(std::vector<uint8_t>(13, 0));                               // not whole words
  abuse.push_back(WithDiscriminant(protocol::EncodeResolve("x").bytes, 42));  // unknown kind
  std::vector<uint8_t> cut = HandlesMessage(3).bytes;
  cut.resize(cut.size() - 8);
  abuse.push_back(cut);  // truncated
  std::vector<uint8_t> random(4096);
  for (uint8_t& b : random) b = static_cast<uint8_t>(rng());
  abuse.push_back(random);
  for (const std::vector<uint8_t>& bytes : abuse) {
    Raw raw(daemon_.socket());
    ASSERT_TRUE(raw.Send(bytes));
    EXPECT_TRUE(raw.Closed());
  }
  {
    // More fds than indices, over the wire.
    Raw raw(daemon_.socket());
    std::vector<UniqueFd> fds = DevNulls(3);
    ASSERT_TRUE(raw.Send(HandlesMessage(2).bytes, {fds[0].get(), fds[1].get(), fds[2].get()}));
    EXPECT_TRUE(raw.Closed());
  }
  {
    // A datagram larger than the daemon reads.
    Raw raw(daemon_.socket());
    int size = 4 << 20;
    setsockopt(raw.fd(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    std::vector<uint8_t> big(protocol::kMaxDatagramBytes + 64, 0);
    if (raw.Send(big)) EXPECT_TRUE(raw.Closed());
  }
  ExpectServes(this, daemon_.socket());
  LaunchInfo info;
  info.executable = ChildExecutable();
  Result<Process> p = waiting.Launch(std::move(info));
  ASSERT_TRUE(p.ok()) << p.error().message();
  Result<int64_t> rc = p->Wait();
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(*rc, 9);
}

TEST_F(LauncherTest, DisconnectMidRequestHurtsNoOne) {
  for (int i = 0; i < 20; ++i) {
    LauncherClient c = Connect();
    ASSERT_TRUE(c.AddArgs({"a", "b"}).ok());
    std::vector<LaunchHandleInfo> h;
    h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3), UniqueFd(open("/dev/null", O_RDONLY))});
    ASSERT_TRUE(c.AddHandles(std::move(h)).ok());
    // Gone before Launch.
  }
  {
    // Gone right after sending Launch, before the reply.
    Result<UniqueFd> s = protocol::Connect(daemon_.socket());
    ASSERT_TRUE(s.ok());
    std::vector<std::string_view> args = {ChildPath(), "--report-fd", "-1"};
    ASSERT_TRUE(
        protocol::Send(s->get(), protocol::EncodeStrings(RequestKind::kAddArgs, args)).ok());
    UniqueFd exe = ChildExecutable();
    ASSERT_TRUE(protocol::Send(s->get(), protocol::EncodeLaunch(RequestKind::kLaunch,
                                                                {.executable = exe.get()}))
                    .ok());
  }
  ExpectServes(this, daemon_.socket());
}

TEST_F(LauncherTest, TenThousandArguments) {
  LauncherClient c = Connect();
  Strings args;
  for (int i = 0; i < 10000; ++i) args.push_back("argument-" + std::to_string(i));
  ChildRun run = RunThroughLauncher(c, args);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  ASSERT_EQ(run.report.argc, 10001);
  EXPECT_EQ(run.report.argv[10000], "argument-9999");
}

TEST_F(LauncherTest, AThousandHandles) {
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < 2200) GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << rl.rlim_max;
  rlimit raised = rl;
  raised.rlim_cur = std::max<rlim_t>(rl.rlim_cur, 2200);
  setrlimit(RLIMIT_NOFILE, &raised);
  LauncherClient c = Connect();
  std::vector<LaunchHandleInfo> handles;
  for (int i = 0; i < 1000; ++i) {
    handles.push_back(
        {CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3 + i), UniqueFd(open("/dev/null", O_RDONLY))});
  }
  ChildRun run = RunThroughLauncher(c, {}, std::move(handles));
  setrlimit(RLIMIT_NOFILE, &rl);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  for (int fd = 0; fd < 1003; ++fd) EXPECT_TRUE(run.report.fds.count(fd)) << fd;
  EXPECT_EQ(run.report.fds.size(), 1003u);
}

class LimitedLauncherTest : public LauncherTest {
 protected:
  std::vector<std::string> DaemonOptions() override {
    return {"--max-launch-fds", "8", "--max-launch-bytes", "4096"};
  }
};

TEST_F(LimitedLauncherTest, PerConnectionLimitsAreNoResources) {
  LauncherClient c = Connect();
  std::vector<LaunchHandleInfo> handles;
  for (int i = 0; i < 9; ++i) {
    handles.push_back(
        {CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3 + i), UniqueFd(open("/dev/null", O_RDONLY))});
  }
  ChildRun run = RunThroughLauncher(c, {}, std::move(handles));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_NO_RESOURCES) << run.err;
  run = RunThroughLauncher(c, {std::string(5000, 'x')});
  EXPECT_EQ(run.status, CAPSPAWN_ERR_NO_RESOURCES) << run.err;
  // Within the limits, the same connection works.
  run = RunThroughLauncher(c, {"--exit", "4"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 4);
}

}  // namespace
}  // namespace capspawn_test
