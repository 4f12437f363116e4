// SPDX-License-Identifier: Apache-2.0
// The Launcher over a real capspawn-launcherd: Fuchsia's launcher tests (args,
// environment, namespace entries, handles, create-without-starting), the
// state machine (Add* concatenate, every launch resets), each validation
// rule, credentials, reaping, and the DENY-job scenario the launcher exists for.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include <capspawn/job.h>
#include <capspawn/launcher.h>
#include <capspawn/spawn.h>
#include <capspawn/start.h>

#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

using capspawn::LauncherClient;
using capspawn::LaunchHandleInfo;
using capspawn::LaunchInfo;
using capspawn::LaunchNameInfo;
using capspawn::Process;
using capspawn::Result;

constexpr const char* kBusybox = "/bin/busybox";

// The children (live or zombie) of every thread of `pid`.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(tasks.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string text = ReadFileBytes(tasks + "/" + e->d_name + "/children");
    size_t at = 0;
    while (at < text.size()) {
      size_t end = text.find(' ', at);
      if (end == std::string::npos) end = text.size();
      if (end > at) out.push_back(std::stoi(text.substr(at, end - at)));
      at = end + 1;
    }
  }
  closedir(d);
  return out;
}

TEST_F(LauncherTest, ArgsConcatenate) {
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({ChildPath(), "one"}).ok());
  ASSERT_TRUE(c.AddArgs({"two", "three"}).ok());
  ChildRun run = RunThroughLauncher(c, {"four"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), "one", "two", "three", ChildPath(), "four"}));
  EXPECT_EQ(run.return_code, 0);
}

TEST_F(LauncherTest, EnvironConcatenateAndNothingElse) {
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddEnvirons({"A=1", "EMPTY="}).ok());
  ASSERT_TRUE(c.AddEnvirons({"B=two words"}).ok());
  ChildRun run = RunThroughLauncher(c, {});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.env, (Strings{"A=1", "EMPTY=", "B=two words"}));
}

TEST_F(LauncherTest, HandlesLandAtTheirFdsAndIds) {
  LauncherClient c = Connect();
  Pipe five = MakePipe();
  UniqueFd user(open("/dev/null", O_RDONLY | O_CLOEXEC));
  std::vector<LaunchHandleInfo> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 5), std::move(five.write)});
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 2), std::move(user)});
  ChildRun run = RunThroughLauncher(c, {"--handles", "200f0"}, std::move(handles));
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  ASSERT_TRUE(run.report.fds.count(5)) << run.output;
  EXPECT_EQ(run.report.fds.at(5).type, "fifo");
  ASSERT_TRUE(run.report.handles.count(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 2))) << run.output;
  EXPECT_GE(run.report.handles.at(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 2)).fd, 3);
  // 0 and 2 were not handed: /dev/null (no /proc in this private namespace
  // to name it: its type says it).
  ASSERT_TRUE(run.report.fds.count(0));
  EXPECT_EQ(run.report.fds.at(0).type, "chr");
  EXPECT_EQ(run.report.fds.size(), 5u) << run.output;  // 0, 1, 2, 5, the typed handle
}

// busybox (static) in a namespace of one entry: `argv` run as an applet.
std::string RunBusybox(LauncherTest* t, LauncherClient& c, const Strings& argv,
                       const std::string& data, bool* skipped) {
  Pipe out = MakePipe();
  EXPECT_TRUE(c.AddArgs(argv).ok());
  std::vector<LaunchNameInfo> names;
  names.push_back({"/data", t->OpenDir(data)});
  EXPECT_TRUE(c.AddNames(std::move(names)).ok());
  std::vector<LaunchHandleInfo> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1), std::move(out.write)});
  EXPECT_TRUE(c.AddHandles(std::move(handles)).ok());
  LaunchInfo info;
  info.executable.reset(open(kBusybox, O_RDONLY | O_CLOEXEC));
  Result<Process> p = c.Launch(std::move(info));
  if (!p.ok() && p.status() == CAPSPAWN_ERR_NOT_SUPPORTED && geteuid() != 0) {
    *skipped = true;
    return p.error().message();
  }
  EXPECT_TRUE(p.ok()) << p.error().message();
  if (!p.ok()) return "";
  std::string text = ReadAll(out.read.get());
  Result<int64_t> rc = p->Wait();
  EXPECT_TRUE(rc.ok() && *rc == 0);
  return text;
}

TEST_F(LauncherTest, NamespaceEntryIsAllTheChildSees) {
  if (access(kBusybox, X_OK) != 0) GTEST_SKIP() << "no static busybox at " << kBusybox;
  TempDir data;
  data.WriteFile("hello", "hello from the namespace\n", 0644);
  LauncherClient c = Connect();
  bool skipped = false;
  std::string out = RunBusybox(this, c, {"cat", "/data/hello"}, data.path(), &skipped);
  if (skipped) GTEST_SKIP() << "no private namespaces for this user here: " << out;
  EXPECT_EQ(out, "hello from the namespace\n");
  EXPECT_EQ(RunBusybox(this, c, {"ls", "/"}, data.path(), &skipped), "data\n");
}

TEST_F(LauncherTest, ProcessNameIsSet) {
  LauncherClient c = Connect();
  LaunchInfo info;
  info.name = "launched-name";
  // The client's whole filesystem ("/"), so the child has a /proc to read its name in.
  std::vector<LaunchNameInfo> root;
  root.push_back({"/", OpenDir("/")});
  ChildRun run = RunThroughLauncher(c, {}, {}, std::move(root), std::move(info));
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.comm, "launched-name");
}

TEST_F(LauncherTest, ExitStatusReadableAfterTheDaemonReaped) {
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({ChildPath(), "--report-fd", "-1", "--exit", "7"}).ok());
  AddRootIfDynamic(c);
  LaunchInfo info;
  info.executable = ChildExecutable();
  Result<Process> p = c.Launch(std::move(info));
  ASSERT_TRUE(p.ok()) << p.error().message();
  // Not our child: waitid cannot reap it, PIDFD_GET_INFO reads what the
  // daemon's reaping left.
  siginfo_t si;
  EXPECT_NE(waitid(P_PIDFD, p->pidfd().get(), &si, WEXITED | WNOHANG), 0);
  Result<int64_t> rc = p->Wait();
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, 7);
}

TEST_F(LauncherTest, StateResetsAfterASuccessfulLaunch) {
  LauncherClient c = Connect();
  ChildRun run = RunThroughLauncher(c, {"--report-fd", "-1"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  // The arguments went with that launch: none are left for this one.
  LaunchInfo info;
  info.executable = ChildExecutable();
  Result<Process> p = c.Launch(std::move(info));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_INVALID_ARGS) << p.error().message();
}

// Each rule: what one connection sends, then Launch must be INVALID_ARGS; the
// same connection then launches normally (its state was reset).
struct Rule {
  const char* name;
  std::function<void(LauncherTest*, LauncherClient&)> send;
};

class LauncherValidation : public LauncherTest, public ::testing::WithParamInterface<int> {};

std::vector<Rule> Rules() {
  auto dir = [](LauncherTest* t) { return t->OpenDir("/tmp"); };
  auto names = [dir](LauncherTest* t, std::vector<std::string> paths) {
    std::vector<LaunchNameInfo> v;
    for (std::string& p : paths) v.push_back({p, dir(t)});
    return v;
  };
  auto handle = [](uint32_t id) {
    std::vector<LaunchHandleInfo> v;
    v.push_back({id, UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC))});
    return v;
  };
  return {
      {"NulInArgument", [](auto*, LauncherClient& c) { c.AddArgs({std::string("a\0b", 3)}); }},
      {"NulInVariable", [](auto*, LauncherClient& c) { c.AddEnvirons({std::string("A=\0", 3)}); }},
      {"NulInPath",
       [=](auto* t, LauncherClient& c) { c.AddNames(names(t, {std::string("/a\0b", 4)})); }},
      {"RelativePath", [=](auto* t, LauncherClient& c) { c.AddNames(names(t, {"data"})); }},
      {"EmptyPath", [=](auto* t, LauncherClient& c) { c.AddNames(names(t, {""})); }},
      {"DotDotPath", [=](auto* t, LauncherClient& c) { c.AddNames(names(t, {"/a/../b"})); }},
      {"TrailingSlash", [=](auto* t, LauncherClient& c) { c.AddNames(names(t, {"/a/"})); }},
      {"DuplicatePath",
       [=](auto* t, LauncherClient& c) {
         c.AddNames(names(t, {"/a", "/a"}));
       }},
      {"NestedPath",
       [=](auto* t, LauncherClient& c) {
         c.AddNames(names(t, {"/a", "/a/b"}));
       }},
      {"NestingPathAcrossCalls",
       [=](auto* t, LauncherClient& c) {
         c.AddNames(names(t, {"/a/b"}));
         c.AddNames(names(t, {"/a"}));
       }},
      {"TwoRoots",
       [=](auto* t, LauncherClient& c) {
         c.AddNames(names(t, {"/", "/"}));
       }},
      {"ReservedBits",
       [=](auto*, LauncherClient& c) { c.AddHandles(handle(0x0100u | CAPSPAWN_PA_USER0)); }},
      {"UnknownType",
       [=](auto*, LauncherClient& c) { c.AddHandles(handle(CAPSPAWN_PA_HND(0xE5, 0))); }},
  };
}

TEST_P(LauncherValidation, IsInvalidArgsAndResetsTheState) {
  const Rule rule = Rules()[static_cast<size_t>(GetParam())];
  SCOPED_TRACE(rule.name);
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({ChildPath(), "--report-fd", "-1"}).ok());
  rule.send(this, c);
  LaunchInfo info;
  info.executable = ChildExecutable();
  Result<Process> p = c.Launch(std::move(info));
  ASSERT_FALSE(p.ok()) << rule.name;
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_INVALID_ARGS) << p.error().message();
  EXPECT_FALSE(p.error().message().empty());
  ChildRun run = RunThroughLauncher(c, {"--exit", "3"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 3);
  EXPECT_EQ(run.report.argv, (Strings{ChildPath(), "--exit", "3"}));
}

INSTANTIATE_TEST_SUITE_P(Rules, LauncherValidation,
                         ::testing::Range(0, static_cast<int>(Rules().size())),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::string(Rules()[static_cast<size_t>(i.param)].name);
                         });

TEST_F(LauncherTest, NulInTheProcessNameIsInvalidArgs) {
  LauncherClient c = Connect();
  LaunchInfo info;
  info.name = std::string("a\0b", 3);
  ChildRun run = RunThroughLauncher(c, {}, {}, {}, std::move(info));
  EXPECT_EQ(run.status, CAPSPAWN_ERR_INVALID_ARGS) << run.err;
}

TEST_F(LauncherTest, AnExecutableThatIsNotAFileFails) {
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({"x"}).ok());
  LaunchInfo info;
  info.executable = OpenDir("/tmp");
  Result<Process> p = c.Launch(std::move(info));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_WRONG_TYPE) << p.error().message();
}

TEST_F(LauncherTest, AScriptWithAnInterpreterPathIsRefused) {
  // The daemon opens no path for a client: #! is the client's to follow.
  TempDir dir;
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({"script"}).ok());
  LaunchInfo info;
  info.executable.reset(open(dir.WriteFile("script", "#!/bin/sh\nexit 0\n").c_str(), O_RDONLY));
  Result<Process> p = c.Launch(std::move(info));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_NOT_SUPPORTED) << p.error().message();
}

// Fuchsia's create-without-starting test: the process exists, has exec'd
// and waits before its first instruction; the client starts it.
TEST_F(LauncherTest, CreateWithoutStartingThenStart) {
  LauncherClient c = Connect();
  Pipe report = MakePipe();
  ASSERT_TRUE(c.AddArgs({ChildPath(), "--exit", "5"}).ok());
  std::vector<LaunchHandleInfo> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1), std::move(report.write)});
  ASSERT_TRUE(c.AddHandles(std::move(handles)).ok());
  AddRootIfDynamic(c);
  LaunchInfo info;
  info.executable = ChildExecutable();
  Result<capspawn::ProcessStartData> d = c.CreateWithoutStarting(std::move(info));
  ASSERT_TRUE(d.ok()) << d.error().message();
  const pid_t pid = d->process.pid();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(d->thread, pid);
  EXPECT_NE(d->entry, 0u);
  EXPECT_NE(d->stack, 0u);
  EXPECT_NE(d->base, 0u);
  EXPECT_TRUE(d->root_vmar.valid());
  // Stopped: state T in /proc/PID/stat, its executable already the program.
  std::string stat = ReadFileBytes("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  ASSERT_NE(paren, std::string::npos) << stat;
  EXPECT_EQ(stat[paren + 2], 'T') << stat;
  ASSERT_EQ(capspawn_start(d->process.pidfd().get()), CAPSPAWN_OK);
  Report r = ParseReport(ReadAll(report.read.get()));
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.pid, pid);
  Result<int64_t> rc = d->process.Wait();
  ASSERT_TRUE(rc.ok()) << rc.error().message();
  EXPECT_EQ(*rc, 5);
  // Starting it again: it is no longer stopped.
  EXPECT_NE(capspawn_start(d->process.pidfd().get()), CAPSPAWN_OK);
  // And the state was reset.
  LaunchInfo again;
  again.executable = ChildExecutable();
  EXPECT_EQ(c.Launch(std::move(again)).status(), CAPSPAWN_ERR_INVALID_ARGS);
}

TEST_F(LauncherTest, CreateWithoutStartingFailureResetsTheState) {
  LauncherClient c = Connect();
  ASSERT_TRUE(c.AddArgs({std::string("a\0b", 3)}).ok());
  LaunchInfo info;
  info.executable = ChildExecutable();
  Result<capspawn::ProcessStartData> d = c.CreateWithoutStarting(std::move(info));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status(), CAPSPAWN_ERR_INVALID_ARGS);
  ChildRun run = RunThroughLauncher(c, {"--exit", "2"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 2);
}

TEST_F(LauncherTest, NoZombiesAreLeftInTheDaemon) {
  LauncherClient c = Connect();
  for (int i = 0; i < 10; ++i) {
    ChildRun run = RunThroughLauncher(c, {"--report-fd", "-1", "--exit", std::to_string(i)});
    ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
    EXPECT_EQ(run.return_code, i);
  }
  // The kernel reaps each as it exits, for the worker that launched it: below
  // the daemon only its own processes are left (the master's workers and
  // spares), none a zombie.
  std::vector<std::string> left;
  for (int i = 0; i < 500; ++i) {
    left.clear();
    std::vector<pid_t> all = ChildrenOf(daemon_.pid());
    for (size_t k = 0; k < all.size(); ++k) {
      for (pid_t g : ChildrenOf(all[k])) all.push_back(g);
    }
    for (pid_t pid : all) {
      const std::string comm = ReadFileBytes("/proc/" + std::to_string(pid) + "/comm");
      const std::string state = StatusField(pid, "State");
      if (comm != "capspawn-launch\n" || state.rfind("Z", 0) == 0) {
        left.push_back(std::to_string(pid) + " " + comm + " " + state);
      }
    }
    if (left.empty()) break;
    usleep(10000);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " left, first: " << left[0];
}

// A client of another uid gets processes with its own uid, gid and groups,
// and may not use a job it could not use itself.
TEST_F(LauncherTest, ProcessesRunAsTheClient) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(90);
    }
    Result<LauncherClient> c = LauncherClient::Connect(daemon_.socket());
    if (!c.ok()) _exit(91);
    if (!c->AddArgs(
              {"sh", "-c", "[ \"$(id -u):$(id -g):$(id -G)\" = 65534:65534:65534 ] && exit 42"})
             .ok())
      _exit(92);
    std::vector<LaunchNameInfo> root;
    root.push_back({"/", UniqueFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC))});
    if (!c->AddNames(std::move(root)).ok()) _exit(93);
    LaunchInfo info;
    info.executable.reset(open("/bin/sh", O_RDONLY | O_CLOEXEC));
    Result<Process> p = c->Launch(std::move(info));
    if (!p.ok()) _exit(94);
    Result<int64_t> rc = p->Wait();
    if (!rc.ok() || *rc != 42) _exit(95);
    // The root cgroup: nobody may not move processes there (as in-process,
    // the clone into it is refused).
    if (!c->AddArgs({"true"}).ok()) _exit(96);
    std::vector<LaunchNameInfo> again;
    again.push_back({"/", UniqueFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC))});
    if (!c->AddNames(std::move(again)).ok()) _exit(96);
    LaunchInfo in_root;
    in_root.executable.reset(open("/bin/true", O_RDONLY | O_CLOEXEC));
    int cg = -1;
    if (capspawn_job_default(&cg, nullptr) != CAPSPAWN_OK) _exit(97);
    // Walk up to the top of the hierarchy.
    UniqueFd dir(cg);
    for (;;) {
      UniqueFd parent(openat(dir.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      struct stat a, b;
      if (!parent || fstat(parent.get(), &a) != 0 || fstat(dir.get(), &b) != 0) break;
      if (a.st_dev != b.st_dev) break;
      dir = std::move(parent);
      if (a.st_ino == b.st_ino) break;
    }
    // Unless the top is the client's own cgroup: that is its default job,
    // which it may use as job -1 (docs/jobs.md).
    struct stat top, own;
    const bool is_own = fstat(dir.get(), &top) == 0 && capspawn_job_default(&cg, nullptr) == 0 &&
                        fstat(cg, &own) == 0 && top.st_ino == own.st_ino;
    in_root.job = std::move(dir);
    Result<Process> denied = c->Launch(std::move(in_root));
    if (is_own) _exit(denied.ok() && denied->Wait().ok() ? 0 : 98);
    _exit(!denied.ok() && denied.status() == CAPSPAWN_ERR_ACCESS_DENIED ? 0 : 98);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << daemon_.Log();
}

// The scenario the launcher exists for: a process in a job whose policy
// denies new processes cannot fork, yet gets a child through the launcher.
TEST_F(LauncherTest, DenyJobProcessCreatesAGrandchildThroughTheLauncher) {
  Result<capspawn::Job> def = capspawn::Job::Default();
  if (!def.ok()) GTEST_SKIP() << "no usable cgroup v2: " << def.error().message();
  Result<capspawn::Job> job =
      def->CreateChild("capspawn-launcher-test-" + std::to_string(getpid()));
  if (!job.ok() && geteuid() != 0) {
    GTEST_SKIP() << "this user may not create jobs here: " << job.error().message();
  }
  ASSERT_TRUE(job.ok()) << job.error().message();
  ASSERT_TRUE(job->SetNewProcessPolicy(capspawn::NewProcessPolicy::kDeny).ok());
  const std::string launcher = "CAPSPAWN_LAUNCHER=" + daemon_.socket();
  // In-process, the nested spawn fails (spawn_child exits 200)...
  Spawned alone = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(),
                        {ChildPath(), "--report-fd", "-1", "--spawn", ChildPath(), "42"}, Strings{},
                        {}, job->fd().get());
  ASSERT_EQ(alone.status, CAPSPAWN_OK) << alone.err;
  EXPECT_EQ(Wait(alone.process.get()), 200);
  // ...through the launcher it runs, in the same DENY job, and returns its code.
  Spawned asked = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(),
                        {ChildPath(), "--report-fd", "-1", "--spawn", ChildPath(), "42"},
                        Strings{launcher}, {}, job->fd().get());
  ASSERT_EQ(asked.status, CAPSPAWN_OK) << asked.err;
  EXPECT_EQ(Wait(asked.process.get()), 42) << daemon_.Log();
  EXPECT_TRUE(job->Kill(5'000'000'000).ok());
  EXPECT_TRUE(job->Destroy().ok());
}

}  // namespace
}  // namespace capspawn_test
