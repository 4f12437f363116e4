// SPDX-License-Identifier: Apache-2.0
// Linux choices where capspawn answers otherwise than fdio, each pinned here
// or by the test docs/spawn.md's table names ("where capspawn differs from
// Fuchsia, and why").
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

// fdio passes any absolute CLONE_DIR prefix without a trailing '/'; capspawn
// binds whole path components of the caller's tree, so "/tmp/../tmp" or
// "//tmp" would name a directory other than the text's: INVALID_ARGS.
TEST(SpawnFidelity, CloneDirMustBeNormalised) {
  for (const char* prefix : {"/tmp/../tmp", "//tmp", "/tmp/./x"}) {
    SCOPED_TRACE(prefix);
    Spawned s = Spawn(CAPSPAWN_CLONE_STDIO, ChildPath(), {ChildPath()}, {}, {CloneDir(prefix)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
    EXPECT_NE(s.err.find("not normalised"), std::string::npos) << s.err;
  }
}

// fdio hands a namespace entry at "/" on: it is the child's root. capspawn
// makes that directory the child's "/" (a root directory, the other entries
// mounted on it; docs/containers.md): here the caller's own root, in which
// the child runs as usual. Only a directory can be the root: a "/" of another
// kind is INVALID_ARGS, its action named.
TEST(SpawnFidelity, NamespaceEntryAtTheRootIsTheRootDirectory) {
  int dir = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  ChildRun run = RunChild(CAPSPAWN_CLONE_STDIO, ChildPath(), {ChildPath(), "--exit", "7"}, {},
                          {AddNsEntry("/", dir)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.return_code, 7);
  EXPECT_FALSE(FdIsOpen(dir)) << "consumed";

  capspawn_action_t tmpfs = {};
  tmpfs.action = CAPSPAWN_ACTION_ADD_NS_TMPFS;
  tmpfs.dir.prefix = "/";
  Spawned s = Spawn(CAPSPAWN_CLONE_STDIO, ChildPath(), {ChildPath()}, {}, {tmpfs});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_NE(s.err.find("(action 0): only a directory entry can be the root"), std::string::npos)
      << s.err;
}

// Unknown flag bits: fdio ignores them; capspawn refuses a request it would
// not honour.
TEST(SpawnFidelity, UnknownFlagBitsAreInvalidArgs) {
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL | 0x10000u, ChildPath(), {ChildPath()});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_NE(s.err.find("0x10000"), std::string::npos) << s.err;
}

}  // namespace
}  // namespace capspawn_test
