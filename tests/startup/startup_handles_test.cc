// SPDX-License-Identifier: Apache-2.0
// StartupHandles: the child side of typed handles — what a socket-activated
// program sees through libsystemd's sd_listen_fds_with_names(), and what
// capspawn_take_startup_handle() returns.
#include <capspawn/processargs.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

const char kSdChild[] = CAPSPAWN_TEST_SD_CHILD;
const uint32_t kUser0 = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0);
const uint32_t kUser1_7 = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 7);
const uint32_t kDirRequest = CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0);
const uint32_t kLifecycle = CAPSPAWN_PA_HND(CAPSPAWN_PA_LIFECYCLE, 0);

// sd_child's output: "n N", "fd F name=X type=T", "env K=V", "pid P", "end".
struct SdReport {
  int n = -1000;
  std::map<int, std::pair<std::string, std::string>> fds;  // fd -> (name, type)
  std::map<std::string, std::string> env;
  std::string pid;
  bool complete = false;
};

SdReport ParseSd(const std::string& text) {
  SdReport r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string key;
    l >> key;
    if (key == "n") {
      l >> r.n;
    } else if (key == "fd") {
      int fd;
      std::string name, type;
      l >> fd >> name >> type;
      r.fds[fd] = {name.substr(5), type.substr(5)};
    } else if (key == "env") {
      std::string kv;
      l >> kv;
      size_t eq = kv.find('=');
      r.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (key == "pid") {
      l >> r.pid;
    } else if (key == "end") {
      r.complete = true;
    }
  }
  return r;
}

TEST(StartupHandles, SdListenFdsWithNamesSeesTypedHandles) {
  Pipe user0 = MakePipe(), lifecycle = MakePipe();
  int sv[2], sv2[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv2), 0);
  UniqueFd dir_peer(sv[0]), user1_peer(sv2[0]);
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, kSdChild, {kSdChild, "--write"}, {},
               {AddHandle(kUser0, user0.write.release()), AddHandle(kDirRequest, sv[1]),
                AddHandle(kLifecycle, lifecycle.write.release()), AddHandle(kUser1_7, sv2[1])});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 0);
  SdReport r = ParseSd(run.output);
  ASSERT_TRUE(r.complete) << run.output;
  EXPECT_EQ(r.n, 4);
  EXPECT_EQ(r.fds[3], (std::pair<std::string, std::string>{"user0.0", "fifo"}));
  EXPECT_EQ(r.fds[4], (std::pair<std::string, std::string>{"directory_request.0", "sock"}));
  EXPECT_EQ(r.fds[5], (std::pair<std::string, std::string>{"lifecycle.0", "fifo"}));
  EXPECT_EQ(r.fds[6], (std::pair<std::string, std::string>{"user1.7", "sock"}));
  EXPECT_EQ(r.env["LISTEN_FDS"], "4");
  EXPECT_EQ(r.env["LISTEN_PID"], r.pid);
  EXPECT_EQ(r.env["LISTEN_FDNAMES"], "user0.0:directory_request.0:lifecycle.0:user1.7");

  // Each fd works: sd_child wrote its name through it.
  EXPECT_EQ(ReadAll(user0.read.get()), "user0.0\n");
  EXPECT_EQ(ReadAll(lifecycle.read.get()), "lifecycle.0\n");
  char buf[64];
  ssize_t n = read(dir_peer.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "directory_request.0\n");
  n = read(user1_peer.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "user1.7\n");
}

TEST(StartupHandles, SdChildWithoutTypedHandlesSeesNone) {
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDNAMES");
  Pipe p = MakePipe();
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, kSdChild, {kSdChild}, {},
                          {AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3), p.write.release())});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  SdReport r = ParseSd(run.output);
  ASSERT_TRUE(r.complete) << run.output;
  EXPECT_EQ(r.n, 0);
  EXPECT_EQ(r.env["LISTEN_FDS"], "(unset)");
  EXPECT_EQ(r.env["LISTEN_PID"], "(unset)");
  EXPECT_EQ(r.env["LISTEN_FDNAMES"], "(unset)");
}

TEST(StartupHandles, TakeReturnsEachHandleOnce) {
  ChildRun run = RunChild(
      CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "3b,f0,1003a,f1"}, {},
      {AddHandle(kUser0, eventfd(0, EFD_CLOEXEC)), AddHandle(kDirRequest, eventfd(0, EFD_CLOEXEC)),
       AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_LIFECYCLE, 1), eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  const auto& h = run.report.handles;
  EXPECT_EQ(h.at(kUser0).fd, 3);
  EXPECT_EQ(h.at(kDirRequest).fd, 4);
  EXPECT_EQ(h.at(CAPSPAWN_PA_HND(CAPSPAWN_PA_LIFECYCLE, 1)).fd, 5);
  EXPECT_EQ(h.at(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 0)).fd, -1);
  for (const auto& [id, info] : h) EXPECT_EQ(info.again, -1) << std::hex << id;
}

TEST(StartupHandles, DynamicChildTakesHandles) {
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, DynChildPath(), {DynChildPath(), "--handles", "f0"},
                          {}, {AddHandle(kUser0, eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(run.report.handles[kUser0].fd, 3);
}

// LISTEN_* variables in the environment given (or inherited) describe fds
// of another process: they never reach a child that was handed no typed
// handle, and take finds no handle even though an fd sits at 3.
TEST(StartupHandles, StaleListenVariablesNeverReachTheChild) {
  Strings env = {"LISTEN_FDS=1", "LISTEN_PID=1", "LISTEN_FDNAMES=user0.0",
                 "CAPSPAWN_STARTUP_IDS=user0.0", "KEPT=1"};
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "f0"}, env,
                          {AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 3), eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  for (const char* name : {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CAPSPAWN_STARTUP_IDS"}) {
    EXPECT_FALSE(run.report.Getenv(name).has_value()) << name;
  }
  EXPECT_EQ(run.report.Getenv("KEPT"), "1");
  EXPECT_EQ(run.report.handles[kUser0].fd, -1);
}

}  // namespace
}  // namespace capspawn_test
