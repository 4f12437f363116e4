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

// A namespace entry at "/" would replace the private root the entries are
// mounted in: INVALID_ARGS (CLONE_NAMESPACE or CLONE_DIR "/" give the
// caller's tree). fdio hands the entry on.
TEST(SpawnFidelity, NamespaceEntryAtTheRootIsInvalidArgs) {
  int dir = open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  Spawned s = Spawn(CAPSPAWN_CLONE_STDIO, ChildPath(), {ChildPath()}, {}, {AddNsEntry("/", dir)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_INVALID_ARGS) << s.err;
  EXPECT_NE(s.err.find("cannot replace the root"), std::string::npos) << s.err;
  EXPECT_FALSE(FdIsOpen(dir)) << "consumed";
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
