// SPDX-License-Identifier: Apache-2.0
// ProcessWait: capspawn_process_wait / capspawn_process_kill on the pidfd a
// spawn returns — timeouts, bad handles, and holders that are not the parent
// (they read the exit status through PIDFD_GET_INFO).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

bool SendFd(int sock, int fd) {
  char byte = 'p';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof control);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1;
}

int RecvFd(int sock) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return -1;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

// Spawns spawn_child with no report and `extra` arguments; the pidfd or -1.
ProcessFd SpawnQuiet(const Strings& extra, std::vector<capspawn_action_t> actions = {}) {
  Strings argv = {ChildPath(), "--report-fd", "-1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), argv, {}, actions);
  if (s.status != CAPSPAWN_OK) {
    ADD_FAILURE() << capspawn_status_string(s.status) << ": " << s.err;
    return ProcessFd();
  }
  return std::move(s.process);
}

// Exit code of a plain fork()ed helper.
int ReapForked(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ProcessWait, TimesOutWhileRunning) {
  ProcessFd p = SpawnQuiet({"--sleep"});
  ASSERT_TRUE(p);
  int64_t rc = 12345;
  EXPECT_EQ(capspawn_process_wait(p.get(), 0, &rc), CAPSPAWN_ERR_TIMED_OUT);
  EXPECT_EQ(capspawn_process_wait(p.get(), 20'000'000, &rc), CAPSPAWN_ERR_TIMED_OUT);
  EXPECT_EQ(rc, 12345) << "a timed-out wait must not write a return code";
  ASSERT_EQ(capspawn_process_kill(p.get()), CAPSPAWN_OK);
  EXPECT_EQ(Wait(p.get()), -SIGKILL);
}

TEST(ProcessWait, TimeoutLongerThanLifeReturnsCode) {
  ProcessFd p = SpawnQuiet({"--exit", "3"});
  ASSERT_TRUE(p);
  int64_t rc = 0;
  EXPECT_EQ(capspawn_process_wait(p.get(), 60'000'000'000, &rc), CAPSPAWN_OK);
  EXPECT_EQ(rc, 3);
}

TEST(ProcessWait, WaitTwiceReturnsTheSameCode) {
  ProcessFd p = SpawnQuiet({"--exit", "9"});
  ASSERT_TRUE(p);
  EXPECT_EQ(Wait(p.get()), 9);
  int64_t rc = 0;
  EXPECT_EQ(capspawn_process_wait(p.get(), 0, &rc), CAPSPAWN_OK);
  EXPECT_EQ(rc, 9);
}

TEST(ProcessWait, KillAfterExitBeforeReapIsOk) {
  ProcessFd p = SpawnQuiet({"--exit", "5"});
  ASSERT_TRUE(p);
  // A pidfd polls readable once the process has exited (not yet reaped).
  pollfd pfd{p.get(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 30000), 1);
  EXPECT_EQ(capspawn_process_kill(p.get()), CAPSPAWN_OK);
  EXPECT_EQ(Wait(p.get()), 5);
}

TEST(ProcessWait, BadHandles) {
  int64_t rc = 0;
  EXPECT_EQ(capspawn_process_wait(-1, 0, &rc), CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_EQ(capspawn_process_kill(-1), CAPSPAWN_ERR_BAD_HANDLE);

  Pipe pipe = MakePipe();
  EXPECT_EQ(capspawn_process_wait(pipe.read.get(), 0, &rc), CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_EQ(capspawn_process_wait(pipe.read.get(), -1, &rc), CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_EQ(capspawn_process_kill(pipe.read.get()), CAPSPAWN_ERR_BAD_HANDLE);

  int closed = pipe.write.release();
  close(closed);
  EXPECT_EQ(capspawn_process_wait(closed, 0, &rc), CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_EQ(capspawn_process_kill(closed), CAPSPAWN_ERR_BAD_HANDLE);

  UniqueFd file(open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file);
  EXPECT_EQ(capspawn_process_wait(file.get(), -1, &rc), CAPSPAWN_ERR_BAD_HANDLE);
}

// The holder is a forked helper that gets the pidfd over a unix socket; the
// spawning test process stays the parent and reaps.
TEST(ProcessWait, NonParentHolderGetsExitCode) {
  Pipe gate = MakePipe();
  ProcessFd p =
      SpawnQuiet({"--wait-fd", "5", "--exit", "42"}, {TransferFd(gate.read.release(), 5)});
  ASSERT_TRUE(p);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd ours(sv[0]), theirs(sv[1]);
  Pipe result = MakePipe();

  pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    // Only what arrives over the socket: drop the copies fork() made.
    close(p.get());
    close(gate.write.get());
    int fd = RecvFd(theirs.get());
    int64_t rc = 0;
    capspawn_status_t st = capspawn_process_wait(fd, -1, &rc);
    std::string line = std::to_string(st) + " " + std::to_string(rc);
    WriteAll(result.write.get(), line);
    _exit(0);
  }
  result.write.reset();
  ASSERT_TRUE(SendFd(ours.get(), p.get()));
  gate.write.reset();  // the child may exit now
  EXPECT_EQ(Wait(p.get()), 42);
  std::string line = ReadAll(result.read.get());
  EXPECT_EQ(ReapForked(helper), 0);
  EXPECT_EQ(line, std::to_string(CAPSPAWN_OK) + " 42");
}

// The parent (a forked intermediate) dies before the child; the child is
// reparented to a subreaper that reaps it. The test process, never the
// parent, waits and kills through the pidfd it was sent.
TEST(ProcessWait, NonParentAfterTheParentDied) {
  for (bool kill_it : {false, true}) {
    SCOPED_TRACE(kill_it ? "killed" : "exits 42");
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd ours(sv[0]), theirs(sv[1]);
    Pipe gate = MakePipe();

    pid_t reaper = fork();
    ASSERT_GE(reaper, 0);
    if (reaper == 0) {
      prctl(PR_SET_CHILD_SUBREAPER, 1);
      pid_t parent = fork();
      if (parent == 0) {
        Strings argv = {ChildPath(), "--report-fd", "-1", "--wait-fd", "5"};
        if (kill_it) argv.push_back("--sleep");
        argv.insert(argv.end(), {"--exit", "42"});
        Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), argv, {}, {CloneFd(gate.read.get(), 5)});
        if (s.status != CAPSPAWN_OK || !SendFd(theirs.get(), s.process.get())) _exit(1);
        _exit(0);  // without waiting: the child outlives its parent
      }
      gate.write.reset();
      gate.read.reset();
      int status;
      bool parent_ok = false;
      for (;;) {
        pid_t w = waitpid(-1, &status, 0);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;  // ECHILD: everything reaped
        if (w == parent) parent_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      _exit(parent_ok ? 0 : 1);
    }
    gate.read.reset();
    theirs.reset();
    ProcessFd pidfd(RecvFd(ours.get()));
    ASSERT_TRUE(pidfd) << "the intermediate did not spawn";
    pid_t pid = PidOfPidfd(pidfd.get());
    EXPECT_GT(pid, 0);
    if (kill_it) {
      EXPECT_EQ(capspawn_process_kill(pidfd.get()), CAPSPAWN_OK);
      gate.write.reset();
      EXPECT_EQ(Wait(pidfd.get()), -SIGKILL);
    } else {
      gate.write.reset();
      EXPECT_EQ(Wait(pidfd.get()), 42);
    }
    EXPECT_EQ(ReapForked(reaper), 0);
    EXPECT_FALSE(HasWaitableChild());
  }
}

}  // namespace
}  // namespace capspawn_test
