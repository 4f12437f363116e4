// SPDX-License-Identifier: Apache-2.0
#include "daemon_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

extern char** environ;

namespace capspawn_test {

using capspawn::LauncherClient;
using capspawn::LaunchHandleInfo;
using capspawn::LaunchInfo;
using capspawn::LaunchNameInfo;

void Launcherd::Start(const std::vector<std::string>& options) {
  dir_ = std::make_unique<TempDir>();
  chmod(dir_->path().c_str(), 0755);  // clients of other uids reach the socket
  socket_ = dir_->Path("launcher.sock");
  mkdir(dir_->Path("packages").c_str(), 0755);
  Exec(options, false);
}

void Launcherd::Restart(const std::vector<std::string>& options) {
  ASSERT_TRUE(dir_ != nullptr) << "Restart before Start";
  ASSERT_LT(pid_, 0) << "Restart while the daemon runs";
  Exec(options, true);
}

void Launcherd::Exec(const std::vector<std::string>& options, bool append_log) {
  Pipe ready = MakePipe();
  const std::string log = dir_->Path("log");
  std::vector<std::string> args = {
      CAPSPAWN_TEST_LAUNCHERD, "--socket", socket_, "--ready-fd", "3", "--resolver-root",
      dir_->Path("packages")};
  args.insert(args.end(), options.begin(), options.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The daemon gets no CAPSPAWN_LAUNCHER of ours (it unsets it anyway).
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "CAPSPAWN_LAUNCHER=", 18) != 0) env.push_back(*e);
  }
  for (std::string& e : extra_env_) env.push_back(e.data());
  env.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, ready.write.get(), 3);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(),
                                   O_WRONLY | O_CREAT | (append_log ? O_APPEND : O_TRUNC), 0644);
  int r = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  ASSERT_EQ(r, 0) << std::strerror(r);
  ready.write.reset();
  std::string line = ReadAll(ready.read.get(), 30000);
  ASSERT_EQ(line, "READY\n") << Log();
}

int Launcherd::SignalAndReap(int signo) {
  if (pid_ < 0) return 0;
  kill(pid_, signo);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

int Launcherd::Stop() { return SignalAndReap(SIGTERM); }
int Launcherd::Kill() { return SignalAndReap(SIGKILL); }

Launcherd::~Launcherd() { Stop(); }

bool Launcherd::Alive() const {
  if (pid_ < 0) return false;
  int status;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

std::string Launcherd::Log() const { return dir_ ? ReadFileBytes(dir_->Path("log")) : ""; }

std::string Launcherd::SanitizerReport() const {
  const std::string log = Log();
  for (const char* mark : {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
                           "ERROR: LeakSanitizer", "runtime error:"}) {
    size_t at = log.find(mark);
    if (at != std::string::npos) return log.substr(at, 4000);
  }
  return "";
}

void LauncherTest::SetUp() { ASSERT_NO_FATAL_FAILURE(daemon_.Start(DaemonOptions())); }

void LauncherTest::TearDown() {
  EXPECT_EQ(daemon_.SanitizerReport(), "") << "in the daemon's log";
  EXPECT_TRUE(daemon_.Alive()) << "the daemon died:\n" << daemon_.Log();
  int status = daemon_.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << daemon_.Log();
}

void ViaLauncherTest::SetUp() {
  LauncherTest::SetUp();
  setenv("CAPSPAWN_LAUNCHER", daemon_.socket().c_str(), 1);
}

void ViaLauncherTest::TearDown() {
  unsetenv("CAPSPAWN_LAUNCHER");
  LauncherTest::TearDown();
}

std::string StatusField(pid_t pid, const std::string& name) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      size_t v = line.find_first_not_of(" \t", name.size() + 1);
      return v == std::string::npos ? "" : line.substr(v);
    }
  }
  return "";
}

LauncherClient LauncherTest::Connect() {
  capspawn::Result<LauncherClient> c = LauncherClient::Connect(daemon_.socket());
  EXPECT_TRUE(c.ok()) << c.error().message();
  return std::move(c.value());
}

UniqueFd LauncherTest::OpenDir(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  EXPECT_TRUE(fd.valid()) << path << ": " << std::strerror(errno);
  return fd;
}

void LauncherTest::AddRootIfDynamic(LauncherClient& client) {
  if (ChildIsStatic()) return;
  std::vector<LaunchNameInfo> root;
  root.push_back({"/", OpenDir("/")});
  EXPECT_TRUE(client.AddNames(std::move(root)).ok());
}

UniqueFd LauncherTest::ChildExecutable() {
  UniqueFd fd(open(ChildPath(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd.valid()) << ChildPath();
  return fd;
}

ChildRun LauncherTest::RunThroughLauncher(LauncherClient& client, const Strings& args,
                                          std::vector<LaunchHandleInfo> handles,
                                          std::vector<LaunchNameInfo> names, LaunchInfo info) {
  ChildRun run;
  Pipe report = MakePipe();
  Strings argv = {ChildPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1), std::move(report.write)});
  bool has_root = false;
  for (const LaunchNameInfo& n : names) has_root |= n.path == "/";
  capspawn::Status st = client.AddArgs(argv);
  if (st.ok() && !handles.empty()) st = client.AddHandles(std::move(handles));
  if (st.ok() && !names.empty()) st = client.AddNames(std::move(names));
  if (st.ok() && !has_root) AddRootIfDynamic(client);
  if (!st.ok()) {
    run.status = st.status();
    run.err = st.error().message();
    return run;
  }
  if (!info.executable) info.executable = ChildExecutable();
  capspawn::Result<capspawn::Process> p = client.Launch(std::move(info));
  if (!p.ok()) {
    run.status = p.status();
    run.err = p.error().message();
    return run;
  }
  run.status = CAPSPAWN_OK;
  run.output = ReadAll(report.read.get());
  capspawn::Result<int64_t> rc = p->Wait();
  run.return_code = rc.ok() ? *rc : INT64_MIN;
  run.report = ParseReport(run.output);
  return run;
}

void LauncherTest::MakePackage(const std::string& name, const std::string& binary,
                               const std::string& content, bool with_lib) {
  const std::string pkg = packages() + "/" + name;
  mkdir(pkg.c_str(), 0755);
  mkdir((pkg + "/bin").c_str(), 0755);
  if (with_lib) mkdir((pkg + "/lib").c_str(), 0755);
  const std::string path = pkg + "/bin/" + binary;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  ASSERT_GE(fd, 0) << path;
  ASSERT_TRUE(WriteAll(fd, content));
  close(fd);
  chmod(path.c_str(), 0755);
}

}  // namespace capspawn_test
