// SPDX-License-Identifier: Apache-2.0
// Finding the default job and the stored job state, from text alone.
#include <gtest/gtest.h>

#include "job/cgroup_fs.h"
#include "job/job_meta.h"

namespace capspawn::job_internal {
namespace {

constexpr char kHybridMountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(JobParse, HybridHostUsesTheUnifiedMount) {
  Result<std::string> dir =
      CgroupDirFrom("4:memory:/a/b\n0::/user.slice/session-1.scope\n", kHybridMountinfo);
  ASSERT_TRUE(dir.ok()) << dir.error().message();
  EXPECT_EQ(*dir, "/sys/fs/cgroup/unified/user.slice/session-1.scope");
}

TEST(JobParse, RootCgroupIsTheMountPoint) {
  Result<std::string> dir = CgroupDirFrom("0::/\n", kHybridMountinfo);
  ASSERT_TRUE(dir.ok()) << dir.error().message();
  EXPECT_EQ(*dir, "/sys/fs/cgroup/unified");
}

TEST(JobParse, PureV2WithOptionalFieldsAndEscapes) {
  Result<std::string> dir = CgroupDirFrom(
      "0::/system.slice/my unit.service\n",
      "25 1 0:22 / /sys/fs/cgroup\\040x rw,nosuid shared:9 master:2 - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(dir.ok()) << dir.error().message();
  EXPECT_EQ(*dir, "/sys/fs/cgroup x/system.slice/my unit.service");
}

TEST(JobParse, MountOfASubtreeStripsItsRoot) {
  Result<std::string> dir = CgroupDirFrom(
      "0::/docker/abc/inner\n", "99 1 0:22 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(dir.ok()) << dir.error().message();
  EXPECT_EQ(*dir, "/sys/fs/cgroup/inner");
}

TEST(JobParse, NoCgroup2MountIsNotSupported) {
  Result<std::string> dir =
      CgroupDirFrom("0::/\n", "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status(), CAPSPAWN_ERR_NOT_SUPPORTED);
  EXPECT_NE(dir.error().message().find("cgroup2"), std::string::npos) << dir.error().message();
}

TEST(JobParse, A2MountThatDoesNotHoldOurCgroupIsSkipped) {
  Result<std::string> dir =
      CgroupDirFrom("0::/elsewhere\n", "99 1 0:22 /docker/abc /cg rw - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(dir.status(), CAPSPAWN_ERR_NOT_SUPPORTED);
}

TEST(JobParse, V1OnlyProcessIsNotSupported) {
  Result<std::string> dir = CgroupDirFrom("4:memory:/a\n1:cpu:/\n", kHybridMountinfo);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status(), CAPSPAWN_ERR_NOT_SUPPORTED);
  EXPECT_NE(dir.error().message().find("0::"), std::string::npos) << dir.error().message();
}

TEST(JobParse, MetaRoundTrips) {
  for (NewProcessPolicy p : {NewProcessPolicy::kAllow, NewProcessPolicy::kDeny}) {
    for (bool killed : {false, true}) {
      JobMeta m;
      m.new_process = p;
      m.killed = killed;
      std::optional<JobMeta> back = ParseMeta(FormatMeta(m));
      ASSERT_TRUE(back.has_value()) << FormatMeta(m);
      EXPECT_EQ(back->new_process, p);
      EXPECT_EQ(back->killed, killed);
    }
  }
  EXPECT_FALSE(ParseMeta("").has_value());
  EXPECT_FALSE(ParseMeta("v1").has_value());
  EXPECT_FALSE(ParseMeta("v2 new_process=deny").has_value());
}

}  // namespace
}  // namespace capspawn::job_internal
