// SPDX-License-Identifier: Apache-2.0
// New pid, net, ipc, uts, cgroup and user namespaces, hostname and id maps,
// as root and as nobody (a user namespace then comes with them).
#include <sys/stat.h>
#include <sys/utsname.h>

#include <gtest/gtest.h>

#include "ct_util.h"

namespace {

using namespace ct;  // NOLINT

std::string NsInode(const char* kind) {
  struct stat st;
  std::string p = std::string("/proc/self/ns/") + kind;
  return stat(p.c_str(), &st) == 0 ? std::to_string(st.st_ino) : "?";
}

TEST(ContainerNamespaces, UtsWithHostname) {
  char before[256];
  gethostname(before, sizeof before);
  capspawn_action_t h = Act(CAPSPAWN_ACTION_SET_HOSTNAME);
  h.name.data = "box-1";
  Report r = Spawn(kAll, {h});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r["hostname"], "box-1");
  char after[256];
  gethostname(after, sizeof after);
  EXPECT_STREQ(before, after) << "the caller's hostname must not change";
}

TEST(ContainerNamespaces, NetHasItsOwnLoopbackUp) {
  Report r = Spawn(kAll, {NewNs(CAPSPAWN_NEW_NS_NET)},
                   {"read:/proc/self/net/dev", "stat:/proc/self/ns/net"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r["lo_up"], "1");
}

TEST(ContainerNamespaces, EachKindIsNew) {
  for (const auto& [flag, kind] :
       std::vector<std::pair<uint32_t, const char*>>{{CAPSPAWN_NEW_NS_NET, "net"},
                                                     {CAPSPAWN_NEW_NS_IPC, "ipc"},
                                                     {CAPSPAWN_NEW_NS_UTS, "uts"},
                                                     {CAPSPAWN_NEW_NS_CGROUP, "cgroup"}}) {
    Report r =
        Spawn(kAll, {NewNs(flag)}, {"sh", "-c", std::string("stat -L -c %i /proc/self/ns/") + kind},
              "/bin/busybox");
    ASSERT_EQ(r.code, CAPSPAWN_OK) << kind << ": " << r.error;
    EXPECT_EQ(r.status, 0) << kind;
    std::string ino = r.out;
    while (!ino.empty() && ino.back() == '\n') ino.pop_back();
    EXPECT_FALSE(ino.empty()) << kind;
    EXPECT_NE(ino, NsInode(kind)) << kind << " namespace is the caller's";
  }
}

TEST(ContainerNamespaces, PidNamespaceWithProc) {
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, CAPSPAWN_MOUNT_NOSUID | CAPSPAWN_MOUNT_NODEV, "/proc",
                        -1, nullptr};
  Report r = Spawn(kPrivate, {NewNs(CAPSPAWN_NEW_NS_PID), Mount(&proc)},
                   {"stat:/proc/1", "stat:/proc/2", "read:/proc/self/stat"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["stat:/proc/1"], "dir");
  EXPECT_EQ(r["stat:/proc/2"], "!2");
}

TEST(ContainerNamespaces, UserNamespaceMapsTheCallerToRoot) {
  const std::string self = std::to_string(geteuid());
  Report r = Spawn(kAll,
                   {Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, geteuid(), 1),
                    Map(CAPSPAWN_ACTION_ADD_GID_MAP, 0, getegid(), 1)},
                   {"read:/proc/self/uid_map", "read:/proc/self/gid_map"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r["uid"], "0");
  EXPECT_EQ(r["gid"], "0");
  EXPECT_EQ(r["cap_eff"], Hex(r["cap_prm"] == "" ? 0 : std::stoull(r["cap_prm"], nullptr, 16)));
  EXPECT_NE(r["cap_eff"], "0") << "root in its user namespace keeps its capabilities there";
  EXPECT_NE(r["read:/proc/self/uid_map"].find(self), std::string::npos)
      << r["read:/proc/self/uid_map"];
}

TEST(ContainerNamespaces, RootGivesAFullMapping) {
  if (!AsRoot())
    GTEST_SKIP() << "mapping a range of ids needs CAP_SETUID in the caller's namespace";
  capspawn_action_t ids = Act(CAPSPAWN_ACTION_SET_IDS);
  ids.ids.uid = 1000;
  ids.ids.gid = 1000;
  uint32_t groups[] = {5, 100};
  capspawn_action_t g = Act(CAPSPAWN_ACTION_SET_GROUPS);
  g.groups.list = groups;
  g.groups.count = 2;
  Report r = Spawn(kAll,
                   {Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, 100000, 65536),
                    Map(CAPSPAWN_ACTION_ADD_GID_MAP, 0, 100000, 65536), ids, g},
                   {"read:/proc/self/uid_map", "read:/proc/self/gid_map"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r["uid"], "1000");
  EXPECT_EQ(r["gid"], "1000");
  EXPECT_EQ(r["groups"], "5,100");
  EXPECT_NE(r["read:/proc/self/uid_map"].find("100000"), std::string::npos)
      << r["read:/proc/self/uid_map"];
}

TEST(ContainerNamespaces, NobodyCannotMapOtherIds) {
  if (AsRoot()) GTEST_SKIP() << "root may map any range";
  const int fds = CountFds();
  Report r = Spawn(kAll, {Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, 100000, 65536)});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_ACCESS_DENIED) << r.error;
  EXPECT_NE(r.error.find("user namespace (action 0): the caller writing /proc/PID/uid_map"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(CountFds(), fds);
  EXPECT_FALSE(HasChildren());
}

TEST(ContainerNamespaces, BadInput) {
  struct Case {
    capspawn_action_t action;
    const char* message;
  };
  capspawn_action_t unknown = NewNs(0x8000);
  capspawn_action_t init_alone = NewNs(CAPSPAWN_NEW_NS_PID_INIT);
  capspawn_action_t no_name = Act(CAPSPAWN_ACTION_SET_HOSTNAME);
  capspawn_action_t long_name = Act(CAPSPAWN_ACTION_SET_HOSTNAME);
  std::string sixty_five(65, 'h');
  long_name.name.data = sixty_five.c_str();
  capspawn_action_t empty_map = Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, 0, 0);
  capspawn_action_t wrap = Map(CAPSPAWN_ACTION_ADD_GID_MAP, 0, 0xFFFFFFF0u, 100);
  for (const Case& c : std::vector<Case>{
           {unknown, "action 0 (NEW_NAMESPACES): new_ns.flags has unknown bits 0x8000"},
           {init_alone, "action 0 (NEW_NAMESPACES): new_ns.flags: PID_INIT needs PID"},
           {no_name, "action 0 (SET_HOSTNAME): name.data is NULL"},
           {long_name, "action 0 (SET_HOSTNAME): the hostname must have 1 to 64 bytes"},
           {empty_map, "action 0 (ADD_UID_MAP): idmap.count is 0"},
           {wrap, "action 0 (ADD_GID_MAP): idmap: inside/outside + count passes 4294967295"}}) {
    const int fds = CountFds();
    Report r = Spawn(kAll, {c.action});
    EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS) << c.message;
    EXPECT_EQ(r.error, c.message);
    EXPECT_EQ(CountFds(), fds);
  }
  capspawn_action_t a = Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, 1000, 10);
  capspawn_action_t b = Map(CAPSPAWN_ACTION_ADD_UID_MAP, 5, 2000, 10);
  Report r = Spawn(kAll, {a, b});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(r.error, "action 1 (ADD_UID_MAP): idmap.inside range overlaps action 0");
  EXPECT_FALSE(HasChildren());
}

}  // namespace
