// SPDX-License-Identifier: Apache-2.0
// The rootless path: capspawn-oci run by nobody (a user namespace mapping
// container root to nobody, as `runc --rootless`, or nobody to itself; no
// cgroup of its own unless one is delegated). In the root run it drops to nobody with setpriv; in
// the nobody run it is already nobody.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "oci_util.h"

namespace oci_test {
namespace {

// argv run as nobody (directly when we already are not root).
std::vector<std::string> AsNobody(std::vector<std::string> argv) {
  if (!IsRoot()) return argv;
  std::vector<std::string> v = {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                "--inh-caps=-all"};
  v.insert(v.end(), argv.begin(), argv.end());
  return v;
}

// `spec --rootless` and `run` as nobody; `edit` changes the config, `script`
// runs in it. Returns the run.
Ran RunAsNobody(const std::string& script, const std::function<void(json&)>& edit = nullptr) {
  TempDir dir;
  std::string bundle = dir.path() + "/bundle", state = dir.path() + "/state";
  std::filesystem::create_directories(bundle);
  std::filesystem::create_directories(state);
  if (IsRoot()) {
    EXPECT_EQ(chown(bundle.c_str(), 65534, 65534), 0);
    EXPECT_EQ(chown(state.c_str(), 65534, 65534), 0);
  }
  Ran spec = Exec(AsNobody({OciBinary(), "spec", "--rootless", "--bundle", bundle}));
  EXPECT_EQ(spec.code, 0) << spec.err;
  json c = json::parse(ReadFile(bundle + "/config.json"));
  // As runc --rootless: container root is the caller.
  EXPECT_EQ(c["linux"]["uidMappings"][0]["containerID"], 0);
  EXPECT_EQ(c["linux"]["uidMappings"][0]["hostID"], 65534);
  c["root"]["path"] = ImageDir() + "/rootfs";
  c["process"]["args"] = {"sh", "-c", script};
  if (edit) edit(c);
  WriteFile(dir.path() + "/config.json", c.dump());
  std::filesystem::copy_file(dir.path() + "/config.json", bundle + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::string id = UniqueId("rootless");
  Ran r = Exec(AsNobody({OciBinary(), "--root", state, "run", "--bundle", bundle, id}));
  EXPECT_FALSE(std::filesystem::exists(state + "/" + id));
  ReapOrphans();
  return r;
}

TEST(Rootless, RunAsNobodyContainerRootMappedToCaller) {
  if (IsRoot() && !Have("setpriv")) GTEST_SKIP() << "setpriv (util-linux) is missing";
  BecomeSubreaper();
  Ran r = RunAsNobody(
      "id -u; id -g; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; "
      "cat /proc/self/uid_map; echo $$; hostname; cd /dev/shm && touch x && echo wrote; exit 9");
  EXPECT_EQ(r.code, 9) << r.err;
  // root inside with the spec's three capabilities (AUDIT_WRITE, KILL,
  // NET_BIND_SERVICE), no_new_privs, root mapped to nobody, pid 1, the
  // spec's hostname (a UTS namespace), a writable /dev/shm.
  EXPECT_EQ(r.out,
            "0\n0\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nNoNewPrivs:\t1\n"
            "         0      65534          1\n1\ncapspawn\nwrote\n")
      << r.err;
}

TEST(Rootless, RunAsNobodyMappedToItself) {
  if (IsRoot() && !Have("setpriv")) GTEST_SKIP() << "setpriv (util-linux) is missing";
  BecomeSubreaper();
  Ran r = RunAsNobody(
      "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; cat /proc/self/uid_map; pwd",
      [](json& c) {
        c["linux"]["uidMappings"] = {{{"containerID", 65534}, {"hostID", 65534}, {"size", 1}}};
        c["linux"]["gidMappings"] = {{{"containerID", 65534}, {"hostID", 65534}, {"size", 1}}};
        c["process"]["user"] = {{"uid", 65534}, {"gid", 65534}};
        c["process"].erase("capabilities");
        c["process"]["cwd"] = "/tmp";
      });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "65534\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"
            "     65534      65534          1\n/tmp\n")
      << r.err;
}

// Supplementary groups need `setgroups allow`, which only a privileged map
// writer may give: refused naming the map (runc --rootless refuses them too).
TEST(Rootless, AdditionalGidsAreRefused) {
  if (IsRoot() && !Have("setpriv")) GTEST_SKIP() << "setpriv (util-linux) is missing";
  BecomeSubreaper();
  Ran r = RunAsNobody("id", [](json& c) { c["process"]["user"]["additionalGids"] = {0}; });
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("CAPSPAWN_ERR_ACCESS_DENIED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gid_map"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace oci_test
