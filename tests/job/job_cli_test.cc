// SPDX-License-Identifier: Apache-2.0
// `capspawn job ...` and `capspawn run --job`: the CLI over jobs, end to end.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "job_test_util.h"

namespace capspawn::jobtest {
namespace {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

CliResult RunCli(std::vector<std::string> args) {
  args.insert(args.begin(), CAPSPAWN_CLI);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Pipe out = MakePipe(), err = MakePipe();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out.write.get(), 1);
    dup2(err.write.get(), 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  out.write.reset();
  err.write.reset();
  CliResult r;
  // Both pipes are small; read them in turn until both hit EOF.
  struct pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_count = 2;
  while (open_count > 0 && poll(fds, 2, kLongMs) > 0) {
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        fds[i].fd = -1;
        --open_count;
      } else {
        sinks[i]->append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(JobCli, EveryCommandHasHelp) {
  for (const char* command :
       {"create", "list", "ps", "kill", "freeze", "thaw", "limit", "policy", "destroy"}) {
    CliResult r = RunCli({"job", command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command << r.err;
    EXPECT_TRUE(Has(r.out, std::string("Usage: capspawn job ") + command)) << r.out;
  }
  CliResult r = RunCli({"job", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Has(r.out, "destroy")) << r.out;
  EXPECT_EQ(RunCli({"job", "bogus"}).exit_code, 2);
  EXPECT_EQ(RunCli({"job", "kill"}).exit_code, 2);
  EXPECT_EQ(RunCli({"job", "create", "--pids", "lots", "x"}).exit_code, 2);
  EXPECT_EQ(RunCli({"job", "policy", "/nonexistent", "maybe"}).exit_code, 2);
  // A failure names the command and the job as typed, with the capspawn voice.
  r = RunCli({"job", "kill", "/nonexistent-capspawn-job"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err.rfind("capspawn: NOT_FOUND: job kill /nonexistent-capspawn-job: ", 0), 0u)
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(JobTest, CliDrivesAJobFromCreationToDestruction) {
  const std::string path = root_path() + "/cli";
  CliResult r = RunCli({"job", "create", "--deny-new-process", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, path + "\n");

  r = RunCli({"job", "policy", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "new-process deny\n");
  r = RunCli({"job", "policy", path, "allow"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(Has(r.err, "capspawn: ACCESS_DENIED: job policy " + path + ": ")) << r.err;

  r = RunCli({"job", "list", root_path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "cli ")) << r.out;
  EXPECT_TRUE(Has(r.out, "deny")) << r.out;

  // A program run in the job cannot fork.
  r = RunCli({"run", "--job", path, "--", "/usr/bin/python3", "-c", "import os; os.fork()"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Has(r.err, "PermissionError")) << r.err;

  r = RunCli({"job", "limit", path, "--pids", "10"});
  if (r.exit_code != 0) {
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_TRUE(Has(r.err, "capspawn: NOT_SUPPORTED: ") && Has(r.err, "pids")) << r.err;
  } else {
    EXPECT_EQ(r.out, "limited job " + path + ": --pids 10\n");
  }
  // Each change is confirmed on stdout ("VERB job PATH"), or silent with -q.
  const std::pair<const char*, const char*> ops[] = {
      {"freeze", "froze"}, {"thaw", "thawed"}, {"kill", "killed"}};
  for (const auto& [op, done] : ops) {
    r = RunCli({"job", op, path});
    EXPECT_EQ(r.exit_code, 0) << op << ": " << r.err;
    EXPECT_EQ(r.out, std::string(done) + " job " + path + "\n") << op;
  }
  r = RunCli({"job", "thaw", "-q", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = RunCli({"job", "ps", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "    PID COMMAND\n");
  r = RunCli({"job", "create", path + "/late"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(Has(r.err, "capspawn: BAD_STATE: job create " + path + "/late: ")) << r.err;

  r = RunCli({"job", "destroy", "--timeout", "60", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "destroyed job " + path + "\n");
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0);
}

TEST_F(JobTest, CliPsListsTheTree) {
  Result<Job> child = root().CreateChild("ps");
  ASSERT_OK(child);
  Pipe report = MakePipe();
  Result<Process> p = SpawnHelper(child->fd().get(), {"tree", "10"}, {{report.write.get(), 10}});
  ASSERT_OK(p);
  const pid_t main_pid = p->pid();
  std::vector<pid_t> pids = ReadPids(report.read.get(), 5);
  CliResult r = RunCli({"job", "ps", root_path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (pid_t pid : pids) {
    EXPECT_TRUE(Has(r.out, std::to_string(pid) + " job_helper")) << r.out;
  }
  r = RunCli({"job", "list", "-r", root_path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "ps ")) << r.out;
  EXPECT_TRUE(Has(r.out, "running")) << r.out;
  ASSERT_OK(root().Kill(kLongNs));
  ASSERT_OK(p->Wait(kLongNs));
  ReapOrphans(pids, main_pid);
}

}  // namespace
}  // namespace capspawn::jobtest
