// SPDX-License-Identifier: Apache-2.0
// What one client may cost capspawn-launcherd and carry over to what it
// launches: its rlimits, nice value, oom_score_adj and umask; its
// RLIMIT_NPROC; memory for what it sends; fds it leaves in flight; a stalled
// request; its share of connections. And the smaller promises around them
// (a bounded wait for the daemon, the Resolver's and cwd's permission
// checks). Each holds with the daemon as root (the client as nobody) and, where
// meaningful, with daemon and client as the same unprivileged user.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
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
using capspawn::LaunchNameInfo;
using capspawn::Process;
using capspawn::Result;

int AsNobodyClient(const std::string& socket, const std::function<int(LauncherClient&)>& body) {
  return RunAsNobody([&] {
    Result<LauncherClient> c = LauncherClient::Connect(socket);
    if (!c.ok()) {
      std::fprintf(stderr, "connect: %s\n", c.error().message().c_str());
      return 200;
    }
    return body(*c);
  });
}

UniqueFd Dup(int fd) { return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 3)); }

// spawn_child, reporting nothing, that writes "R" on fd 4 once running and
// then waits for EOF on fd 3.
Result<Process> LaunchWaiting(LauncherClient& c, int wait_read, int ready_write) {
  capspawn::Status st = c.AddArgs(
      {ChildPath(), "--report-fd", "-1", "--ready-fd", "4", "--wait-fd", "3", "--exit", "0"});
  std::vector<LaunchHandleInfo> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3), Dup(wait_read)});
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 4), Dup(ready_write)});
  if (st.ok()) st = c.AddHandles(std::move(handles));
  std::vector<LaunchNameInfo> root;
  root.push_back({"/", UniqueFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC))});
  if (st.ok()) st = c.AddNames(std::move(root));
  if (!st.ok()) return st.error();
  LaunchInfo info;
  info.executable.reset(open(ChildPath(), O_RDONLY | O_CLOEXEC));
  return c.Launch(std::move(info));
}

std::string Field(const std::string& text, const std::string& name) {
  size_t at = ("\n" + text).find("\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t end = text.find('\n', at);
  return text.substr(at, end - at);
}

// --- what the launched process inherits from its client -------------------------

// The client's rlimits (every one of them), nice value, oom_score_adj and
// umask reach the process launched for it, as they reach its own children.
TEST_F(LauncherTest, TheClientsLimitsNiceOomScoreAndUmaskReachTheLaunchedProcess) {
  int code = RunAsNobody([&] {
    rlimit nofile{77, 4000}, core{0, 1 << 20}, stack{4 << 20, 64 << 20}, msgq{8192, 8192};
    rlimit nofile_now;
    getrlimit(RLIMIT_NOFILE, &nofile_now);
    if (nofile_now.rlim_max < 4000) nofile.rlim_max = nofile_now.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &nofile) != 0 || setrlimit(RLIMIT_CORE, &core) != 0 ||
        setrlimit(RLIMIT_STACK, &stack) != 0 || setrlimit(RLIMIT_MSGQUEUE, &msgq) != 0) {
      return 210;
    }
    umask(027);
    if (setpriority(PRIO_PROCESS, 0, 7) != 0) return 211;
    FILE* oom = std::fopen("/proc/self/oom_score_adj", "w");
    if (!oom || std::fputs("321", oom) < 0 || std::fclose(oom) != 0) return 212;
    Result<LauncherClient> c = LauncherClient::Connect(daemon_.socket());
    if (!c.ok()) return 200;
    Pipe hold = MakePipe(), ready = MakePipe();
    Result<Process> p = LaunchWaiting(*c, hold.read.get(), ready.write.get());
    if (!p.ok()) {
      std::fprintf(stderr, "launch: %s\n", p.error().message().c_str());
      return 201;
    }
    ready.write.reset();
    if (ReadAll(ready.read.get(), 10000) != "R") return 202;
    const std::string proc = "/proc/" + std::to_string(p->pid());
    int bad = 0;
    if (ReadFileBytes(proc + "/limits") != ReadFileBytes("/proc/self/limits")) {
      std::fprintf(stderr, "limits differ:\n%s\nclient's:\n%s\n",
                   ReadFileBytes(proc + "/limits").c_str(),
                   ReadFileBytes("/proc/self/limits").c_str());
      bad |= 1;
    }
    const std::string status = ReadFileBytes(proc + "/status");
    if (Field(status, "Umask") != Field(ReadFileBytes("/proc/self/status"), "Umask")) {
      std::fprintf(stderr, "umask: %s\n", Field(status, "Umask").c_str());
      bad |= 2;
    }
    errno = 0;
    if (getpriority(PRIO_PROCESS, static_cast<id_t>(p->pid())) != 7) bad |= 4;
    if (ReadFileBytes(proc + "/oom_score_adj") != "321\n") bad |= 8;
    hold.write.reset();
    (void)p->Wait();
    return bad;
  });
  EXPECT_EQ(code, 0) << "1: rlimits, 2: umask, 4: nice, 8: oom_score_adj differ\n" << daemon_.Log();
}

// The tasks of a uid (RLIMIT_NPROC counts them), from /proc.
int TasksOf(uid_t uid) {
  int n = 0;
  DIR* d = opendir("/proc");
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string status = ReadFileBytes(std::string("/proc/") + e->d_name + "/status");
    int real = -1, threads = 0;
    size_t at = status.find("\nUid:\t");
    if (at != std::string::npos) real = std::atoi(status.c_str() + at + 6);
    at = status.find("\nThreads:\t");
    if (at != std::string::npos) threads = std::atoi(status.c_str() + at + 10);
    if (real == static_cast<int>(uid)) n += threads;
  }
  closedir(d);
  return n;
}

// A client with RLIMIT_NPROC a few tasks above what its uid runs gets only
// about that many processes through the launcher, then NO_RESOURCES.
TEST_F(LauncherTest, TheClientsProcessLimitBoundsItsLaunches) {
  constexpr int kTries = 40;
  int code = RunAsNobody([&] {
    rlimit nproc;
    nproc.rlim_cur = nproc.rlim_max = static_cast<rlim_t>(TasksOf(geteuid()) + 5);
    if (setrlimit(RLIMIT_NPROC, &nproc) != 0) return 210;
    Result<LauncherClient> c = LauncherClient::Connect(daemon_.socket());
    if (!c.ok()) return 200;
    Pipe hold = MakePipe(), ready = MakePipe();
    std::vector<Process> running;
    capspawn_status_t refused = CAPSPAWN_OK;
    for (int i = 0; i < kTries && refused == CAPSPAWN_OK; ++i) {
      Result<Process> p = LaunchWaiting(*c, hold.read.get(), ready.write.get());
      if (p.ok()) {
        running.push_back(std::move(p.value()));
      } else {
        refused = p.status();
        std::fprintf(stderr, "launch %d: %s: %s\n", i, capspawn_status_string(p.status()),
                     p.error().message().c_str());
      }
    }
    for (const Process& p : running) (void)p.Kill();
    std::fprintf(stderr, "%zu launched\n", running.size());
    if (refused != CAPSPAWN_ERR_NO_RESOURCES) return 1;
    return running.size() < 20 ? 0 : 2;
  });
  EXPECT_EQ(code, 0) << "1: never refused NO_RESOURCES, 2: far more than the limit\n"
                     << daemon_.Log();
}

// --- what a client costs the daemon -----------------------------------------

// Empty arguments cost the daemon more than their length: sent until the
// per-connection limit trips, they must not grow the serving process by much
// more than that limit.
TEST_F(LauncherTest, AFloodOfEmptyArgumentsKeepsTheServingProcessSmall) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator keeps freed memory: RSS says nothing here";
#endif
  daemon_.Stop();
  ASSERT_NO_FATAL_FAILURE(daemon_.Restart({"--max-launch-bytes", "4194304"}));
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({"warm-up"}).ok());
  usleep(100000);
  const pid_t server = ServingProcess(daemon_.pid(), getpid());
  ASSERT_GT(server, 0) << "no process of the daemon holds this client's pidfd";
  const long before = StatusKb(server, "VmRSS");
  const std::vector<std::string> empties(20000);
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(c.AddArgs(empties).ok());
  LaunchInfo info;
  info.executable.reset(open(ChildPath(), O_RDONLY | O_CLOEXEC));
  Result<Process> p = c.Launch(std::move(info));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_NO_RESOURCES) << p.error().message();
  const long peak = StatusKb(server, "VmHWM");
  EXPECT_LT(peak - before, 32 * 1024) << "kB: " << before << " before, peak " << peak;
}

// A client that sends the daemon its own end of the connection (or two
// connections that carry each other's ends) and exits: what the daemon held
// for it is gone within seconds.
void ExpectNothingPinned(LauncherTest* t, Launcherd& daemon, bool two_connections) {
  const Footprint baseline = FootprintOf(daemon.pid());
  for (int i = 0; i < 20; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Result<LauncherClient> a = LauncherClient::Connect(daemon.socket());
      Result<LauncherClient> b = LauncherClient::Connect(daemon.socket());
      if (!a.ok() || !b.ok()) _exit(1);
      auto send_end = [](LauncherClient& over, int end) {
        std::vector<LaunchHandleInfo> h;
        h.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), Dup(end)});
        return over.AddHandles(std::move(h)).ok();
      };
      bool sent = two_connections ? send_end(*a, b->socket()) && send_end(*b, a->socket())
                                  : send_end(*a, a->socket());
      _exit(sent ? 0 : 2);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  Footprint last;
  EXPECT_TRUE(FootprintReturnsTo(daemon.pid(), baseline, 10000, &last))
      << "before: " << baseline.Describe()
      << "; 10 s after the clients exited: " << last.Describe();
  // And it still serves.
  LauncherClient c = LauncherClient::Connect(daemon.socket()).value();
  ChildRun run;
  (void)t;
  Result<capspawn::ResolvedProgram> r = c.Resolve("no-such-package");
  EXPECT_EQ(r.status(), CAPSPAWN_ERR_NOT_FOUND);
}

TEST_F(LauncherTest, AConnectionSentOverItselfDoesNotPinTheDaemon) {
  ExpectNothingPinned(this, daemon_, false);
}

TEST_F(LauncherTest, TwoConnectionsCarryingEachOtherDoNotPinTheDaemon) {
  ExpectNothingPinned(this, daemon_, true);
}

class PendingTimeoutTest : public LauncherTest {
 protected:
  std::vector<std::string> DaemonOptions() override { return {"--pending-timeout", "2"}; }
};

// A client that began a request and stalls is closed after --pending-timeout;
// its next call says why.
TEST_F(PendingTimeoutTest, AStalledRequestIsClosedAfterTheTimeout) {
  const Footprint baseline = FootprintOf(daemon_.pid());
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({"half", "a", "request"}).ok());
  sleep(4);
  LaunchInfo info;
  info.executable.reset(open(ChildPath(), O_RDONLY | O_CLOEXEC));
  Result<Process> p = c.Launch(std::move(info));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_TIMED_OUT) << p.error().message();
  EXPECT_NE(p.error().message().find("--pending-timeout"), std::string::npos)
      << p.error().message();
  Footprint last;
  EXPECT_TRUE(FootprintReturnsTo(daemon_.pid(), baseline, 10000, &last))
      << baseline.Describe() << " then " << last.Describe();
  // An idle connection (nothing pending) is not closed.
  LauncherClient idle = Connect();
  sleep(3);
  EXPECT_EQ(idle.Resolve("no-such-package").status(), CAPSPAWN_ERR_NOT_FOUND);
}

// A client that sends parts of a request without end, faster than they are
// taken, is closed after --pending-timeout as well: the serving process takes
// queued parts without a poll only in bounded runs, so it still looks at the
// clock however full its queue stays.
TEST_F(PendingTimeoutTest, AnEndlessRequestIsClosedAfterTheTimeout) {
  LauncherClient c = Connect();
  const auto start = std::chrono::steady_clock::now();
  capspawn::Status st;
  long sent = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    st = c.AddArgs({"x"});
    if (!st.ok()) break;
    ++sent;
  }
  ASSERT_FALSE(st.ok()) << "still open after 20 s and " << sent
                        << " parts, with --pending-timeout 2";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15)) << sent;
  EXPECT_EQ(st.status(), CAPSPAWN_ERR_TIMED_OUT) << st.error().message();
  EXPECT_NE(st.error().message().find("--pending-timeout"), std::string::npos)
      << st.error().message();
}

class ShareTest : public LauncherTest {
 protected:
  std::vector<std::string> DaemonOptions() override { return {"--max-connections-per-uid", "3"}; }
};

// One uid holds at most its share of connections: the next is refused with
// NO_RESOURCES naming the limit, through LauncherClient and capspawn_spawn*
// alike; other uids are served; a closed connection frees its place.
TEST_F(ShareTest, OneUidCannotTakeMoreThanItsShare) {
  std::vector<LauncherClient> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Connect());
    ASSERT_EQ(held.back().Resolve("no-such-package").status(), CAPSPAWN_ERR_NOT_FOUND);
  }
  LauncherClient over = Connect();
  Result<capspawn::ResolvedProgram> r = over.Resolve("no-such-package");
  EXPECT_EQ(r.status(), CAPSPAWN_ERR_NO_RESOURCES) << r.error().message();
  EXPECT_NE(r.error().message().find("--max-connections-per-uid 3"), std::string::npos)
      << r.error().message();
  // capspawn_spawn* through CAPSPAWN_LAUNCHER: the same answer, once.
  setenv("CAPSPAWN_LAUNCHER", daemon_.socket().c_str(), 1);
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--report-fd", "-1"});
  unsetenv("CAPSPAWN_LAUNCHER");
  EXPECT_EQ(s.status, CAPSPAWN_ERR_NO_RESOURCES) << s.err;
  EXPECT_NE(s.err.find("--max-connections-per-uid"), std::string::npos) << s.err;
  if (geteuid() == 0) {
    int other = AsNobodyClient(daemon_.socket(), [](LauncherClient& c) {
      return c.Resolve("no-such-package").status() == CAPSPAWN_ERR_NOT_FOUND ? 0 : 1;
    });
    EXPECT_EQ(other, 0) << "another uid was not served";
  }
  held.pop_back();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    LauncherClient again = Connect();
    served = again.Resolve("no-such-package").status() == CAPSPAWN_ERR_NOT_FOUND;
    if (!served) usleep(50000);
  }
  EXPECT_TRUE(served) << "a closed connection did not free its place\n" << daemon_.Log();
}

// --- smaller promises ------------------------------------------------------------

// `capspawn run --launcher` waiting on a daemon that never answers ends on
// SIGTERM (so `timeout` can bound it).
TEST(LauncherCli, RunWaitingForTheDaemonHonoursSigterm) {
#if defined(__SANITIZE_THREAD__)
  // TSan keeps its own handler for every signal and runs the program's at
  // its own safe points, which a blocked recvmsg never reaches: the CLI's
  // signal handling is tested in the other builds.
  GTEST_SKIP() << "ThreadSanitizer defers signal handlers";
#endif
  TempDir dir;
  const std::string path = dir.Path("mute.sock");
  UniqueFd listener(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener.get(), 8), 0);  // connections queue; none is ever answered
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execl(CAPSPAWN_TEST_CLI, "capspawn", "run", "--launcher", path.c_str(), "--", "/bin/true",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  usleep(500000);
  kill(pid, SIGTERM);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 100 && done == 0; ++i) {
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) usleep(50000);
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  EXPECT_NE(done, 0) << "capspawn run ignored SIGTERM for 5 s";
}

// The Resolver opens a package's binary as its client: one the client can
// neither read nor execute is ACCESS_DENIED.
TEST_F(LauncherTest, TheResolverRefusesABinaryTheClientCannotRunOrRead) {
  if (geteuid() != 0) GTEST_SKIP() << "needs a file nobody may not use";
  MakePackage("locked", "locked", "#!/bin/sh\nexit 0\n");
  ASSERT_EQ(chmod((packages() + "/locked/bin/locked").c_str(), 0700), 0);
  int code = AsNobodyClient(daemon_.socket(), [](LauncherClient& c) {
    Result<capspawn::ResolvedProgram> r = c.Resolve("locked");
    if (r.ok()) return 1;
    std::fprintf(stderr, "%s: %s\n", capspawn_status_string(r.status()),
                 r.error().message().c_str());
    return r.status() == CAPSPAWN_ERR_ACCESS_DENIED ? 0 : 2;
  });
  EXPECT_EQ(code, 0) << "1: resolved, 2: another status\n" << daemon_.Log();
}

// A working directory the client may not enter is refused.
TEST_F(LauncherTest, ACwdTheClientCannotEnterIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs a directory nobody may not enter";
  VarTmpDir locked("cs-cwd-");
  ASSERT_EQ(chmod(locked.path().c_str(), 0700), 0);
  int code = AsNobodyClient(daemon_.socket(), [&](LauncherClient& c) {
    if (!c.AddArgs({ChildPath(), "--report-fd", "-1"}).ok()) return 201;
    std::vector<LaunchNameInfo> root;
    root.push_back({"/", UniqueFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC))});
    if (!c.AddNames(std::move(root)).ok()) return 202;
    LaunchInfo info;
    info.executable.reset(open(ChildPath(), O_RDONLY | O_CLOEXEC));
    info.cwd.reset(open(locked.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!info.cwd) return 203;
    Result<Process> p = c.Launch(std::move(info));
    if (p.ok()) {
      (void)p->Wait();
      return 1;
    }
    std::fprintf(stderr, "%s\n", p.error().message().c_str());
    return p.status() == CAPSPAWN_ERR_ACCESS_DENIED ? 0 : 2;
  });
  EXPECT_EQ(code, 0) << "1: launched there, 2: another status\n" << daemon_.Log();
}

// The log names the pid of every launch, even of a process that has already
// exited by the time the line is written.
TEST_F(LauncherTest, TheLogKeepsThePidOfAProcessThatAlreadyExited) {
  LauncherClient c = Connect();
  std::vector<pid_t> pids;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(c.AddArgs({ChildPath(), "--report-fd", "-1"}).ok());
    AddRootIfDynamic(c);
    LaunchInfo info;
    info.executable = ChildExecutable();
    Result<Process> p = c.Launch(std::move(info));
    ASSERT_TRUE(p.ok()) << p.error().message();
    pids.push_back(p->pid());
    (void)p->Wait();
  }
  usleep(200000);
  const std::string log = daemon_.Log();
  EXPECT_EQ(log.find(": pid -1"), std::string::npos) << log;
  for (pid_t pid : pids) {
    if (pid > 0) EXPECT_NE(log.find(": pid " + std::to_string(pid) + "\n"), std::string::npos);
  }
}

}  // namespace
}  // namespace capspawn_test

namespace capspawn_test {
namespace {

// A socket leading back to this launcher (the connection's own end, or
// another connection to it) is refused as soon as it arrives: held, it could
// keep connections alive in a cycle.
TEST_F(LauncherTest, AConnectionToTheLauncherItselfIsRefused) {
  LauncherClient c = Connect();
  LauncherClient other = Connect();
  for (int sock : {c.socket(), other.socket()}) {
    std::vector<LaunchHandleInfo> handles;
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), Dup(sock)});
    ASSERT_TRUE(c.AddHandles(std::move(handles)).ok());
    ChildRun run = RunThroughLauncher(c, {"x"});
    EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
    EXPECT_NE(run.err.find("a connection to the launcher itself"), std::string::npos) << run.err;
  }
  // Nothing else is refused: a socketpair's end is an ordinary handle.
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  std::vector<LaunchHandleInfo> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0), std::move(a)});
  ChildRun run = RunThroughLauncher(c, {"--report-fd", "-1"}, std::move(handles));
  EXPECT_EQ(run.status, CAPSPAWN_OK) << run.err;
}

class StartTimeoutTest : public LauncherTest {
 protected:
  std::vector<std::string> DaemonOptions() override { return {"--start-timeout", "2"}; }
};

Result<capspawn::ProcessStartData> CreateWaiting(LauncherClient& c, int wait_read) {
  capspawn::Status st =
      c.AddArgs({ChildPath(), "--report-fd", "-1", "--wait-fd", "3", "--exit", "7"});
  std::vector<LaunchHandleInfo> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3), Dup(wait_read)});
  if (st.ok()) st = c.AddHandles(std::move(handles));
  std::vector<LaunchNameInfo> root;
  root.push_back({"/", UniqueFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC))});
  if (st.ok()) st = c.AddNames(std::move(root));
  if (!st.ok()) return st.error();
  LaunchInfo info;
  info.executable.reset(open(ChildPath(), O_RDONLY | O_CLOEXEC));
  return c.CreateWithoutStarting(std::move(info));
}

bool ExitsWithin(const Process& p, int timeout_ms) {
  pollfd pfd{p.pidfd().get(), POLLIN, 0};
  return poll(&pfd, 1, timeout_ms) == 1;
}

// A process created without starting is killed if nobody starts it within
// --start-timeout, whether its connection is open or not; one that was
// started runs on after its connection closed (its worker stays while it runs).
TEST_F(StartTimeoutTest, AnUnstartedProcessIsKilledAStartedOneRunsOn) {
  Pipe hold = MakePipe();
  std::optional<capspawn::ProcessStartData> never, started;
  {
    LauncherClient c = Connect();
    Result<capspawn::ProcessStartData> a = CreateWaiting(c, hold.read.get());
    ASSERT_TRUE(a.ok()) << a.error().message();
    Result<capspawn::ProcessStartData> b = CreateWaiting(c, hold.read.get());
    ASSERT_TRUE(b.ok()) << b.error().message();
    ASSERT_EQ(capspawn_start(b->process.pidfd().get()), CAPSPAWN_OK);
    never = std::move(a.value());
    started = std::move(b.value());
  }  // the connection closes
  ASSERT_TRUE(ExitsWithin(never->process, 10000)) << "not killed after --start-timeout";
  Result<int64_t> rc = never->process.Wait(0);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, -SIGKILL);
  EXPECT_FALSE(ExitsWithin(started->process, 1000)) << "the started process was killed";
  hold.write.reset();
  rc = started->process.Wait(10'000'000'000);
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, 7);
}

}  // namespace
}  // namespace capspawn_test
