// SPDX-License-Identifier: Apache-2.0
// Malformed and hostile config.json: each is refused at create with a status
// and a message naming the field, and nothing is left behind — no state
// directory, no cgroup, no process, no child.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "oci_util.h"

namespace oci_test {
namespace {

namespace fs = std::filesystem;

struct BadCase {
  const char* name;
  std::function<void(json&)> edit;  // applied to a good config
  const char* status;               // "CAPSPAWN_ERR_..."
  const char* says;                 // a part of the message (the field)
};

class BadConfig : public ::testing::TestWithParam<BadCase> {
 protected:
  void SetUp() override { BecomeSubreaper(); }
  TempDir dir_;
};

// Creates with config text `text`; checks the refusal and that nothing is left.
void ExpectRefused(const std::string& dir, const std::string& text, const std::string& status,
                   const std::string& says) {
  ReapOrphans();
  std::string children_before =
      ReadFile("/proc/self/task/" + std::to_string(getpid()) + "/children");
  std::string root = dir + "/state";
  std::string id = UniqueId("bad");
  WriteFile(dir + "/bundle/config.json", text);
  Ran r = Exec(Oci(root, {"create", "--bundle", dir + "/bundle", "--pid-file", dir + "/pid", id}));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(status), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root + "/" + id)) << "state left behind";
  EXPECT_FALSE(fs::exists(dir + "/pid")) << "pid file left behind";
  EXPECT_TRUE(CgroupsNamed(id).empty()) << "cgroup left behind";
  EXPECT_TRUE(ProcessesWith("marker-7d1f3").empty()) << "process left behind";
  EXPECT_EQ(ReadFile("/proc/self/task/" + std::to_string(getpid()) + "/children"), children_before)
      << "a child was left";
}

TEST_P(BadConfig, RefusedNamingTheFieldLeavingNothing) {
  const BadCase& c = GetParam();
  MakeBundle(dir_.path() + "/bundle", {"sleep", "999", "marker-7d1f3"});
  json cfg = json::parse(ReadFile(dir_.path() + "/bundle/config.json"));
  c.edit(cfg);
  ExpectRefused(dir_.path(), cfg.dump(), c.status, c.says);
}

const BadCase kCases[] = {
    {"ArgsNotArray", [](json& c) { c["process"]["args"] = "sh"; }, "INVALID_ARGS",
     "process.args: must be an array, not string"},
    {"ArgsEmpty", [](json& c) { c["process"]["args"] = json::array(); }, "INVALID_ARGS",
     "process.args: must name the program"},
    {"CwdMissing", [](json& c) { c["process"].erase("cwd"); }, "INVALID_ARGS",
     "process.cwd: missing"},
    {"CwdRelative", [](json& c) { c["process"]["cwd"] = "tmp"; }, "INVALID_ARGS",
     "process.cwd: 'tmp' is not an absolute path"},
    {"RootMissing", [](json& c) { c.erase("root"); }, "INVALID_ARGS", "root: missing"},
    {"ProcessMissing", [](json& c) { c.erase("process"); }, "INVALID_ARGS", "process: missing"},
    {"VersionTwo", [](json& c) { c["ociVersion"] = "2.0.0"; }, "INVALID_ARGS", "ociVersion"},
    {"UidNegative", [](json& c) { c["process"]["user"]["uid"] = -1; }, "OUT_OF_RANGE",
     "process.user.uid"},
    {"UidFloat", [](json& c) { c["process"]["user"]["uid"] = 1.5; }, "INVALID_ARGS",
     "process.user.uid: must be an integer"},
    {"UidHuge", [](json& c) { c["process"]["user"]["uid"] = 1ULL << 40; }, "OUT_OF_RANGE",
     "process.user.uid"},
    {"EnvWithoutEquals",
     [](json& c) {
       c["process"]["env"] = {"A=1", "JUSTNAME"};
     },
     "INVALID_ARGS", "process.env[1]"},
    {"NulInArg",
     [](json& c) {
       c["process"]["args"] = {"sh", std::string("a\0b", 3)};
     },
     "INVALID_ARGS", "process.args[1]: contains a NUL byte"},
    {"HugeArgs",
     [](json& c) {
       c["process"]["args"] = {"sh", std::string(3 << 20, 'x')};
     },
     "OUT_OF_RANGE", "process.args"},
    {"ManyMappings",
     [](json& c) {
       json m = json::array();
       for (int i = 0; i < 400; ++i) m.push_back({{"containerID", i}, {"hostID", i}, {"size", 1}});
       c["linux"]["uidMappings"] = m;
     },
     "OUT_OF_RANGE", "linux.uidMappings"},
    {"UnknownCapability", [](json& c) { c["process"]["capabilities"]["bounding"] = {"CAP_NOPE"}; },
     "INVALID_ARGS", "process.capabilities.bounding[0]: unknown capability 'CAP_NOPE'"},
    {"UnknownRlimit",
     [](json& c) {
       c["process"]["rlimits"] = {{{"type", "RLIMIT_NOPE"}, {"soft", 1}, {"hard", 1}}};
     },
     "INVALID_ARGS", "process.rlimits[0].type"},
    {"MountDotDot",
     [](json& c) {
       c["mounts"].push_back({{"destination", "/../../etc"}, {"type", "tmpfs"}, {"source", "x"}});
     },
     "INVALID_ARGS", "leaves the root with '..'"},
    {"MountOntoProcSys",
     [](json& c) {
       c["mounts"].push_back({{"destination", "/proc/sys"},
                              {"type", "bind"},
                              {"source", "/tmp"},
                              {"options", {"rbind"}}});
     },
     "INVALID_ARGS", "].destination: '/proc/sys': mounts onto /proc are refused"},
    {"TmpfsOnProc",
     [](json& c) {
       c["mounts"][0] = {{"destination", "/proc"}, {"type", "tmpfs"}, {"source", "tmpfs"}};
     },
     "INVALID_ARGS", "mounts[0].destination: only a procfs may be mounted on /proc"},
    {"NamespaceUnknown",
     [](json& c) {
       c["linux"]["namespaces"].push_back({{"type", "nope"}});
     },
     "INVALID_ARGS", "unknown namespace type 'nope'"},
    {"NamespaceTwice",
     [](json& c) {
       c["linux"]["namespaces"].push_back({{"type", "pid"}});
     },
     "INVALID_ARGS", "'pid' given twice"},
    {"TimeNamespace",
     [](json& c) {
       c["linux"]["namespaces"].push_back({{"type", "time"}});
     },
     "NOT_SUPPORTED", "'time' namespaces are not supported by the library"},
    {"JoinMountNamespace",
     [](json& c) {
       for (json& n : c["linux"]["namespaces"]) {
         if (n["type"] == "mount") n["path"] = "/proc/1/ns/mnt";
       }
     },
     "NOT_SUPPORTED", "linux.namespaces[3].path: joining an existing 'mount' namespace"},
    {"JoinNotANamespace", [](json& c) { c["linux"]["namespaces"][0]["path"] = "/etc/hostname"; },
     "INVALID_ARGS", "linux.namespaces[0].path: '/etc/hostname' is not a namespace file"},
    {"Apparmor", [](json& c) { c["process"]["apparmorProfile"] = "x"; }, "NOT_SUPPORTED",
     "process.apparmorProfile"},
    {"SeccompListener",
     [](json& c) {
       c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                {"listenerPath", "/run/agent.sock"}};
     },
     "NOT_SUPPORTED", "linux.seccomp.listenerPath"},
    {"SeccompNotify",
     [](json& c) {
       c["linux"]["seccomp"] = {
           {"defaultAction", "SCMP_ACT_ALLOW"},
           {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
     },
     "NOT_SUPPORTED", "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY"},
    {"SeccompFlags",
     [](json& c) {
       c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                {"flags", {"SECCOMP_FILTER_FLAG_LOG"}}};
     },
     "NOT_SUPPORTED", "linux.seccomp.flags"},
    {"SeccompUnknownAction",
     [](json& c) {
       c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_NOPE"}};
     },
     "INVALID_ARGS", "linux.seccomp.defaultAction: unknown seccomp action 'SCMP_ACT_NOPE'"},
    {"HostnameWithoutUts",
     [](json& c) {
       json ns = json::array();
       for (const json& n : c["linux"]["namespaces"]) {
         if (n["type"] != "uts") ns.push_back(n);
       }
       c["linux"]["namespaces"] = ns;
     },
     "INVALID_ARGS", "hostname: needs a 'uts' namespace"},
    {"DeviceNotDefault",
     [](json& c) {
       c["linux"]["devices"] = {{{"path", "/dev/sda"}, {"type", "b"}, {"major", 8}, {"minor", 0}}};
     },
     "NOT_SUPPORTED", "linux.devices[0]: '/dev/sda'"},
    {"DeviceRuleOfNoType",
     [](json& c) {
       c["linux"]["resources"]["devices"] = {{{"allow", false}, {"type", "x"}, {"access", "rwm"}}};
     },
     "INVALID_ARGS", "linux.resources.devices[0].type: 'x' is not a, c or b"},
    {"MountPropagationShared",
     [](json& c) {
       c["mounts"].push_back({{"destination", "/mnt"},
                              {"type", "tmpfs"},
                              {"source", "tmpfs"},
                              {"options", {"rshared"}}});
     },
     "NOT_SUPPORTED", "].options: 'rshared' is not supported by the library"},
    {"MountUnknownType",
     [](json& c) {
       c["mounts"].push_back({{"destination", "/mnt"}, {"type", "nfs"}, {"source", "x:/y"}});
     },
     "NOT_SUPPORTED", "].type: 'nfs' mounts are not supported by the library"},
    {"IdMappedMount",
     [](json& c) {
       c["mounts"].push_back(
           {{"destination", "/mnt"},
            {"type", "bind"},
            {"source", "/tmp"},
            {"options", {"rbind"}},
            {"uidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}}});
     },
     "NOT_SUPPORTED", "].uidMappings: id-mapped mounts"},
    {"UserNamespaceWithoutMappings",
     [](json& c) {
       bool user = false;
       for (const json& n : c["linux"]["namespaces"]) user |= n["type"] == "user";
       if (!user) c["linux"]["namespaces"].push_back({{"type", "user"}});
       c["linux"].erase("uidMappings");
       c["linux"].erase("gidMappings");
     },
     "INVALID_ARGS", "linux.uidMappings: a 'user' namespace needs its mappings"},
    {"ContainerHookStart",
     [](json& c) {
       c["hooks"]["startContainer"] = {{{"path", "/bin/true"}}};
     },
     "NOT_SUPPORTED", "hooks.startContainer"},
    {"ProgramMissing", [](json& c) { c["process"]["args"] = {"no-such-program"}; }, "NOT_FOUND",
     "process.args[0]: 'no-such-program'"},
    // ".." and absolute symlinks resolve inside the rootfs: a host-only program is not found.
    {"ProgramEscapes", [](json& c) { c["process"]["args"] = {"/../../../../usr/bin/python3"}; },
     "NOT_FOUND", "process.args[0]"},
    {"RootfsMissing", [](json& c) { c["root"]["path"] = "/nonexistent-rootfs"; }, "NOT_FOUND",
     "root.path /nonexistent-rootfs"},
    {"SystemdCgroupsPath", [](json& c) { c["linux"]["cgroupsPath"] = "system.slice:x:y"; },
     "NOT_SUPPORTED", "linux.cgroupsPath"},
    {"CgroupsPathEscapes", [](json& c) { c["linux"]["cgroupsPath"] = "/../.."; }, "INVALID_ARGS",
     "linux.cgroupsPath"},
    {"CreateContainerHook",
     [](json& c) {
       c["hooks"]["createContainer"] = {{{"path", "/bin/true"}}};
     },
     "NOT_SUPPORTED", "hooks.createContainer"},
};

INSTANTIATE_TEST_SUITE_P(Cases, BadConfig, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    BecomeSubreaper();
    MakeBundle(dir_.path() + "/bundle", {"sleep", "999", "marker-7d1f3"});
  }
  TempDir dir_;
};

TEST_F(BadInput, NotJson) {
  ExpectRefused(dir_.path(), "{\"ociVersion\": ", "INVALID_ARGS", "not valid JSON at byte");
}

TEST_F(BadInput, NumberOverflow) {  // found by the fuzzer: nlohmann's out_of_range
  ExpectRefused(dir_.path(), "{\"ociVersion\": 1e99999}", "INVALID_ARGS",
                "config.json: not valid JSON: [json.exception.out_of_range.406]");
}

TEST_F(BadInput, TooDeep) {
  std::string deep = "{\"ociVersion\":\"1.0.2\",\"annotations\":" + std::string(200, '[') +
                     std::string(200, ']') + "}";
  ExpectRefused(dir_.path(), deep, "OUT_OF_RANGE", "nested deeper than 32");
}

TEST_F(BadInput, TooLarge) {
  std::string big = "{\"ociVersion\":\"1.0.2\",\"x\":\"" + std::string(5 << 20, 'a') + "\"}";
  ExpectRefused(dir_.path(), big, "OUT_OF_RANGE", "config.json: larger than 4194304 bytes");
}

TEST_F(BadInput, RootfsIsASymlink) {
  fs::create_symlink(ImageDir() + "/rootfs", dir_.path() + "/link");
  json c = json::parse(ReadFile(dir_.path() + "/bundle/config.json"));
  c["root"]["path"] = dir_.path() + "/link";
  ExpectRefused(dir_.path(), c.dump(), "INVALID_ARGS",
                "root.path: '" + dir_.path() + "/link' is a symlink");
}

TEST_F(BadInput, MountOnASymlinkLeavingTheRootfs) {
  // A rootfs of our own whose /evil points at the host's /etc.
  std::string rootfs = dir_.path() + "/rootfs";
  fs::create_directories(rootfs + "/bin");
  fs::copy_file(ImageDir() + "/rootfs/bin/busybox", rootfs + "/bin/busybox");
  fs::create_symlink("busybox", rootfs + "/bin/sleep");
  fs::create_symlink("/etc", rootfs + "/evil");
  json c = json::parse(ReadFile(dir_.path() + "/bundle/config.json"));
  c["root"]["path"] = rootfs;
  c["mounts"] = {{{"destination", "/evil"}, {"type", "tmpfs"}, {"source", "tmpfs"}}};
  c["linux"]["namespaces"] = {{{"type", "mount"}}};
  c.erase("hostname");
  if (!IsRoot()) c["linux"]["namespaces"].push_back({{"type", "user"}});
  ExpectRefused(dir_.path(), c.dump(), "INVALID_ARGS",
                "mounts[0].destination: '/evil' is a symlink in the rootfs");
}

TEST_F(BadInput, BadIds) {
  for (const char* id : {"../x", ".", "a/b", "", "x y"}) {
    Ran r = Exec(Oci(dir_.path() + "/state", {"create", "--bundle", dir_.path() + "/bundle", id}));
    EXPECT_NE(r.code, 0) << id;
    EXPECT_NE(r.err.find("id"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(ProcessesWith("marker-7d1f3").empty());
}

}  // namespace
}  // namespace oci_test
