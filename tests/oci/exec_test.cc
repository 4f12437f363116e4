// SPDX-License-Identifier: Apache-2.0
// `exec` into a running container, against runc's `exec` on the same bundle
// (exit code, output, hostname, pid namespace, uid, capabilities, cwd,
// environment); --detach with --pid-file; linux.namespaces[].path joining
// another container's net, ipc and uts namespaces; bad input (a path that is
// not a namespace or of the wrong type, exec in a stopped or unknown
// container) refused naming the field, with nothing left behind. A
// container in a user namespace (every container nobody makes) answers
// NOT_SUPPORTED for exec.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "oci_util.h"

namespace oci_test {
namespace {

class OciExec : public ::testing::Test {
 protected:
  void SetUp() override { BecomeSubreaper(); }
  void TearDown() override {
    for (const auto& [bin, root, id] : made_) Exec({bin, "--root", root, "delete", "--force", id});
    ReapOrphans();
  }

  // Creates and starts a container of `bin` (capspawn-oci or runc) running
  // `args`; returns its id ("" on failure).
  std::string Start(const std::string& bin, const std::string& name,
                    const std::vector<std::string>& args,
                    const std::function<void(json&)>& edit = nullptr) {
    const std::string bundle = MakeBundle(dir_.path() + "/" + name, args, edit);
    const std::string root = dir_.path() + "/" + name + "-state";
    const std::string id = UniqueId(name);
    Ran c = Exec({bin, "--root", root, "create", "--bundle", bundle, "--pid-file",
                  dir_.path() + "/" + name + ".pid", id});
    EXPECT_EQ(c.code, 0) << bin << ": " << c.err;
    if (c.code != 0) return "";
    made_.push_back({bin, root, id});
    Ran s = Exec({bin, "--root", root, "start", id});
    EXPECT_EQ(s.code, 0) << bin << ": " << s.err;
    return s.code == 0 ? id : "";
  }
  std::string RootOf(const std::string& name) { return dir_.path() + "/" + name + "-state"; }
  pid_t PidOf(const std::string& name) {
    std::string p = ReadFile(dir_.path() + "/" + name + ".pid");
    return p.empty() ? -1 : std::stoi(p);
  }

  static void Hostname(json& c) { c["hostname"] = "exec-box"; }

  TempDir dir_;
  std::vector<std::tuple<std::string, std::string, std::string>> made_;
};

std::string NsLink(pid_t pid, const char* kind) {
  char buf[128] = "";
  std::string p = "/proc/" + std::to_string(pid) + "/ns/" + kind;
  ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
}

TEST_F(OciExec, SameAsRunc) {
  if (!IsRoot()) GTEST_SKIP() << "nobody's containers have a user namespace (see InAUserNamespace)";
  if (!Have("runc")) GTEST_SKIP() << "runc is not installed (scripts/setup.sh installs it)";
  const std::string ours = Start(OciBinary(), "cs", {"sleep", "1000"}, Hostname);
  const std::string theirs = Start("runc", "runc", {"sleep", "1000"}, Hostname);
  ASSERT_FALSE(ours.empty());
  ASSERT_FALSE(theirs.empty());
  const std::string script =
      "hostname; id -u; id -g; pwd; echo $FOO; "
      "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; "
      "test $$ != 1 && echo not-pid-1; cat /proc/1/comm; "
      "test \"$(readlink /proc/self/ns/pid)\" = \"$(readlink /proc/1/ns/pid)\" && echo "
      "same-pid-ns; "
      "test \"$(readlink /proc/self/ns/net)\" = \"$(readlink /proc/1/ns/net)\" && echo "
      "same-net-ns; "
      "ls /; exit 7";
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{},
        std::vector<std::string>{"--user", "1000:1000", "--cwd", "/tmp", "--env", "FOO=bar"},
        std::vector<std::string>{"--cap", "CAP_SYS_ADMIN", "--no-new-privs"}}) {
    auto run = [&](const std::string& bin, const std::string& name, const std::string& id) {
      std::vector<std::string> argv = {bin, "--root", RootOf(name), "exec"};
      argv.insert(argv.end(), extra.begin(), extra.end());
      argv.insert(argv.end(), {id, "sh", "-c", script});
      return Exec(argv);
    };
    Ran a = run(OciBinary(), "cs", ours);
    Ran b = run("runc", "runc", theirs);
    EXPECT_EQ(b.code, 7) << b.err;
    EXPECT_EQ(a.code, b.code) << a.err;
    EXPECT_EQ(a.out, b.out) << "capspawn-oci:\n" << a.out << a.err << "runc:\n" << b.out;
    EXPECT_NE(a.out.find("exec-box\n"), std::string::npos) << a.out;
    // (As uid 1000 /proc/1/ns is not readable: the namespaces are compared as root.)
    if (extra.empty()) {
      EXPECT_NE(a.out.find("not-pid-1\nsleep\nsame-pid-ns\nsame-net-ns\n"), std::string::npos)
          << a.out;
    }
  }
}

TEST_F(OciExec, ProcessFileDetachAndPidFile) {
  if (!IsRoot()) GTEST_SKIP() << "nobody's containers have a user namespace (see InAUserNamespace)";
  const std::string id = Start(OciBinary(), "d", {"sleep", "1000"});
  ASSERT_FALSE(id.empty());
  json process = {{"args", {"sleep", "999"}},
                  {"cwd", "/"},
                  {"env", {"PATH=/bin"}},
                  {"user", {{"uid", 0}, {"gid", 0}}}};
  WriteFile(dir_.path() + "/process.json", process.dump());
  const std::string pid_file = dir_.path() + "/exec.pid";
  Ran r = Exec({OciBinary(), "--root", RootOf("d"), "exec", "--process",
                dir_.path() + "/process.json", "--detach", "--pid-file", pid_file, id});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string pid_text = ReadFile(pid_file);
  ASSERT_FALSE(pid_text.empty());
  const pid_t pid = std::stoi(pid_text);
  EXPECT_EQ(ReadFile("/proc/" + pid_text + "/comm"), "sleep\n");
  EXPECT_EQ(NsLink(pid, "pid"), NsLink(PidOf("d"), "pid"));
  EXPECT_EQ(NsLink(pid, "mnt"), NsLink(PidOf("d"), "mnt"));
  // In the container's job: ps lists it, and delete --force ends it.
  Ran ps = Exec({OciBinary(), "--root", RootOf("d"), "ps", "--format", "json", id});
  ASSERT_EQ(ps.code, 0) << ps.err;
  EXPECT_NE(ps.out.find(pid_text), std::string::npos) << ps.out;
  EXPECT_EQ(Exec({OciBinary(), "--root", RootOf("d"), "delete", "--force", id}).code, 0);
  for (int i = 0; i < 200 && access(("/proc/" + pid_text).c_str(), F_OK) == 0; ++i) {
    ReapOrphans();
    usleep(10000);
  }
  EXPECT_NE(access(("/proc/" + pid_text).c_str(), F_OK), 0) << "the exec'd process is left";
}

TEST_F(OciExec, StoppedAndUnknownContainers) {
  Ran u = Exec({OciBinary(), "--root", dir_.path() + "/none", "exec", "no-such-id", "true"});
  EXPECT_EQ(u.code, 1);
  EXPECT_NE(u.err.find("no-such-id"), std::string::npos) << u.err;
  const std::string id = Start(OciBinary(), "s", {"true"});
  ASSERT_FALSE(id.empty());
  for (int i = 0; i < 500; ++i) {
    ReapOrphans();
    Ran st = Exec({OciBinary(), "--root", RootOf("s"), "state", id});
    if (st.code == 0 && json::parse(st.out)["status"] == "stopped") break;
    usleep(10000);
  }
  Ran e = Exec({OciBinary(), "--root", RootOf("s"), "exec", id, "true"});
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("BAD_STATE: cannot exec in container '" + id + "': it is stopped"),
            std::string::npos)
      << e.err;
}

TEST_F(OciExec, BadOptions) {
  Ran a = Exec({OciBinary(), "exec", "--user", "root", "x", "true"});
  EXPECT_NE(a.code, 0);
  Ran b = Exec({OciBinary(), "exec", "--preserve-fds", "-1", "x", "true"});
  EXPECT_EQ(b.code, 2);
  EXPECT_NE(b.err.find("--preserve-fds '-1'"), std::string::npos) << b.err;
  Ran c = Exec({OciBinary(), "exec", "--process-label", "l", "x", "true"});
  EXPECT_EQ(c.code, 1);
  EXPECT_NE(c.err.find("NOT_SUPPORTED"), std::string::npos) << c.err;
  Ran d = Exec({OciBinary(), "exec", "--process", "/p.json", "x", "true"});
  EXPECT_EQ(d.code, 2);
  EXPECT_NE(d.err.find("exclude each other"), std::string::npos) << d.err;
}

TEST_F(OciExec, InAUserNamespace) {
  if (IsRoot()) GTEST_SKIP() << "root's containers here have no user namespace";
  const std::string id = Start(OciBinary(), "u", {"sleep", "1000"});
  ASSERT_FALSE(id.empty());
  Ran e = Exec({OciBinary(), "--root", RootOf("u"), "exec", id, "true"});
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("NOT_SUPPORTED: exec in container '" + id +
                       "': it has a user namespace of its own"),
            std::string::npos)
      << e.err;
}

// A pod: the second container joins the first one's net, ipc and uts
// namespaces by path, as CRI's containers join their sandbox's.
TEST_F(OciExec, NamespacePathJoinsAnotherContainer) {
  if (!IsRoot()) GTEST_SKIP() << "joining by path needs CAP_SYS_ADMIN";
  const std::string sandbox = Start(OciBinary(), "pod", {"sleep", "1000"}, Hostname);
  ASSERT_FALSE(sandbox.empty());
  const pid_t pod = PidOf("pod");
  const std::string p = "/proc/" + std::to_string(pod) + "/ns/";
  auto join = [&](json& c) {
    c.erase("hostname");
    for (json& n : c["linux"]["namespaces"]) {
      if (n["type"] == "network") n["path"] = p + "net";
      if (n["type"] == "ipc") n["path"] = p + "ipc";
      if (n["type"] == "uts") n["path"] = p + "uts";
    }
  };
  MakeBundle(dir_.path() + "/member",
             {"sh", "-c", "hostname; for n in net ipc uts mnt; do readlink /proc/self/ns/$n; done"},
             join);
  Ran r = Exec({OciBinary(), "--root", RootOf("member"), "run", "--bundle", dir_.path() + "/member",
                UniqueId("member")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "exec-box\n" + NsLink(pod, "net") + "\n" + NsLink(pod, "ipc") + "\n" +
                       NsLink(pod, "uts") + "\n" + r.out.substr(r.out.rfind("mnt:")));
  EXPECT_NE(r.out.substr(r.out.rfind("mnt:")), NsLink(pod, "mnt") + "\n")
      << "the mount namespace is the member's own";
}

TEST_F(OciExec, NamespacePathThatIsNotOne) {
  const std::string root = dir_.path() + "/bad-state";
  struct Case {
    std::string path;
    std::string want;
  } cases[] = {
      {"/etc/hostname", "is not a namespace file"},
      {"/proc/self/ns/uts", "is a 'uts' namespace, not 'network'"},
      {"/no/such/ns", "No such file"},
      {"relative/ns", "is not an absolute path"},
  };
  for (const Case& c : cases) {
    const std::string bundle = MakeBundle(dir_.path() + "/bad", {"true"}, [&](json& cfg) {
      bool set = false;
      for (json& n : cfg["linux"]["namespaces"]) {
        if (n["type"] == "network") {
          n["path"] = c.path;
          set = true;
        }
      }
      if (!set) cfg["linux"]["namespaces"].push_back({{"type", "network"}, {"path", c.path}});
    });
    const std::string id = UniqueId("bad");
    Ran r = Exec({OciBinary(), "--root", root, "create", "--bundle", bundle, id});
    EXPECT_EQ(r.code, 1) << c.path;
    EXPECT_NE(r.err.find("config.json: linux.namespaces["), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("].path"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(root + "/" + id)) << "a state directory is left";
    EXPECT_TRUE(CgroupsNamed(id).empty());
  }
}

}  // namespace
}  // namespace oci_test
