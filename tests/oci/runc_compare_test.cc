// SPDX-License-Identifier: Apache-2.0
// runc (Debian's) as the reference: the same bundle run by `runc run` and by
// `capspawn-oci run` must give the same exit code and the same output — what
// the process sees in /proc/self/status (ids, capabilities, no_new_privs),
// its pid namespace, its mounts' types and flags, hostname, rlimits, umask,
// environment, ids and groups, capability sets, mounts (nested, binds, tmpfs
// options), masked and read-only paths, sysctls, a seccomp profile, the
// working directory. And `state` must say the same through create/start/kill.
// As nobody both get `spec --rootless`'s container root mapped to the caller
// (as runc --rootless); what needs more than one id is root's only.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "oci_util.h"

namespace oci_test {
namespace {

class RuncCompare : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Have("runc")) GTEST_SKIP() << "runc is not installed (scripts/setup.sh installs it)";
    BecomeSubreaper();
  }
  void TearDown() override { ReapOrphans(); }

  // For runc as nobody: container root mapped to the caller (runc requires it).
  static void RuncRootless(json& c) {
    if (IsRoot()) return;
    c["linux"]["uidMappings"] =
        json::array({{{"containerID", 0}, {"hostID", geteuid()}, {"size", 1}}});
    c["linux"]["gidMappings"] =
        json::array({{{"containerID", 0}, {"hostID", getegid()}, {"size", 1}}});
    c["process"]["user"] = {{"uid", 0}, {"gid", 0}};
  }

  // Runs `script` (sh -c) in one bundle with each runtime.
  std::pair<Ran, Ran> Both(const std::string& script,
                           const std::function<void(json&)>& edit = nullptr) {
    std::vector<std::string> args = {"sh", "-c", script};
    MakeBundle(dir_.path() + "/cs", args, edit);
    MakeBundle(dir_.path() + "/runc", args, [&](json& c) {
      if (edit) edit(c);
      RuncRootless(c);
    });
    Ran ours = Exec({OciBinary(), "--root", dir_.path() + "/cs-state", "run", "--bundle",
                     dir_.path() + "/cs", UniqueId("cmp")});
    Ran theirs = Exec({"runc", "--root", dir_.path() + "/runc-state", "run", "--bundle",
                       dir_.path() + "/runc", UniqueId("cmp")});
    return {ours, theirs};
  }

  TempDir dir_;
};

TEST_F(RuncCompare, ExitCodesPassThrough) {
  for (int code : {0, 1, 3, 42, 255}) {
    auto [ours, theirs] = Both("exit " + std::to_string(code));
    EXPECT_EQ(theirs.code, code) << theirs.err;
    EXPECT_EQ(ours.code, theirs.code) << ours.err;
  }
}

// A container's pid 1 ignores signals it has no handler for, even SIGKILL
// from inside: it is killed from outside, through `kill`.
TEST_F(RuncCompare, KilledBySignalIs128PlusN) {
  int codes[2];
  for (int i = 0; i < 2; ++i) {
    bool ours = i == 0;
    std::string bundle = dir_.path() + (ours ? "/k-cs" : "/k-runc");
    MakeBundle(bundle, {"sleep", "1000"}, ours ? std::function<void(json&)>() : RuncRootless);
    std::vector<std::string> base = {ours ? OciBinary() : "runc", "--root",
                                     dir_.path() + (ours ? "/k-cs-state" : "/k-runc-state")};
    auto with = [&](std::vector<std::string> rest) {
      std::vector<std::string> v = base;
      v.insert(v.end(), rest.begin(), rest.end());
      return v;
    };
    Ran run;
    std::string id = UniqueId("kill");
    std::thread t([&] { run = Exec(with({"run", "--bundle", bundle, id})); });
    bool running = false;
    for (int n = 0; n < 500 && !running; ++n) {
      Ran st = Exec(with({"state", id}));
      running = st.code == 0 && json::parse(st.out)["status"] == "running";
      if (!running) usleep(10000);
    }
    EXPECT_TRUE(running);
    EXPECT_EQ(Exec(with({"kill", id, "KILL"})).code, 0);
    t.join();
    codes[i] = run.code;
  }
  EXPECT_EQ(codes[1], 137);
  EXPECT_EQ(codes[0], codes[1]);
}

TEST_F(RuncCompare, OutputAndStdin) {
  auto [ours, theirs] = Both("echo out; echo err >&2; exit 0");
  EXPECT_EQ(ours.out, "out\n");
  EXPECT_EQ(ours.out, theirs.out);
  EXPECT_NE(ours.err.find("err"), std::string::npos);
  // stdin reaches the container's process.
  MakeBundle(dir_.path() + "/in", {"sh", "-c", "read line; echo got $line"});
  Ran r = Exec({OciBinary(), "--root", dir_.path() + "/in-state", "run", "--bundle",
                dir_.path() + "/in", UniqueId("in")},
               "hello\n");
  EXPECT_EQ(r.out, "got hello\n") << r.err;
}

TEST_F(RuncCompare, ProcSelfStatus) {
  // Capability sets, no_new_privs, seccomp mode; ids only when both are root.
  auto [ours, theirs] =
      Both("grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp:)' /proc/self/status");
  ASSERT_EQ(theirs.code, 0) << theirs.err;
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_NE(ours.out.find("NoNewPrivs:\t1"), std::string::npos) << ours.out;
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, UidAndGid) {
  auto [ours, theirs] = Both("id -u; id -g");
  EXPECT_EQ(ours.out, "0\n0\n");
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, PidNamespace) {
  auto [ours, theirs] = Both("echo $$; cat /proc/1/comm; ls /proc/1/ns >/dev/null && echo ok");
  EXPECT_EQ(ours.out, "1\nsh\nok\n") << ours.err;  // sh is pid 1 of a procfs of its own
  EXPECT_EQ(ours.out, theirs.out);
}

// linux.resources.devices: deny everything, then runc's defaults. A device
// node the container may make (CAP_MKNOD) but not open.
TEST_F(RuncCompare, DeviceRulesDenyANodeTheContainerMade) {
  if (!IsRoot()) GTEST_SKIP() << "device rules are enforced for root's containers only";
  auto edit = [](json& c) {
    c["linux"]["resources"]["devices"] = json::array({{{"allow", false}, {"access", "rwm"}}});
    for (const char* set : {"bounding", "effective", "permitted"}) {
      c["process"]["capabilities"][set].push_back("CAP_MKNOD");
    }
  };
  auto [ours, theirs] = Both(
      "mknod /dev/mem1 c 1 1 && echo made; head -c1 /dev/mem1 >/dev/null 2>&1 && echo "
      "readable || echo denied; head -c1 /dev/zero | wc -c",
      edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out, "made\ndenied\n1\n") << ours.err;
  EXPECT_EQ(ours.out, theirs.out) << theirs.err;
}

TEST_F(RuncCompare, Hostname) {
  auto [ours, theirs] = Both("hostname");
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, RlimitsAndUmask) {
  auto edit = [](json& c) {
    c["process"]["rlimits"] =
        json::array({{{"type", "RLIMIT_NOFILE"}, {"soft", 321}, {"hard", 654}},
                     {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}}});
    c["process"]["user"]["umask"] = 027;
  };
  auto [ours, theirs] = Both("ulimit -n; ulimit -H -n; ulimit -c; umask", edit);
  EXPECT_EQ(ours.out, "321\n654\n0\n0027\n") << ours.err;
  if (IsRoot()) {
    EXPECT_EQ(ours.out, theirs.out);
  } else {
    // runc 1.1's rootless path leaves the umask at 0022 (the config says 027).
    EXPECT_EQ(ours.out.substr(0, 9), theirs.out.substr(0, 9));
  }
}

TEST_F(RuncCompare, Environment) {
  auto edit = [](json& c) { c["process"]["env"] = {"PATH=/bin", "A=1", "EMPTY="}; };
  // HOME comes from the rootfs's /etc/passwd, as runc adds it; as nobody the
  // user differs (see the top of this file), so HOME is left out there.
  auto [ours, theirs] = Both(IsRoot() ? "env | sort" : "env | grep -v ^HOME= | sort", edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, ProcAndDevMountFlags) {
  // The type and the nosuid/nodev/noexec flags of /proc; /dev exists with null.
  std::string script =
      "grep ' /proc ' /proc/self/mounts | cut -d' ' -f3; "
      "for f in nosuid nodev noexec; do grep ' /proc ' /proc/self/mounts | grep -q $f && echo $f; "
      "done; "
      "echo x > /dev/null && echo devnull";
  auto [ours, theirs] = Both(script);
  EXPECT_EQ(ours.out, "proc\nnosuid\nnodev\nnoexec\ndevnull\n") << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, ReadOnlyRoot) {
  auto [ours, theirs] = Both("touch /bin/x 2>/dev/null && echo wrote || echo refused");
  EXPECT_EQ(ours.out, "refused\n");
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, HostnameAndDomainname) {
  auto [ours, theirs] = Both("hostname", [](json& c) { c["hostname"] = "box-17"; });
  EXPECT_EQ(ours.out, "box-17\n") << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
  // The domain name is the UTS namespace's kernel.domainname sysctl. Debian's
  // runc 1.1 ignores domainname (it leaves "(none)"), so it is checked alone.
  MakeBundle(dir_.path() + "/dn", {"cat", "/proc/sys/kernel/domainname"},
             [](json& c) { c["domainname"] = "example.test"; });
  Ran r = Exec({OciBinary(), "--root", dir_.path() + "/dn-state", "run", "--bundle",
                dir_.path() + "/dn", UniqueId("dn")});
  if (IsRoot()) {
    EXPECT_EQ(r.out, "example.test\n") << r.err;
  } else {
    // The library writes it through /proc/sys, whose UTS files stay owned by
    // the initial user namespace's root: refused, naming the field.
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("ACCESS_DENIED"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is domainname]"), std::string::npos) << r.err;
  }
}

TEST_F(RuncCompare, UserAndAdditionalGids) {
  if (!IsRoot()) GTEST_SKIP() << "ids other than container root need a map only root may write";
  auto edit = [](json& c) {
    c["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20, 1001}}};
  };
  auto [ours, theirs] =
      Both("id -u; id -g; id -G; grep -E '^(Uid|Gid|Groups):' /proc/self/status", edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out.substr(0, ours.out.find("Uid")), "1000\n1001\n1001 10 20\n") << ours.out;
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, AllFiveCapabilitySets) {
  auto edit = [](json& c) {
    c["process"]["capabilities"] = {
        {"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID", "CAP_SYS_CHROOT"}},
        {"permitted", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}},
        {"effective", {"CAP_CHOWN", "CAP_KILL"}},
        {"inheritable", {"CAP_KILL", "CAP_NET_RAW"}},
        {"ambient", {"CAP_KILL"}}};
  };
  auto [ours, theirs] = Both("grep -E '^Cap' /proc/self/status", edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  // Root's exec: effective = permitted (all of bounding ∩ what it had).
  EXPECT_NE(ours.out.find("CapBnd:\t00000000000420a1"), std::string::npos) << ours.out;
  EXPECT_NE(ours.out.find("CapAmb:\t0000000000000020"), std::string::npos) << ours.out;
  EXPECT_EQ(ours.out, theirs.out);
  if (!IsRoot()) return;
  // Not root: the program keeps exactly its ambient set across exec.
  auto as_user = [&](json& c) {
    edit(c);
    c["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  };
  auto [ours2, theirs2] = Both("grep -E '^Cap' /proc/self/status", as_user);
  ASSERT_EQ(ours2.code, 0) << ours2.err;
  EXPECT_NE(ours2.out.find("CapEff:\t0000000000000020"), std::string::npos) << ours2.out;
  EXPECT_EQ(ours2.out, theirs2.out);
}

TEST_F(RuncCompare, NestedMountsBindsAndTmpfsOptions) {
  std::string data = dir_.path() + "/data";
  mkdir(data.c_str(), 0755);
  WriteFile(data + "/hello", "hello from the host\n");
  chmod(dir_.path().c_str(), 0755);
  auto edit = [&](json& c) {
    c["mounts"].push_back({{"destination", "/tmp"},
                           {"type", "tmpfs"},
                           {"source", "tmpfs"},
                           {"options", {"nosuid", "nodev", "mode=1777", "size=1m"}}});
    // Mount points made inside the tmpfs, nested three deep.
    c["mounts"].push_back({{"destination", "/tmp/a/b/ro"},
                           {"type", "bind"},
                           {"source", data},
                           {"options", {"rbind", "ro", "nosuid"}}});
    c["mounts"].push_back({{"destination", "/tmp/a/file"},
                           {"type", "bind"},
                           {"source", data + "/hello"},
                           {"options", {"bind"}}});
    c["mounts"].push_back({{"destination", "/tmp/a/small"},
                           {"type", "tmpfs"},
                           {"source", "tmpfs"},
                           {"options", {"noexec", "mode=700", "size=64k"}}});
  };
  std::string script =
      "cat /tmp/a/b/ro/hello /tmp/a/file; "
      "touch /tmp/a/b/ro/x 2>/dev/null && echo rw || echo ro; "
      "stat -c '%a %n' /tmp /tmp/a/small; "
      "df -k /tmp/a/small | tail -1 | awk '{print $2}'; "
      "for m in /tmp /tmp/a/b/ro /tmp/a/file /tmp/a/small; do "
      "  grep \" $m \" /proc/self/mounts | cut -d' ' -f2,3; "
      "  for f in ro nosuid nodev noexec; do "
      "    grep \" $m \" /proc/self/mounts | cut -d' ' -f4 | tr , '\\n' | grep -qx $f && echo $f; "
      "  done; "
      "done";
  auto [ours, theirs] = Both(script, edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  const std::string head =
      "hello from the host\nhello from the host\nro\n1777 /tmp\n700 /tmp/a/small\n64\n";
  EXPECT_EQ(ours.out.substr(0, head.size()), head) << ours.out;
  EXPECT_EQ(ours.out, theirs.out) << ours.err << theirs.err;
}

TEST_F(RuncCompare, MaskedAndReadOnlyPaths) {
  auto edit = [](json& c) {
    c["linux"]["maskedPaths"] = {"/proc/timer_list", "/sys/firmware", "/proc/no-such-file"};
    c["linux"]["readonlyPaths"] = {"/proc/sys", "/proc/no-such-dir"};
  };
  std::string script =
      "wc -c < /proc/timer_list; ls /sys/firmware | wc -l; "
      "echo other > /proc/sys/kernel/hostname 2>/dev/null && echo wrote || echo refused; "
      "hostname";
  auto [ours, theirs] = Both(script, edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out, "0\n0\nrefused\ncapspawn\n");
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, Sysctl) {
  auto edit = [](json& c) {
    bool net = false;
    for (const json& n : c["linux"]["namespaces"]) net |= n["type"] == "network";
    if (!net) c["linux"]["namespaces"].push_back({{"type", "network"}});
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "12345678"}};
  };
  auto [ours, theirs] = Both(
      "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; ip link show lo | "
      "grep -c UP",
      edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out, "1\n12345678\n1\n");
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, SeccompProfileDeniesASyscall) {
  auto edit = [](json& c) {
    c["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
        {"syscalls",
         {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}},
          {{"names", {"no_such_syscall_in_any_kernel"}}, {"action", "SCMP_ACT_ERRNO"}},
          {{"names", {"kill"}},
           {"action", "SCMP_ACT_ERRNO"},
           {"errnoRet", 22},
           {"args", {{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}}}}};
  };
  std::string script =
      "mkdir /dev/shm/x 2>&1; echo $?; grep ^Seccomp: /proc/self/status; "
      "kill -0 $$ 2>&1; echo $?; kill -s CONT $$ && echo sent";
  auto [ours, theirs] = Both(script, edit);
  EXPECT_NE(ours.out.find("Operation not permitted\n1\nSeccomp:\t2\n"), std::string::npos)
      << ours.out << ours.err;
  // kill(pid, 0) is refused by the argument rule; kill(pid, SIGCONT) is not.
  EXPECT_NE(ours.out.find("Invalid argument\n1\nsent\n"), std::string::npos) << ours.out;
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, WorkingDirectory) {
  auto edit = [](json& c) { c["process"]["cwd"] = "/etc"; };
  auto [ours, theirs] = Both("pwd; ls passwd; cd ..; pwd", edit);
  EXPECT_EQ(ours.out, "/etc\npasswd\n/\n") << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
}

// Root's user namespace with id ranges. The library's child makes the mount
// points as the caller (host root), before its id switch: host root must be
// in the maps, or a directory made in a tmpfs of the namespace fails with
// EOVERFLOW (docs/oci.md); runc becomes the namespace's root first.
TEST_F(RuncCompare, UserNamespaceWithRanges) {
  if (!IsRoot()) GTEST_SKIP() << "a map of more than the caller's own id needs root";
  auto edit = [](json& c) {
    c["linux"]["namespaces"].push_back({{"type", "user"}});
    c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}},
                                 {{"containerID", 70000}, {"hostID", 0}, {"size", 1}}};
    c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}},
                                 {{"containerID", 70000}, {"hostID", 0}, {"size", 1}}};
    c["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {70000}}};
  };
  auto [ours, theirs] =
      Both("id -u; id -G; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/1/setgroups", edit);
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out,
            "1000\n1000 70000\n"
            "         0     200000      65536\n"
            "     70000          0          1\n"
            "         0     200000      65536\n"
            "     70000          0          1\n"
            "allow\n");
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, OomScoreAdj) {
  auto [ours, theirs] =
      Both("cat /proc/self/oom_score_adj", [](json& c) { c["process"]["oomScoreAdj"] = 345; });
  EXPECT_EQ(ours.out, "345\n") << ours.err;
  EXPECT_EQ(ours.out, theirs.out);
}

// state through the lifecycle, field by field.
TEST_F(RuncCompare, StateJson) {
  MakeBundle(dir_.path() + "/cs", {"sleep", "1000"});
  MakeBundle(dir_.path() + "/runc", {"sleep", "1000"}, RuncRootless);
  struct Rt {
    std::vector<std::string> base;
    std::string bundle, id;
  } rts[2] = {
      {{OciBinary(), "--root", dir_.path() + "/cs-state"}, dir_.path() + "/cs", UniqueId("st")},
      {{"runc", "--root", dir_.path() + "/runc-state"}, dir_.path() + "/runc", UniqueId("st")}};
  auto cmd = [](const Rt& rt, std::vector<std::string> rest) {
    std::vector<std::string> v = rt.base;
    v.insert(v.end(), rest.begin(), rest.end());
    return Exec(v);
  };
  json states[2][3];
  for (auto& per : states) per[2] = json::object();
  for (int i = 0; i < 2; ++i) {
    std::string pid_file = dir_.path() + "/pid" + std::to_string(i);
    Ran c = cmd(rts[i], {"create", "--bundle", rts[i].bundle, "--pid-file", pid_file, rts[i].id});
    ASSERT_EQ(c.code, 0) << c.err;
    // --pid-file is written before create returns.
    std::string pid = ReadFile(pid_file);
    ASSERT_FALSE(pid.empty());
    states[i][0] = json::parse(cmd(rts[i], {"state", rts[i].id}).out);
    EXPECT_EQ(std::to_string(states[i][0]["pid"].get<int>()), pid);
    ASSERT_EQ(cmd(rts[i], {"start", rts[i].id}).code, 0);
    states[i][1] = json::parse(cmd(rts[i], {"state", rts[i].id}).out);
    ASSERT_EQ(cmd(rts[i], {"kill", rts[i].id, "KILL"}).code, 0);
    for (int t = 0; t < 500 && states[i][2].value("status", "") != "stopped"; ++t) {
      usleep(10000);
      ReapOrphans();
      states[i][2] = json::parse(cmd(rts[i], {"state", rts[i].id}).out);
    }
    Ran d = cmd(rts[i], {"delete", rts[i].id});
    EXPECT_EQ(d.code, 0) << d.err;
    EXPECT_NE(cmd(rts[i], {"state", rts[i].id}).code, 0);
  }
  const char* names[] = {"created", "running", "stopped"};
  for (int s = 0; s < 3; ++s) {
    SCOPED_TRACE(names[s]);
    EXPECT_EQ(states[0][s]["status"], names[s]);
    EXPECT_EQ(states[0][s]["status"], states[1][s]["status"]);
    EXPECT_EQ(states[0][s]["ociVersion"].get<std::string>().rfind("1.0", 0), 0u);
    EXPECT_EQ(states[0][s]["id"], rts[0].id);
    EXPECT_EQ(states[0][s]["bundle"], dir_.path() + "/cs");
    EXPECT_EQ(states[0][s]["rootfs"], ImageDir() + "/rootfs");
    EXPECT_EQ(states[0][s]["pid"].get<int>() == 0, states[1][s]["pid"].get<int>() == 0);
  }
}

}  // namespace
}  // namespace oci_test
