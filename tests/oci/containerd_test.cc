// SPDX-License-Identifier: Apache-2.0
// containerd (Debian's), started by the test with its own config, root and
// state under a temporary directory, driving capspawn-oci through its runc
// shim (io.containerd.runc.v2 with --runc-binary), as Kubernetes' node would:
// ctr run --rm (output and exit codes), -d with task ps/pause/resume/exec/
// kill/delete, stdin, a terminal (-t, through script(1) so that ctr itself has
// one), an image built offline and imported, and a container killed with KILL
// leaving no process, mount, cgroup, shim or state. Root only: containerd
// needs it. All tests share one containerd (one ctest).
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "oci_util.h"

extern char** environ;

namespace oci_test {
namespace {

namespace fs = std::filesystem;

class Containerd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!IsRoot() || !Have("containerd") || !Have("ctr")) return;
    dir_ = new TempDir();
    const std::string& t = dir_->path();
    ns_ = "capspawn-" + std::to_string(getpid());
    WriteFile(t + "/config.toml",
              "version = 2\nroot = \"" + t + "/root\"\nstate = \"" + t +
                  "/state\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                  "[grpc]\n  address = \"" +
                  t +
                  "/c.sock\"\n"
                  "[ttrpc]\n  address = \"" +
                  t + "/c.sock.ttrpc\"\n");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::string log = t + "/containerd.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::string conf = t + "/config.toml";
    const char* argv[] = {"containerd", "--config", conf.c_str(), nullptr};
    if (posix_spawnp(&daemon_, "containerd", &fa, nullptr, const_cast<char**>(argv), environ) !=
        0) {
      daemon_ = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 500 && daemon_ > 0; ++i) {
      if (Exec(Ctr({"version"})).code == 0) break;
      usleep(20000);
    }
    Ran imp = Exec(Ctr({"image", "import", ImageDir() + "/busybox-oci.tar"}), "", 120);
    import_ok_ = imp.code == 0;
    import_err_ = imp.err;
  }

  static void TearDownTestSuite() {
    if (daemon_ > 0) {
      kill(daemon_, SIGTERM);
      waitpid(daemon_, nullptr, 0);
      daemon_ = -1;
    }
    if (dir_) {
      // containerd's own mounts (a snapshot's, a shim's) must all be gone.
      EXPECT_TRUE(MountsBelow(dir_->path()).empty());
      EXPECT_TRUE(ProcessesWith(dir_->path() + "/c.sock").empty()) << "a shim is left";
      delete dir_;
      dir_ = nullptr;
    }
  }

  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "containerd needs root (the nobody run skips it)";
    if (!Have("containerd") || !Have("ctr")) GTEST_SKIP() << "containerd is not installed";
    ASSERT_GT(daemon_, 0) << "containerd did not start: "
                          << ReadFile(dir_->path() + "/containerd.log");
    ASSERT_TRUE(import_ok_) << import_err_;
  }

  static std::vector<std::string> Ctr(std::vector<std::string> rest) {
    std::vector<std::string> v = {"ctr", "--address", dir_->path() + "/c.sock", "--namespace", ns_};
    v.insert(v.end(), rest.begin(), rest.end());
    return v;
  }
  // ctr run with capspawn-oci as the shim's runtime binary.
  static std::vector<std::string> CtrRun(std::vector<std::string> flags,
                                         std::vector<std::string> rest) {
    std::vector<std::string> v = Ctr({"run"});
    v.insert(v.end(), flags.begin(), flags.end());
    for (std::string f : std::vector<std::string>{"--runc-binary", OciBinary(), "--runc-root",
                                                  dir_->path() + "/runc-root"}) {
      v.push_back(f);
    }
    v.insert(v.end(), rest.begin(), rest.end());
    return v;
  }
  // A spec for `ctr run --config`: this build's default (capspawn-oci spec),
  // on the image's rootfs. containerd's own default spec asks for more than
  // this build supports; see ImageDefaultSpecIsRefusedNamingTheField.
  std::string Spec(const std::vector<std::string>& args,
                   const std::function<void(json&)>& edit = nullptr) {
    std::string d = dir_->path() + "/" + UniqueId("spec");
    MakeBundle(d, args, edit);
    return d + "/config.json";
  }
  std::string TaskStatus(const std::string& id) {
    Ran r = Exec(Ctr({"task", "ls"}));
    std::stringstream s(r.out);
    std::string line;
    while (std::getline(s, line)) {
      std::stringstream l(line);
      std::string tid, pid, status;
      l >> tid >> pid >> status;
      if (tid == id) return status;
    }
    return "";
  }
  void ExpectNothingLeft(const std::string& id, pid_t pid) {
    EXPECT_TRUE(pid <= 0 || kill(pid, 0) != 0) << "process " << pid << " left";
    EXPECT_TRUE(CgroupsNamed(id).empty()) << "cgroup left";
    EXPECT_FALSE(fs::exists(dir_->path() + "/runc-root/" + ns_ + "/" + id)) << "state left";
    for (const std::string& m : MountsBelow(dir_->path())) ADD_FAILURE() << "mount left: " << m;
    EXPECT_EQ(Exec(Ctr({"container", "info", id})).code, 1) << "container left";
  }

  static TempDir* dir_;
  static std::string ns_;
  static pid_t daemon_;
  static bool import_ok_;
  static std::string import_err_;
};

TempDir* Containerd::dir_ = nullptr;
std::string Containerd::ns_;
pid_t Containerd::daemon_ = -1;
bool Containerd::import_ok_ = false;
std::string Containerd::import_err_;

TEST_F(Containerd, RunRmPrintsAndPassesExitCodes) {
  for (int code : {0, 5, 255}) {
    std::string id = UniqueId("rm");
    Ran r =
        Exec(CtrRun({"--rm", "--config",
                     Spec({"sh", "-c", "echo hello from capspawn; exit " + std::to_string(code)})},
                    {id}));
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_EQ(r.out, "hello from capspawn\n");
    ExpectNothingLeft(id, -1);
  }
}

TEST_F(Containerd, Stdin) {
  std::string id = UniqueId("in");
  Ran r = Exec(CtrRun({"--rm", "--config", Spec({"sh", "-c", "read x; echo got $x"})}, {id}),
               "hello\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "got hello\n");
}

TEST_F(Containerd, Terminal) {
  if (!Have("script")) GTEST_SKIP() << "script(1) (util-linux) is missing";
  std::string id = UniqueId("tty");
  std::string spec = Spec({"sh", "-c", "test -t 0 && test -t 1 && echo isatty; exit 6"},
                          [](json& c) { c["process"]["terminal"] = true; });
  std::string cmd;
  for (const std::string& a : CtrRun({"--rm", "-t", "--config", spec}, {id})) cmd += "'" + a + "' ";
  Ran r = Exec({"script", "-qec", cmd, "/dev/null"});
  EXPECT_EQ(r.code, 6) << r.out << r.err;
  EXPECT_NE(r.out.find("isatty"), std::string::npos) << r.out;
  ExpectNothingLeft(id, -1);
}

TEST_F(Containerd, DetachedTaskLifecycleAndKill) {
  std::string id = UniqueId("task");
  Ran r = Exec(CtrRun({"-d", "--config", Spec({"sleep", "1000"})}, {id}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(TaskStatus(id), "RUNNING");
  Ran ps = Exec(Ctr({"task", "ps", id}));
  ASSERT_EQ(ps.code, 0) << ps.err;
  std::stringstream s(ps.out);
  std::string header, pid_text;
  std::getline(s, header);
  s >> pid_text;
  pid_t pid = std::stoi(pid_text);
  EXPECT_EQ(ReadFile("/proc/" + pid_text + "/comm"), "sleep\n");
  EXPECT_EQ(Exec(Ctr({"task", "pause", id})).code, 0);
  EXPECT_EQ(TaskStatus(id), "PAUSED");
  EXPECT_EQ(Exec(Ctr({"task", "resume", id})).code, 0);
  EXPECT_EQ(TaskStatus(id), "RUNNING");
  // exec: a process in the task's namespaces, its output and exit code
  // through the shim (which calls `exec --process FILE --detach --pid-file`).
  Ran ex = Exec(Ctr({"task", "exec", "--exec-id", "e1", id, "sh", "-c",
                     "echo from-exec; test \"$(readlink /proc/self/ns/pid)\" = "
                     "\"$(readlink /proc/1/ns/pid)\" && echo same-pid-ns; cat /proc/1/comm; "
                     "exit 5"}));
  EXPECT_EQ(ex.code, 5) << ex.err;
  EXPECT_EQ(ex.out, "from-exec\nsame-pid-ns\nsleep\n") << ex.err;
  // stdin reaches it.
  Ran in = Exec(Ctr({"task", "exec", "--exec-id", "e2", id, "sh", "-c", "read l; echo got $l"}),
                "line\n");
  EXPECT_EQ(in.code, 0) << in.err;
  EXPECT_EQ(in.out, "got line\n") << in.err;
  // With a terminal (-t), under script(1) so that ctr has one to give.
  if (Have("script")) {
    std::string cmd;
    for (const std::string& a : Ctr({"task", "exec", "-t", "--exec-id", "e3", id, "sh", "-c",
                                     "test -t 0 && test -t 1 && echo isatty; exit 4"})) {
      cmd += "'" + a + "' ";
    }
    Ran t = Exec({"script", "-qec", cmd, "/dev/null"});
    EXPECT_EQ(t.code, 4) << t.out << t.err;
    EXPECT_NE(t.out.find("isatty"), std::string::npos) << t.out;
  }
  EXPECT_EQ(Exec(Ctr({"task", "kill", "-s", "KILL", id})).code, 0);
  for (int i = 0; i < 500 && TaskStatus(id) != "STOPPED"; ++i) usleep(10000);
  EXPECT_EQ(TaskStatus(id), "STOPPED");
  EXPECT_EQ(Exec(Ctr({"task", "delete", id})).code, 0);
  EXPECT_EQ(Exec(Ctr({"container", "delete", id})).code, 0);
  ExpectNothingLeft(id, pid);
}

// containerd's default spec (`ctr oci spec`: 14 capabilities, ipc/uts/network
// namespaces, /dev/pts, /dev/shm, /dev/mqueue, sysfs, masked and read-only
// paths) runs once its device cgroup rules, which capspawn cannot enforce,
// are taken out; with the supplementary groups containerd adds for an image.
TEST_F(Containerd, DefaultSpecWithoutDeviceRulesRuns) {
  Ran oci = Exec(Ctr({"oci", "spec"}));
  ASSERT_EQ(oci.code, 0) << oci.err;
  json c = json::parse(oci.out);
  ASSERT_TRUE(c["linux"]["resources"].contains("devices"));
  c["linux"]["resources"].erase("devices");
  c["linux"].erase("cgroupsPath");
  c["root"]["path"] = ImageDir() + "/rootfs";
  c["process"]["user"]["additionalGids"] = {10};
  c["process"]["args"] = {"sh", "-c",
                          "id -G; grep ^CapEff /proc/self/status; ls /dev/pts/ptmx /dev/shm "
                          "/dev/mqueue >/dev/null && echo dev; wc -c < /proc/timer_list; "
                          "ip link show lo | grep -c UP; exit 4"};
  std::string spec = dir_->path() + "/" + UniqueId("default") + ".json";
  WriteFile(spec, c.dump());
  std::string id = UniqueId("dflt");
  Ran r = Exec(CtrRun({"--rm", "--config", spec}, {id}));
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(r.out, "0 10\nCapEff:\t00000000a80425fb\ndev\n0\n1\n") << r.err;
  ExpectNothingLeft(id, -1);
}

// containerd's own spec for the imported image (its device cgroup rules:
// deny all, then the default devices, enforced by a device program on the
// job): `ctr run IMAGE ID CMD` as a user types it.
TEST_F(Containerd, ImageDefaultSpecRuns) {
  std::string id = UniqueId("img");
  Ran r = Exec(CtrRun({"--rm", "--snapshotter", "native"},
                      {"capspawn.test/busybox:latest", id, "sh", "-c", "echo hi; exit 3"}));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.out, "hi\n") << r.err;
  ExpectNothingLeft(id, -1);
}

}  // namespace
}  // namespace oci_test
