// The rootless path: capspawn-oci run by nobody (a user namespace mapping
// nobody to itself, no cgroup of its own unless one is delegated), like
// `runc --rootless`. In the root run it drops to nobody with setpriv; in the
// nobody run it is already nobody.
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

TEST(Rootless, RunAsNobody) {
  if (IsRoot() && !Have("setpriv")) GTEST_SKIP() << "setpriv (util-linux) is missing";
  BecomeSubreaper();
  TempDir dir;
  std::string bundle = dir.path() + "/bundle", state = dir.path() + "/state";
  std::filesystem::create_directories(bundle);
  std::filesystem::create_directories(state);
  if (IsRoot()) {
    ASSERT_EQ(chown(bundle.c_str(), 65534, 65534), 0);
    ASSERT_EQ(chown(state.c_str(), 65534, 65534), 0);
  }
  Ran spec = Exec(AsNobody({OciBinary(), "spec", "--rootless", "--bundle", bundle}));
  ASSERT_EQ(spec.code, 0) << spec.err;
  json c = json::parse(ReadFile(bundle + "/config.json"));
  EXPECT_EQ(c["linux"]["uidMappings"][0]["hostID"], 65534);
  c["root"]["path"] = ImageDir() + "/rootfs";
  c["process"]["args"] = {"sh", "-c",
                          "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; "
                          "cat /proc/self/uid_map; echo $$; exit 9"};
  WriteFile(dir.path() + "/config.json", c.dump());
  std::filesystem::copy_file(dir.path() + "/config.json", bundle + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::string id = UniqueId("rootless");
  Ran r = Exec(AsNobody({OciBinary(), "--root", state, "run", "--bundle", bundle, id}));
  EXPECT_EQ(r.code, 9) << r.err;
  // nobody inside, no capability, no_new_privs, nobody mapped to itself, pid 1.
  EXPECT_EQ(r.out,
            "65534\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"
            "     65534      65534          1\n1\n")
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(state + "/" + id));
  ReapOrphans();
}

}  // namespace
}  // namespace oci_test
