// SPDX-License-Identifier: Apache-2.0
// The container actions (0x1005 and up) and a root directory entry through the
// launcher (CAPSPAWN_LAUNCHER): the protocol does not carry them yet, so the
// client refuses the request before sending it, naming the action, and
// leaves nothing behind (the actions' fds are consumed; no process).
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <capspawn/spawn.h>
#include <capspawn/start.h>

#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

class ContainerViaLauncherTest : public ViaLauncherTest {
 protected:
  // capspawn_spawn_etc of spawn_child (which would exit 0) with `actions`.
  static capspawn_status_t Spawn(size_t count, const capspawn_action_t* actions, std::string* err,
                                 int* pidfd) {
    const std::string path = ChildPath();
    const char* argv[] = {path.c_str(), "--report-fd", "-1", nullptr};
    char buf[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    capspawn_status_t st =
        capspawn_spawn_etc(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, path.c_str(), argv, nullptr,
                           count, actions, pidfd, buf);
    *err = buf;
    return st;
  }
};

TEST_F(ContainerViaLauncherTest, AContainerActionIsRefusedNamingIt) {
  UniqueFd null_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(null_fd);
  capspawn_action_t actions[2] = {};
  actions[0].action = CAPSPAWN_ACTION_CLONE_FD;
  actions[0].fd.local_fd = null_fd.get();
  actions[0].fd.target_fd = 5;
  actions[1].action = CAPSPAWN_ACTION_SET_HOSTNAME;
  actions[1].name.data = "box";
  std::string err;
  int pidfd = -1;
  EXPECT_EQ(Spawn(2, actions, &err, &pidfd), CAPSPAWN_ERR_NOT_SUPPORTED) << err;
  EXPECT_EQ(pidfd, -1);
  EXPECT_NE(err.find("action 1 (SET_HOSTNAME)"), std::string::npos) << err;
  EXPECT_NE(err.find("not carried through the launcher"), std::string::npos) << err;
  // The same request in-process gets past this point: the refusal is the
  // launcher path's alone. (A hostname needs a UTS namespace, which nobody
  // gets only with a user namespace; either way not NOT_SUPPORTED's message.)
  unsetenv("CAPSPAWN_LAUNCHER");
  capspawn_status_t st = Spawn(2, actions, &err, &pidfd);
  EXPECT_EQ(err.find("launcher"), std::string::npos) << err;
  if (st == CAPSPAWN_OK) {
    int64_t rc = -1;
    EXPECT_EQ(capspawn_process_wait(pidfd, -1, &rc), CAPSPAWN_OK);
    EXPECT_EQ(rc, 0);
    close(pidfd);
  }
}

TEST_F(ContainerViaLauncherTest, TheFirstContainerActionIsNamedAndItsFdConsumed) {
  const int source = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(source, 0);
  capspawn_mount_t mount = {};
  mount.kind = CAPSPAWN_MOUNT_BIND;
  mount.target = "/mnt";
  mount.source = source;
  capspawn_action_t actions[3] = {};
  actions[0].action = CAPSPAWN_ACTION_SET_NAME;
  actions[0].name.data = "refused";
  actions[1].action = CAPSPAWN_ACTION_ADD_MOUNT;
  actions[1].mount.spec = &mount;
  actions[2].action = CAPSPAWN_ACTION_SET_NO_NEW_PRIVS;
  std::string err;
  int pidfd = -1;
  EXPECT_EQ(Spawn(3, actions, &err, &pidfd), CAPSPAWN_ERR_NOT_SUPPORTED) << err;
  EXPECT_NE(err.find("action 1 (ADD_MOUNT)"), std::string::npos) << err;
  EXPECT_EQ(fcntl(source, F_GETFD), -1) << "the bind source fd was not consumed";
}

TEST_F(ContainerViaLauncherTest, CreateWithoutStartingRefusesThemToo) {
  const std::string path = ChildPath();
  const char* argv[] = {path.c_str(), "--report-fd", "-1", nullptr};
  capspawn_action_t action = {};
  action.action = CAPSPAWN_ACTION_NEW_NAMESPACES;
  action.new_ns.flags = CAPSPAWN_NEW_NS_NET;
  capspawn_start_data_t data = {};
  data.process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  EXPECT_EQ(
      capspawn_create_without_starting(CAPSPAWN_INVALID_HANDLE, CAPSPAWN_CLONE_ALL, path.c_str(),
                                       -1, argv, nullptr, 1, &action, &data, err),
      CAPSPAWN_ERR_NOT_SUPPORTED)
      << err;
  EXPECT_NE(std::string(err).find("action 0 (NEW_NAMESPACES)"), std::string::npos) << err;
  EXPECT_EQ(data.process, -1);
}

// On the wire "/" is the client's whole filesystem, not a root directory.
TEST_F(ContainerViaLauncherTest, ARootDirectoryEntryIsRefused) {
  capspawn_action_t action = {};
  action.action = CAPSPAWN_ACTION_ADD_NS_ENTRY;
  action.ns.prefix = "/";
  action.ns.handle = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(action.ns.handle, 0);
  std::string err;
  int pidfd = -1;
  EXPECT_EQ(Spawn(1, &action, &err, &pidfd), CAPSPAWN_ERR_NOT_SUPPORTED) << err;
  EXPECT_NE(err.find("action 0: a root directory entry"), std::string::npos) << err;
  EXPECT_EQ(fcntl(action.ns.handle, F_GETFD), -1) << "the entry's fd was not consumed";
}

// `capspawn run --launcher`: the refusal names the option as typed.
TEST_F(ContainerViaLauncherTest, TheCliNamesTheOption) {
  const std::string command = std::string(CAPSPAWN_TEST_CLI) + " run --launcher '" +
                              daemon_.socket() + "' --hostname box -- /bin/true 2>&1";
  FILE* p = popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_NE(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("NOT_SUPPORTED"), std::string::npos) << out;
  EXPECT_NE(out.find("--hostname box (SET_HOSTNAME): container actions are not carried through "
                     "the launcher"),
            std::string::npos)
      << out;
}

// A join is a container action like the others: refused naming it, its
// (borrowed) fd left open for the caller.
TEST_F(ContainerViaLauncherTest, AJoinIsRefusedNamingIt) {
  UniqueFd ns(open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ns);
  capspawn_action_t actions[1] = {};
  actions[0].action = CAPSPAWN_ACTION_JOIN_NAMESPACE;
  actions[0].join.type = CLONE_NEWUTS;
  actions[0].join.fd = ns.get();
  std::string err;
  int pidfd = -1;
  EXPECT_EQ(Spawn(1, actions, &err, &pidfd), CAPSPAWN_ERR_NOT_SUPPORTED) << err;
  EXPECT_EQ(pidfd, -1);
  EXPECT_NE(err.find("action 0 (JOIN_NAMESPACE)"), std::string::npos) << err;
  EXPECT_NE(err.find("not carried through the launcher"), std::string::npos) << err;
  EXPECT_EQ(fcntl(ns.get(), F_GETFD), FD_CLOEXEC) << "the namespace fd is borrowed, not consumed";
}

}  // namespace
}  // namespace capspawn_test
