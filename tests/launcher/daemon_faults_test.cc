// SPDX-License-Identifier: Apache-2.0
// capspawn-launcherd failing under its clients: killed (SIGKILL) in the middle
// of launches and restarted on the same socket; processes built but not
// started dying with it, launched ones outliving it; the daemon at its fd
// limit. docs/SECURITY.md lists the outcomes these hold.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <capspawn/launcher.h>
#include <capspawn/start.h>

#include "attack_util.h"
#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

using capspawn::LauncherClient;
using capspawn::LaunchHandleInfo;
using capspawn::LaunchInfo;
using capspawn::Process;
using capspawn::ProcessStartData;
using capspawn::Result;

constexpr int64_t kSecond = 1000000000;

// Whether the process has exited, waiting at most timeout_ms.
bool ExitsWithin(const Process& p, int timeout_ms) {
  pollfd pfd{p.pidfd().get(), POLLIN, 0};
  return poll(&pfd, 1, timeout_ms) == 1;
}

// The state letter of /proc/PID/stat ('?' if gone), and the PPid of /proc/PID/status.
char StateOf(pid_t pid) {
  std::string stat = ReadFileBytes("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}
pid_t ParentOf(pid_t pid) {
  std::string status = ReadFileBytes("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("\nPPid:\t");
  return at == std::string::npos ? -1 : std::atoi(status.c_str() + at + 7);
}

UniqueFd DupCloexec(int fd) { return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 3)); }

// Tests that kill the daemon. This process adopts what the daemon leaves
// (PR_SET_CHILD_SUBREAPER), so that the orphans' exit statuses are ours to
// read and reap, and none is left behind.
class DaemonFaultTest : public LauncherTest {
 protected:
  using Status = capspawn::Status;

  void SetUp() override {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    LauncherTest::SetUp();
  }
  void TearDown() override {
    if (daemon_.pid() > 0) {
      LauncherTest::TearDown();
    } else {
      EXPECT_EQ(daemon_.SanitizerReport(), "") << "in the daemon's log";
    }
    ReapAdopted();
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  }

  // Waits (10 s at most) until every adopted orphan has exited, and reaps it.
  void ReapAdopted() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<pid_t> left;
    do {
      left.clear();
      for (pid_t pid : LiveChildren()) {
        if (pid == daemon_.pid()) continue;
        int status;
        if (waitpid(pid, &status, WNOHANG) == 0) left.push_back(pid);
      }
      if (left.empty()) return;
      usleep(10000);
    } while (std::chrono::steady_clock::now() < deadline);
    std::string pids;
    for (pid_t pid : left) pids += " " + std::to_string(pid) + "(" + StateOf(pid) + ")";
    ADD_FAILURE() << "adopted processes still running:" << pids;
    for (pid_t pid : left) kill(pid, SIGKILL), waitpid(pid, nullptr, 0);
  }

  // spawn_child, reporting nothing: it waits for EOF on fd 3 (a dup of
  // `wait_read`), then exits with 7; optionally it writes "R" to fd 4 first.
  Status AddWaitingChild(LauncherClient& c, int wait_read, int ready_write = -1) {
    Strings argv = {ChildPath(), "--report-fd", "-1", "--wait-fd", "3", "--exit", "7"};
    if (ready_write >= 0) argv.insert(argv.end(), {"--ready-fd", "4"});
    capspawn::Status st = c.AddArgs(argv);
    if (!st.ok()) return st;
    std::vector<LaunchHandleInfo> handles;
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3), DupCloexec(wait_read)});
    if (ready_write >= 0) {
      handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 4), DupCloexec(ready_write)});
    }
    st = c.AddHandles(std::move(handles));
    if (!st.ok()) return st;
    if (!ChildIsStatic()) {
      std::vector<capspawn::LaunchNameInfo> root;
      root.push_back({"/", OpenDir("/")});
      st = c.AddNames(std::move(root));
    }
    return st;
  }

  Result<Process> LaunchWaiting(LauncherClient& c, int wait_read) {
    Status st = AddWaitingChild(c, wait_read);
    if (!st.ok()) return st.error();
    LaunchInfo info;
    info.executable = ChildExecutable();
    return c.Launch(std::move(info));
  }
  Result<ProcessStartData> CreateWaiting(LauncherClient& c, int wait_read, int ready_write = -1) {
    Status st = AddWaitingChild(c, wait_read, ready_write);
    if (!st.ok()) return st.error();
    LaunchInfo info;
    info.executable = ChildExecutable();
    return c.CreateWithoutStarting(std::move(info));
  }
};

// Clients launch in a loop; the daemon is SIGKILLed in the middle. Every call
// in flight then, and every one after, ends with PEER_CLOSED and a message,
// none hangs; what was launched runs on, its exit status readable through the
// client's pidfd; a daemon restarted on the same socket path serves again.
// The kill can land when every client already has its reply queued and none
// has begun its next call (a loaded machine runs the daemon's workers ahead of
// the clients): that round exercised no call in flight, so the daemon is
// restarted and the round run again, at most kRounds times.
TEST_F(DaemonFaultTest, KilledMidLaunchEveryCallEndsInPeerClosedAndARestartServes) {
  constexpr int kClients = 6;
  constexpr int kLaunchedBeforeKill = 30;
  constexpr int kRounds = 5;
  Pipe hold = MakePipe();  // the launched children wait for its EOF
  std::mutex mu;
  std::vector<Process> launched;  // over every round

  struct Round {
    int ok = 0;
    int in_flight_closed = 0;  // calls begun before the kill, ended PEER_CLOSED
    int connected_after = 0;   // connects after the kill that were still queued
  };
  auto run_round = [&]() -> Round {
    std::condition_variable cv;
    int finished = 0;
    std::atomic<int> ok_count{0};
    // Set once the daemon is reaped. Its workers die with it (their
    // parent-death signal) a moment later: a call begun before this was in
    // flight when the daemon was killed.
    std::atomic<bool> killed{false};
    std::atomic<int> in_flight_closed{0};
    std::atomic<int> connected_after{0};
    std::vector<std::string> failures(kClients);

    auto client_loop = [&](int c) {
      Result<LauncherClient> client = LauncherClient::Connect(daemon_.socket());
      if (!client.ok()) {
        failures[c] = "connect: " + client.error().message();
        return;
      }
      for (;;) {
        const bool before = !killed.load();
        Result<Process> p = LaunchWaiting(*client, hold.read.get());
        if (p.ok()) {
          ok_count++;
          std::lock_guard<std::mutex> lock(mu);
          launched.push_back(std::move(p.value()));
          continue;
        }
        if (p.status() != CAPSPAWN_ERR_PEER_CLOSED || p.error().message().empty()) {
          failures[c] = std::string("a launch ended ") + capspawn_status_string(p.status()) + ": " +
                        p.error().message();
          return;
        }
        if (before) in_flight_closed++;
        // After it: the same connection, and a new one, get PEER_CLOSED too.
        Result<Process> again = LaunchWaiting(*client, hold.read.get());
        if (again.ok() || again.status() != CAPSPAWN_ERR_PEER_CLOSED) {
          failures[c] = std::string("the launch after PEER_CLOSED: ") +
                        capspawn_status_string(again.status());
          return;
        }
        // A connect just after the kill may still be queued: a child that was
        // being created holds a copy of the daemon's fds (the listener too)
        // until its first step closes them. Its first call then fails.
        Result<LauncherClient> fresh = LauncherClient::Connect(daemon_.socket());
        if (fresh.ok()) {
          connected_after++;
          Result<Process> on_fresh = LaunchWaiting(*fresh, hold.read.get());
          if (on_fresh.ok() || on_fresh.status() != CAPSPAWN_ERR_PEER_CLOSED) {
            failures[c] = std::string("a launch on a connection made after the kill: ") +
                          capspawn_status_string(on_fresh.status());
          }
        } else if (fresh.status() != CAPSPAWN_ERR_PEER_CLOSED || fresh.error().message().empty()) {
          failures[c] = std::string("connecting to the dead daemon: ") +
                        capspawn_status_string(fresh.status()) + " " + fresh.error().message();
        }
        return;
      }
    };
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        client_loop(c);
        std::lock_guard<std::mutex> lock(mu);
        ++finished;
        cv.notify_all();
      });
    }
    // Kill it while every client is busy launching.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (ok_count < kLaunchedBeforeKill && std::chrono::steady_clock::now() < deadline) {
      usleep(1000);
    }
    int status = daemon_.Kill();
    killed = true;
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    {
      std::unique_lock<std::mutex> lock(mu);
      bool all = cv.wait_for(lock, std::chrono::seconds(30), [&] { return finished == kClients; });
      if (!all) {
        ADD_FAILURE() << kClients - finished << " clients still blocked 30 s after the kill";
        std::_Exit(1);  // their threads cannot be joined
      }
    }
    for (std::thread& t : threads) t.join();
    for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
    EXPECT_GE(ok_count.load(), kLaunchedBeforeKill) << daemon_.Log();
    return Round{ok_count.load(), in_flight_closed.load(), connected_after.load()};
  };

  const pid_t first_pid = daemon_.pid();
  Round round;
  for (int r = 1; r <= kRounds; ++r) {
    if (r > 1) {
      ASSERT_NO_FATAL_FAILURE(daemon_.Restart());
    }
    round = run_round();
    std::printf(
        "round %d: launched %d before the kill; %d calls in flight ended PEER_CLOSED; %d of %d "
        "connects after the kill were still queued\n",
        r, round.ok, round.in_flight_closed, round.connected_after, kClients);
    if (HasFailure() || round.in_flight_closed >= 1) break;
  }
  EXPECT_GE(round.in_flight_closed, 1)
      << "in " << kRounds << " rounds, no call was in flight when the daemon was killed";

  // What it launched runs on, now a child of ours (the subreaper) once the
  // worker that launched it is gone too (it dies with the daemon).
  ASSERT_FALSE(launched.empty());
  for (const Process& p : launched) {
    EXPECT_FALSE(ExitsWithin(p, 0)) << "pid " << p.pid();
    for (int i = 0; i < 500 && ParentOf(p.pid()) != getpid(); ++i) usleep(10000);
    EXPECT_EQ(ParentOf(p.pid()), getpid()) << "pid " << p.pid();
  }

  // Restarted on the same path, over the socket file the killed one left.
  struct stat st;
  ASSERT_EQ(lstat(daemon_.socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  ASSERT_NO_FATAL_FAILURE(daemon_.Restart());
  EXPECT_NE(daemon_.pid(), first_pid);
  LauncherClient c = Connect();
  ChildRun run = RunThroughLauncher(c, {"after", "restart"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err << "\n" << daemon_.Log();
  EXPECT_EQ(run.return_code, 0);
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), "after", "restart"}));

  // The earlier processes end as they were told to, their status read through
  // the pidfd the killed daemon handed out.
  hold.write.reset();
  for (const Process& p : launched) {
    Result<int64_t> rc = p.Wait(10 * kSecond);
    ASSERT_TRUE(rc.ok()) << "pid " << p.pid() << ": " << rc.error().message();
    EXPECT_EQ(*rc, 7) << "pid " << p.pid();
  }
}

// A process created without starting dies with the daemon (SIGKILL, from its
// parent-death signal); a launched one outlives it.
TEST_F(DaemonFaultTest, CreatedNotStartedDiesWithTheDaemonLaunchedOutlivesIt) {
  Pipe hold = MakePipe();
  LauncherClient c = Connect();
  Result<ProcessStartData> built = CreateWaiting(c, hold.read.get());
  ASSERT_TRUE(built.ok()) << built.error().message();
  Result<Process> launched = LaunchWaiting(c, hold.read.get());
  ASSERT_TRUE(launched.ok()) << launched.error().message();
  const pid_t built_pid = built->process.pid();
  EXPECT_EQ(StateOf(built_pid), 'T');
  EXPECT_FALSE(ExitsWithin(launched.value(), 0));

  int status = daemon_.Kill();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // The parent-death signal was sent as the daemon exited, before it was reaped.
  ASSERT_TRUE(ExitsWithin(built->process, 10000)) << "state " << StateOf(built_pid);
  Result<int64_t> rc = built->process.Wait(10 * kSecond);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, -SIGKILL);
  // Not merely later: the launched one was sent nothing.
  EXPECT_FALSE(ExitsWithin(launched.value(), 300));
  EXPECT_EQ(ParentOf(launched->pid()), getpid());
  hold.write.reset();
  rc = launched->Wait(10 * kSecond);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, 7);
}

// Once started it runs normally while the daemon lives; it stays bound to the
// daemon's life all the same (docs/launcher.md).
TEST_F(DaemonFaultTest, StartedAfterCreationRunsButStillDiesWithTheDaemon) {
  LauncherClient c = Connect();
  Pipe hold_a = MakePipe(), hold_b = MakePipe(), ready_a = MakePipe(), ready_b = MakePipe();
  Result<ProcessStartData> a = CreateWaiting(c, hold_a.read.get(), ready_a.write.get());
  ASSERT_TRUE(a.ok()) << a.error().message();
  Result<ProcessStartData> b = CreateWaiting(c, hold_b.read.get(), ready_b.write.get());
  ASSERT_TRUE(b.ok()) << b.error().message();
  ready_a.write.reset();
  ready_b.write.reset();
  ASSERT_EQ(capspawn_start(a->process.pidfd().get()), CAPSPAWN_OK);
  ASSERT_EQ(capspawn_start(b->process.pidfd().get()), CAPSPAWN_OK);
  EXPECT_EQ(ReadAll(ready_a.read.get(), 10000), "R");
  EXPECT_EQ(ReadAll(ready_b.read.get(), 10000), "R");
  // a runs to its end while the daemon lives.
  hold_a.write.reset();
  Result<int64_t> rc = a->process.Wait(10 * kSecond);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, 7);
  // b, running, dies with it.
  EXPECT_FALSE(ExitsWithin(b->process, 0));
  daemon_.Kill();
  ASSERT_TRUE(ExitsWithin(b->process, 10000));
  rc = b->process.Wait(10 * kSecond);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, -SIGKILL);
}

// The parent-death signal fires when the creating *thread* exits: a worker
// that created such a process must not retire with the surplus idle workers.
// Many connections at once, each served by its own worker, each creating one;
// then all close (the surplus workers would retire now): every process lives.
TEST_F(DaemonFaultTest, WorkersThatCreatedSuspendedProcessesDoNotRetire) {
  constexpr int kConnections = 12;
  Pipe hold = MakePipe();
  std::vector<LauncherClient> clients;
  for (int i = 0; i < kConnections; ++i) clients.push_back(Connect());
  std::vector<ProcessStartData> built;
  for (LauncherClient& c : clients) {
    Result<ProcessStartData> d = CreateWaiting(c, hold.read.get());
    ASSERT_TRUE(d.ok()) << d.error().message();
    built.push_back(std::move(d.value()));
  }
  clients.clear();  // every connection closed: idle workers beyond the spares would retire
  usleep(300000);
  for (const ProcessStartData& d : built) {
    EXPECT_FALSE(ExitsWithin(d.process, 0)) << "pid " << d.process.pid() << " died";
    EXPECT_EQ(StateOf(d.process.pid()), 'T');
  }
  // The daemon is still their parent; killing them through the pidfd leaves
  // their status readable, the daemon reaping them.
  for (const ProcessStartData& d : built) {
    ASSERT_TRUE(d.process.Kill().ok());
    Result<int64_t> rc = d.process.Wait(10 * kSecond);
    ASSERT_TRUE(rc.ok()) << rc.error().message();
    EXPECT_EQ(*rc, -SIGKILL);
  }
}

// The daemon's open fds, sorted.
std::vector<int> DaemonFdList(pid_t pid) {
  std::vector<int> fds;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return fds;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') fds.push_back(std::atoi(e->d_name));
  }
  closedir(d);
  std::sort(fds.begin(), fds.end());
  return fds;
}
int DaemonFdCount(pid_t pid) { return static_cast<int>(DaemonFdList(pid).size()); }

// Lowers the daemon's RLIMIT_NOFILE, soft and hard, to where exactly `room`
// fd numbers below it are free; returns the limit.
rlim_t LimitDaemonFds(pid_t pid, int room) {
  std::vector<int> fds = DaemonFdList(pid);
  EXPECT_FALSE(fds.empty());
  rlim_t limit = 0;
  int free = 0;
  for (size_t used = 0; free < room; ++limit) {
    if (used < fds.size() && fds[used] == static_cast<int>(limit)) {
      ++used;
    } else {
      ++free;
    }
  }
  // The soft limit only: the hard one stays, so the test can give it back.
  rlimit old{};
  EXPECT_EQ(prlimit(pid, RLIMIT_NOFILE, nullptr, &old), 0) << std::strerror(errno);
  rlimit lim{limit, old.rlim_max};
  EXPECT_EQ(prlimit(pid, RLIMIT_NOFILE, &lim, nullptr), 0) << std::strerror(errno);
  return limit;
}

// Waits (10 s at most) until the daemon holds at most `count` fds.
bool DaemonFdsDropTo(pid_t pid, int count) {
  for (int i = 0; i < 1000; ++i) {
    if (DaemonFdCount(pid) <= count) return true;
    usleep(10000);
  }
  return false;
}

void SetReceiveTimeout(int sock, int seconds) {
  timeval tv{seconds, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// At its fd limit the daemon cannot accept: it makes room with a reserve fd,
// accepts the connection and closes it at once, so the client gets
// PEER_CLOSED instead of waiting in the backlog; freed fds, it serves again.
TEST_F(DaemonFaultTest, AtItsFdLimitANewConnectionIsRefusedAtOnce) {
  const int baseline = DaemonFdCount(daemon_.pid());
  const rlim_t limit = LimitDaemonFds(daemon_.pid(), 40);  // a launch needs about 15
  std::vector<LauncherClient> held;  // each holds the daemon's fds for a connection
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    Result<LauncherClient> c = LauncherClient::Connect(daemon_.socket());
    ASSERT_TRUE(c.ok()) << c.error().message();  // queued by the kernel, whatever the daemon does
    SetReceiveTimeout(c->socket(), 10);          // a client left waiting fails after 10 s
    auto start = std::chrono::steady_clock::now();
    Result<capspawn::ResolvedProgram> r = c->Resolve("no-such-package");
    auto took = std::chrono::steady_clock::now() - start;
    // Served: the name is not found (or, at the edge, a file it opens is past the limit).
    if (!r.ok() && took < std::chrono::seconds(5) &&
        (r.status() == CAPSPAWN_ERR_NOT_FOUND || r.status() == CAPSPAWN_ERR_NO_RESOURCES)) {
      held.push_back(std::move(c.value()));
      continue;
    }
    refused = true;
    EXPECT_EQ(r.status(), CAPSPAWN_ERR_PEER_CLOSED)
        << capspawn_status_string(r.status()) << ": " << (r.ok() ? "" : r.error().message());
    EXPECT_LT(took, std::chrono::seconds(5));
  }
  ASSERT_TRUE(refused) << "the daemon never ran out of fds (limit " << limit << ")";
  EXPECT_GE(held.size(), 1u);
  const std::string log = daemon_.Log();
  EXPECT_NE(log.find("at the fd limit (RLIMIT_NOFILE " + std::to_string(limit) + ")"),
            std::string::npos)
      << log;
  // Its fds freed, the daemon serves a launch.
  held.clear();
  ASSERT_TRUE(DaemonFdsDropTo(daemon_.pid(), baseline)) << DaemonFdCount(daemon_.pid());
  LauncherClient c = Connect();
  ChildRun run = RunThroughLauncher(c, {"after", "the", "limit"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err << "\n" << daemon_.Log();
  EXPECT_EQ(run.return_code, 0);
}

// A launch handing the daemon more fds than it can hold: the kernel drops
// the datagram's fds past the limit (MSG_CTRUNC). The daemon (the worker
// serving the connection, which has its client's limits) keeps the
// datagram's bytes, sees which request lost its fds, and fails that launch
// with NO_RESOURCES naming the limit; the connection and the daemon go on,
// and once fds are free the same connection launches again.
TEST_F(DaemonFaultTest, AtItsFdLimitALaunchWithTooManyFdsIsNoResources) {
  LauncherClient c = Connect();
  SetReceiveTimeout(c.socket(), 10);
  // Served once, so the worker holds this connection in the baseline.
  ChildRun first = RunThroughLauncher(c, {"first"});
  ASSERT_EQ(first.status, CAPSPAWN_OK) << first.err;
  const pid_t worker = ServingProcess(daemon_.pid(), getpid());
  ASSERT_GT(worker, 0) << "no process of the daemon serves this client";
  const rlim_t limit = LimitDaemonFds(worker, 40);
  const int baseline = DaemonFdCount(worker);
  std::vector<LaunchHandleInfo> handles;
  for (uint16_t i = 0; i < 100; ++i) {
    handles.push_back(
        {CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, i), UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC))});
  }
  ASSERT_TRUE(c.AddHandles(std::move(handles)).ok());  // one datagram of 100 fds
  ChildRun run = RunThroughLauncher(c, {"x"});
  EXPECT_EQ(run.status, CAPSPAWN_ERR_NO_RESOURCES)
      << capspawn_status_string(run.status) << " " << run.err;
  EXPECT_NE(run.err.find("fd limit (RLIMIT_NOFILE " + std::to_string(limit) + ")"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("AddHandles"), std::string::npos) << run.err;
  EXPECT_TRUE(daemon_.Alive());
  ASSERT_TRUE(DaemonFdsDropTo(worker, baseline)) << DaemonFdCount(worker);
  // The limit back: a sender's fds in flight are bounded per user by its
  // RLIMIT_NOFILE (ETOOMANYREFS), and another test of this uid may have a
  // thousand in flight; what the low limit had to show is shown above.
  rlimit back{};
  ASSERT_EQ(prlimit(worker, RLIMIT_NOFILE, nullptr, &back), 0);
  back.rlim_cur = back.rlim_max;
  ASSERT_EQ(prlimit(worker, RLIMIT_NOFILE, &back, nullptr), 0) << std::strerror(errno);
  // The same connection, its state reset by that launch, launches again.
  ChildRun ok = RunThroughLauncher(c, {"again"});
  ASSERT_EQ(ok.status, CAPSPAWN_OK) << ok.err << "\n" << daemon_.Log();
  EXPECT_EQ(ok.return_code, 0);
}

}  // namespace
}  // namespace capspawn_test
