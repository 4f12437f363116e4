// runc (Debian's) as the reference: the same bundle run by `runc run` and by
// `capspawn-oci run` must give the same exit code and the same output — what
// the process sees in /proc/self/status (ids, capabilities, no_new_privs),
// its pid namespace, its mounts' types and flags, hostname, rlimits, umask,
// environment. And `state` must say the same through create/start/kill.
// As nobody, runc needs container uid 0 mapped to the caller while the
// library maps the caller to itself (docs/oci.md): there the uid-dependent
// lines are left out of the comparison and runc's config gets its mapping.
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
  std::string fields = IsRoot() ? "^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp:)"
                                : "^(CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs|Seccomp:)";
  auto [ours, theirs] = Both("grep -E '" + fields + "' /proc/self/status");
  ASSERT_EQ(theirs.code, 0) << theirs.err;
  ASSERT_EQ(ours.code, 0) << ours.err;
  EXPECT_NE(ours.out.find("NoNewPrivs:\t1"), std::string::npos) << ours.out;
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, UidAndGid) {
  if (!IsRoot()) GTEST_SKIP() << "as nobody the library maps the caller to itself, runc maps root";
  auto [ours, theirs] = Both("id -u; id -g");
  EXPECT_EQ(ours.out, "0\n0\n");
  EXPECT_EQ(ours.out, theirs.out);
}

TEST_F(RuncCompare, PidNamespace) {
  auto [ours, theirs] = Both("echo $$; cat /proc/1/comm; ls /proc/1/ns >/dev/null && echo ok");
  EXPECT_EQ(ours.out, "1\nsh\nok\n") << ours.err;  // sh is pid 1 of a procfs of its own
  EXPECT_EQ(ours.out, theirs.out);
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
