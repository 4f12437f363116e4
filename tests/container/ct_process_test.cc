// SPDX-License-Identifier: Apache-2.0
// Who the program runs as and under which limits: capabilities,
// no_new_privs, rlimits, ids and groups, umask, working directory, sysctls,
// oom_score_adj, the death signal; each with its bad input and failures.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <thread>

#include <capspawn/container.h>

#include "ct_util.h"

namespace {

using namespace ct;  // NOLINT

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }
constexpr int kNetBind = 10, kChown = 0, kSysAdmin = 21, kNetRaw = 13;

// Root, or nobody mapped to root in a user namespace of its own.
std::vector<capspawn_action_t> AsContainerRoot() {
  if (AsRoot()) return {};
  return {Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, geteuid(), 1),
          Map(CAPSPAWN_ACTION_ADD_GID_MAP, 0, getegid(), 1)};
}
std::vector<capspawn_action_t> With(std::vector<capspawn_action_t> a,
                                    std::vector<capspawn_action_t> b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(ContainerProcess, CapabilitySets) {
  capspawn_capabilities_t caps{};
  caps.bounding = Bit(kNetBind) | Bit(kChown) | Bit(kNetRaw);
  caps.permitted = Bit(kNetBind) | Bit(kChown);
  caps.effective = Bit(kNetBind);
  caps.inheritable = Bit(kNetBind);
  caps.ambient = Bit(kNetBind);
  capspawn_action_t a = Act(CAPSPAWN_ACTION_SET_CAPABILITIES);
  a.caps.sets = &caps;
  capspawn_action_t ids = Act(CAPSPAWN_ACTION_SET_IDS);
  ids.ids.uid = 1000;
  ids.ids.gid = 1000;
  std::vector<capspawn_action_t> acts = {a, ids};
  if (!AsRoot()) {  // ids 1000 must exist in the user namespace
    acts.push_back(Map(CAPSPAWN_ACTION_ADD_UID_MAP, 1000, geteuid(), 1));
    acts.push_back(Map(CAPSPAWN_ACTION_ADD_GID_MAP, 1000, getegid(), 1));
  }
  Report r = Spawn(kAll, acts);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r["uid"], "1000");
  // Across exec, a non-root program keeps what is ambient: permitted and
  // effective become the ambient set.
  EXPECT_EQ(r["cap_bnd"], Hex(caps.bounding));
  EXPECT_EQ(r["cap_amb"], Hex(Bit(kNetBind)));
  EXPECT_EQ(r["cap_prm"], Hex(Bit(kNetBind)));
  EXPECT_EQ(r["cap_eff"], Hex(Bit(kNetBind)));
  EXPECT_EQ(r["cap_inh"], Hex(Bit(kNetBind)));
}

TEST(ContainerProcess, RootKeepsExactlyItsSets) {
  capspawn_capabilities_t caps{};
  caps.bounding = caps.permitted = caps.effective = Bit(kSysAdmin) | Bit(kChown);
  capspawn_action_t a = Act(CAPSPAWN_ACTION_SET_CAPABILITIES);
  a.caps.sets = &caps;
  Report r = Spawn(kAll, With(AsContainerRoot(), {a}));
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["uid"], "0");
  EXPECT_EQ(r["cap_bnd"], Hex(caps.bounding));
  EXPECT_EQ(r["cap_prm"], Hex(caps.permitted));
  EXPECT_EQ(r["cap_eff"], Hex(caps.effective));
  EXPECT_EQ(r["cap_amb"], "0");
}

TEST(ContainerProcess, CapabilitiesWithoutPrivilegeAreRefusedByTheKernel) {
  if (AsRoot()) GTEST_SKIP() << "root may raise any capability";
  capspawn_capabilities_t caps{};
  caps.permitted = caps.effective = Bit(kSysAdmin);
  caps.bounding = Bit(kSysAdmin);
  capspawn_action_t a = Act(CAPSPAWN_ACTION_SET_CAPABILITIES);
  a.caps.sets = &caps;
  const int fds = CountFds();
  Report r = Spawn(kAll, {a});  // no user namespace: nobody has no capability to give
  EXPECT_EQ(r.code, CAPSPAWN_ERR_ACCESS_DENIED);
  EXPECT_EQ(r.error,
            "set capabilities (action 0): prctl(PR_CAPBSET_DROP): Operation not permitted");
  EXPECT_EQ(CountFds(), fds);
  EXPECT_FALSE(HasChildren());
}

TEST(ContainerProcess, NoNewPrivsRlimitsUmaskCwd) {
  TempDir d;
  d.MakeDir("work");
  capspawn_rlimit_t nofile{RLIMIT_NOFILE, 64, 128};
  capspawn_rlimit_t nproc{RLIMIT_NPROC, 50, 50};
  capspawn_action_t l1 = Act(CAPSPAWN_ACTION_SET_RLIMIT), l2 = Act(CAPSPAWN_ACTION_SET_RLIMIT);
  l1.rlimit.limit = &nofile;
  l2.rlimit.limit = &nproc;
  const std::string work = d.Path("work");
  Report r = Spawn(
      kAll, {Act(CAPSPAWN_ACTION_SET_NO_NEW_PRIVS), l1, l2, Number(CAPSPAWN_ACTION_SET_UMASK, 027),
             PathAct(CAPSPAWN_ACTION_SET_CWD, work.c_str())});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["nnp"], "1");
  EXPECT_EQ(r["nofile"], "64:128");
  EXPECT_EQ(r["nproc"], "50:50");
  EXPECT_EQ(r["umask"], "0027");
  EXPECT_EQ(r["cwd"], work);
  // Defaults: none of it.
  Report plain = Spawn(kAll, {});
  EXPECT_EQ(plain["nnp"], "0");
}

TEST(ContainerProcess, WorkingDirectoryInARoot) {
  Rootfs root;
  root.MakeDir("srv/app");
  Report r =
      Spawn(kAll, {Root(OpenDir(root.path())), PathAct(CAPSPAWN_ACTION_SET_CWD, "/srv/app")});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["cwd"], "/srv/app");
  Report missing =
      Spawn(kAll, {Root(OpenDir(root.path())), PathAct(CAPSPAWN_ACTION_SET_CWD, "/nope")});
  // fdio's status: a missing path after the program is open is INTERNAL
  // (not "no such program"); the message names it.
  EXPECT_EQ(missing.code, CAPSPAWN_ERR_INTERNAL);
  EXPECT_EQ(missing.error, "set working directory (action 1): chdir: No such file or directory");
}

TEST(ContainerProcess, RaisingAHardLimitNeedsPrivilege) {
  rlimit cur;
  getrlimit(RLIMIT_NOFILE, &cur);
  if (AsRoot() || cur.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "root may raise hard limits";
  capspawn_rlimit_t more{RLIMIT_NOFILE, cur.rlim_max, cur.rlim_max + 1};
  capspawn_action_t l = Act(CAPSPAWN_ACTION_SET_RLIMIT);
  l.rlimit.limit = &more;
  Report r = Spawn(kAll, {l});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_ACCESS_DENIED);
  EXPECT_EQ(r.error, "set rlimit RLIMIT_NOFILE (action 0): prlimit64: Operation not permitted");
  EXPECT_FALSE(HasChildren());
}

TEST(ContainerProcess, SysctlsInTheChildsNamespaces) {
  capspawn_action_t s1 = Act(CAPSPAWN_ACTION_SET_SYSCTL);
  s1.sysctl.key = "net.ipv4.ip_unprivileged_port_start";
  s1.sysctl.value = "80";
  capspawn_action_t s2 = Act(CAPSPAWN_ACTION_SET_SYSCTL);
  s2.sysctl.key = "kernel.shmmni";
  s2.sysctl.value = "1234";
  Report r = Spawn(
      kAll, With(AsContainerRoot(), {NewNs(CAPSPAWN_NEW_NS_NET | CAPSPAWN_NEW_NS_IPC), s1, s2}),
      {"read:/proc/sys/net/ipv4/ip_unprivileged_port_start", "read:/proc/sys/kernel/shmmni"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["read:/proc/sys/net/ipv4/ip_unprivileged_port_start"], "80");
  EXPECT_EQ(r["read:/proc/sys/kernel/shmmni"], "1234");
  std::ifstream host("/proc/sys/kernel/shmmni");
  std::string v;
  host >> v;
  EXPECT_NE(v, "1234") << "the caller's namespace changed";
}

TEST(ContainerProcess, OomScoreAndDeathSignal) {
  Report r = Spawn(kAll,
                   {Number(CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ, 500),
                    Number(CAPSPAWN_ACTION_SET_DEATH_SIGNAL, SIGKILL)},
                   {"read:/proc/self/oom_score_adj"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["read:/proc/self/oom_score_adj"], "500");
  EXPECT_EQ(r["pdeathsig"], std::to_string(SIGKILL));
  if (!AsRoot()) {
    // Lowering it needs CAP_SYS_RESOURCE.
    Report low = Spawn(kAll, {Number(CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ, -500)});
    EXPECT_EQ(low.code, CAPSPAWN_ERR_ACCESS_DENIED);
    EXPECT_EQ(low.error,
              "set oom_score_adj (action 0): write /proc/self/oom_score_adj: Permission denied");
  }
}

TEST(ContainerProcess, NewSessionMakesTheProgramASessionLeader) {
  Report plain = Spawn(kAll, {});
  ASSERT_EQ(plain.code, CAPSPAWN_OK) << plain.error;
  EXPECT_EQ(plain["sid"], std::to_string(getsid(0))) << "without the action: the caller's session";
  Report r = Spawn(kAll, {Act(CAPSPAWN_ACTION_NEW_SESSION)});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["sid"], r["pid"]);
  EXPECT_EQ(r["pgid"], r["pid"]);
  EXPECT_NE(r["sid"], std::to_string(getsid(0)));
  // In a new pid namespace the leader is the program itself, pid 1 there
  // (the caller's session leader is outside it: 0 without the action).
  Report in_ns = Spawn(kAll, With(AsContainerRoot(),
                                  {NewNs(CAPSPAWN_NEW_NS_PID), Act(CAPSPAWN_ACTION_NEW_SESSION)}));
  ASSERT_EQ(in_ns.code, CAPSPAWN_OK) << in_ns.error;
  EXPECT_EQ(in_ns["pid"], "1");
  EXPECT_EQ(in_ns["sid"], "1");
  EXPECT_EQ(in_ns["pgid"], "1");
  Report ns_plain = Spawn(kAll, With(AsContainerRoot(), {NewNs(CAPSPAWN_NEW_NS_PID)}));
  ASSERT_EQ(ns_plain.code, CAPSPAWN_OK) << ns_plain.error;
  EXPECT_EQ(ns_plain["sid"], "0");
}

// The spawning thread exits: a child with a death signal dies with it.
TEST(ContainerProcess, DiesWithItsCreator) {
  int process = -1;
  std::string err;
  std::thread t([&] {
    capspawn_action_t d = Number(CAPSPAWN_ACTION_SET_DEATH_SIGNAL, SIGKILL);
    const char* argv[] = {"busybox", "sleep", "30", nullptr};
    char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    if (capspawn_spawn_etc(-1, kAll, "/bin/busybox", argv, nullptr, 1, &d, &process, msg) != 0)
      err = msg;
  });
  t.join();
  ASSERT_EQ(err, "");
  int64_t rc = 0;
  ASSERT_EQ(capspawn_process_wait(process, 10'000'000'000, &rc), CAPSPAWN_OK);
  EXPECT_EQ(rc, -SIGKILL);
  close(process);
}

TEST(ContainerProcess, BadInput) {
  capspawn_capabilities_t eff_not_prm{};
  eff_not_prm.effective = Bit(kSysAdmin);
  capspawn_capabilities_t amb{};
  amb.permitted = amb.ambient = Bit(kChown);
  capspawn_capabilities_t beyond{};
  beyond.bounding = Bit(62);
  capspawn_rlimit_t bad_res{99, 1, 1}, soft_above{RLIMIT_NOFILE, 10, 5};
  uint32_t groups[] = {1, UINT32_MAX};
  auto caps = [](const capspawn_capabilities_t* c) {
    capspawn_action_t a = Act(CAPSPAWN_ACTION_SET_CAPABILITIES);
    a.caps.sets = c;
    return a;
  };
  auto lim = [](const capspawn_rlimit_t* l) {
    capspawn_action_t a = Act(CAPSPAWN_ACTION_SET_RLIMIT);
    a.rlimit.limit = l;
    return a;
  };
  auto sysctl = [](const char* k, const char* v) {
    capspawn_action_t a = Act(CAPSPAWN_ACTION_SET_SYSCTL);
    a.sysctl.key = k;
    a.sysctl.value = v;
    return a;
  };
  capspawn_action_t ids = Act(CAPSPAWN_ACTION_SET_IDS);
  ids.ids.uid = UINT32_MAX;
  capspawn_action_t grp = Act(CAPSPAWN_ACTION_SET_GROUPS);
  grp.groups.list = groups;
  grp.groups.count = 2;
  capspawn_action_t grp_only = Act(CAPSPAWN_ACTION_SET_GROUPS);
  capspawn_action_t good_ids = Act(CAPSPAWN_ACTION_SET_IDS);
  struct Case {
    std::vector<capspawn_action_t> actions;
    std::string message;
  };
  std::vector<Case> cases = {
      {{caps(nullptr)}, "action 0 (SET_CAPABILITIES): caps.sets is NULL"},
      {{caps(&eff_not_prm)},
       "action 0 (SET_CAPABILITIES): effective has CAP_SYS_ADMIN that permitted lacks"},
      {{caps(&amb)},
       "action 0 (SET_CAPABILITIES): ambient has CAP_CHOWN that is not in both permitted and "
       "inheritable"},
      {{lim(nullptr)}, "action 0 (SET_RLIMIT): rlimit.limit is NULL"},
      {{lim(&bad_res)}, "action 0 (SET_RLIMIT): resource 99 is not an RLIMIT_*"},
      {{lim(&soft_above)}, "action 0 (SET_RLIMIT): soft 10 is above hard 5"},
      {{ids}, "action 0 (SET_IDS): ids.uid 4294967295 is not a uid"},
      {{good_ids, grp}, "action 1 (SET_GROUPS): groups.list[1] 4294967295 is not a gid"},
      {{grp_only}, "action 0 (SET_GROUPS): needs SET_IDS"},
      {{Number(CAPSPAWN_ACTION_SET_UMASK, 01000)},
       "action 0 (SET_UMASK): number.value 512 is not a mode 0..0777"},
      {{PathAct(CAPSPAWN_ACTION_SET_CWD, "rel")},
       "action 0 (SET_CWD): dir.prefix 'rel' is not absolute"},
      {{Number(CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ, 1001)},
       "action 0 (SET_OOM_SCORE_ADJ): number.value 1001 is not -1000..1000"},
      {{Number(CAPSPAWN_ACTION_SET_DEATH_SIGNAL, 99)},
       "action 0 (SET_DEATH_SIGNAL): number.value 99 is not a signal"},
      {{sysctl("net.ipv4.ip_forward", "1")},
       "action 0 (SET_SYSCTL): 'net.ipv4.ip_forward' needs a new NET namespace (NEW_NAMESPACES "
       "with CAPSPAWN_NEW_NS_NET): it would change the caller's"},
      {{sysctl("vm.swappiness", "1")},
       "action 0 (SET_SYSCTL): 'vm.swappiness' is not a namespaced sysctl (net.*, kernel.hostname, "
       "kernel.domainname, the kernel.msg*/sem/shm* IPC ones, fs.mqueue.*)"},
      {{sysctl("net/../x", "1")},
       "action 0 (SET_SYSCTL): sysctl.key 'net/../x' is not a sysctl name"},
      {{sysctl("net.x", nullptr)}, "action 0 (SET_SYSCTL): sysctl.value is NULL"},
  };
  if (capspawn_capability_last() < 62) {
    cases.push_back({{caps(&beyond)}, ""});
  }
  for (Case& c : cases) {
    const int fds = CountFds();
    Report r = Spawn(kAll, c.actions);
    EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS) << c.message;
    if (!c.message.empty()) {
      EXPECT_EQ(r.error, c.message);
    } else {
      EXPECT_NE(r.error.find("bounding has bits 0x4000000000000000 beyond the last capability"),
                std::string::npos)
          << r.error;
    }
    EXPECT_EQ(CountFds(), fds);
  }
  EXPECT_FALSE(HasChildren());
}

}  // namespace
