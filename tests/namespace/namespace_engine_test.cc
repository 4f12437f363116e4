// SPDX-License-Identifier: Apache-2.0
// The namespace module driven directly through the launch engine: real
// programs in real private namespaces, as root and as an unprivileged user.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/fd.h>

#include "engine/launch.h"
#include "namespace/namespace.h"
#include "ns_test_util.h"

namespace {

using capspawn::UniqueFd;
namespace ns = capspawn::ns;
using namespace ns_test;  // NOLINT

TEST(NamespaceTest, StaticProgramSeesExactlyItsEntries) {
  if (!ProbeIsStatic()) GTEST_SKIP() << "ns_probe is dynamic in sanitizer builds";
  TempDir d;
  d.Touch("hello");
  UniqueFd fd = OpenDir(d.path());
  ns::Request r = ProbeRequest();
  r.entries.push_back({"/data", fd.get(), false, 2});
  Outcome o = RunIn(r, kProbe, {"ls:/=data", "ls:/data=hello", "a:/proc", "a:/tmp", "a:/usr"});
  EXPECT_EQ(o.status, 0) << o.error;
}

TEST(NamespaceTest, NestedEntriesAndDeepPaths) {
  if (!ProbeIsStatic()) GTEST_SKIP() << "ns_probe is dynamic in sanitizer builds";
  TempDir a, b;
  a.Touch("in-a");
  b.Touch("in-b");
  UniqueFd fa = OpenDir(a.path()), fb = OpenDir(b.path());
  ns::Request r;
  r.entries.push_back({"/foo/bar/baz", fa.get(), false, 0});
  r.entries.push_back({"/foo/bar/baz", fb.get(), false, 1});    // duplicate: the first wins
  r.entries.push_back({"/foo/bar/baz/x", fb.get(), false, 2});  // nested: dropped
  r.entries.push_back({"/foo/qux", fb.get(), false, 3});
  Outcome o =
      RunIn(r, kProbe, {"ls:/=foo", "ls:/foo=bar,qux", "ls:/foo/bar/baz=in-a", "ls:/foo/qux=in-b"});
  EXPECT_EQ(o.status, 0) << o.error;
}

TEST(NamespaceTest, ReadOnlyEntriesRefuseWrites) {
  TempDir ro, rw;
  UniqueFd fro = OpenDir(ro.path()), frw = OpenDir(rw.path());
  ns::Request r = ProbeRequest();
  r.entries.push_back({"/ro", fro.get(), true, 0});
  r.entries.push_back({"/rw", frw.get(), false, 1});
  Outcome o = RunIn(r, kProbe, {"r:/ro/x", "w:/rw/y", "r:/z"});
  EXPECT_EQ(o.status, 0) << o.error;
  struct stat st;
  EXPECT_NE(stat(ro.Path("x").c_str(), &st), 0);
  EXPECT_EQ(stat(rw.Path("y").c_str(), &st), 0)
      << "a write through a read-write entry lands in the handed directory";
}

TEST(NamespaceTest, BusyboxListsAHandedDirectory) {
  if (access("/bin/busybox", X_OK) != 0)
    GTEST_SKIP() << "/bin/busybox (busybox-static) is not installed";
  TempDir d;
  d.Touch("one");
  d.Touch("two");
  UniqueFd fd = OpenDir(d.path());
  ns::Request r;
  r.entries.push_back({"/d", fd.get(), true, 0});
  Outcome o = RunIn(r, "/bin/busybox", {"sh", "-c", "ls /d; ls /"});
  EXPECT_EQ(o.status, 0) << o.error;
  EXPECT_EQ(o.out, "one\ntwo\nd\n");
}

TEST(NamespaceTest, PythonRunsWithOnlyUsrAndItsLoader) {
  std::string libdir = "/usr/lib/x86_64-linux-gnu";
  if (access("/usr/bin/python3", X_OK) != 0 || access(libdir.c_str(), F_OK) != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 and " << libdir;
  }
  UniqueFd usr = OpenDir("/usr"), loader = OpenDir(libdir);
  ns::Request r;
  r.entries.push_back({"/usr", usr.get(), true, 0});
  r.loader_fd = loader.get();
  Outcome o = RunIn(r, "/usr/bin/python3",
                    {"-S", "-c", "import os, json; print(json.dumps(sorted(os.listdir('/'))))"});
  EXPECT_EQ(o.status, 0) << o.error;
  EXPECT_EQ(o.out, "[\"lib\", \"lib64\", \"usr\"]\n");
}

TEST(NamespaceTest, DefaultLoaderRunsADynamicProgram) {
  TempDir d;
  d.Touch("listed");
  UniqueFd fd = OpenDir(d.path());
  ns::Request r;
  r.default_ldsvc = true;
  r.entries.push_back({"/d", fd.get(), false, 0});
  Outcome o = RunIn(r, "/bin/ls", {"/d"});
  EXPECT_EQ(o.status, 0) << o.error;
  EXPECT_EQ(o.out, "listed\n");
}

TEST(NamespaceTest, DynamicProgramWithoutLoaderIsInvalidArgs) {
  ns::Request r;
  Outcome o = RunIn(r, "/bin/ls", {});
  EXPECT_EQ(o.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(o.error.find("ld-linux"), std::string::npos) << o.error;
  EXPECT_EQ(o.status, -1000) << "no process may exist";
}

TEST(NamespaceTest, EntryMustBeADirectory) {
  UniqueFd file(open(kProbe, O_RDONLY | O_CLOEXEC));
  ns::Request r;
  r.entries.push_back({"/data", file.get(), false, 2});
  capspawn::Result<std::unique_ptr<ns::Plan>> p = ns::PlanNamespace(r);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_NOT_DIR);
  EXPECT_NE(p.error().message().find("mount /data (action 2)"), std::string::npos)
      << p.error().message();
}

// Fuchsia's SpawnActionsCloneDir, on Linux paths.
TEST(NamespaceTest, CloneDirCases) {
  TempDir t;
  const std::string root = t.path();
  // (a) "/" is CLONE_NAMESPACE: nothing to build, the caller's tree.
  {
    ns::Request r;
    r.clone_dirs = {"/"};
    capspawn::Result<std::unique_ptr<ns::Plan>> p = ns::PlanNamespace(r);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.value(), nullptr);
    Outcome o = RunIn(r, kProbe, {"e:/proc/self", "e:" + root});
    EXPECT_EQ(o.status, 0) << o.error;
  }
  if (!ProbeIsStatic()) GTEST_SKIP() << "ns_probe is dynamic in sanitizer builds";
  t.MakeDir("foo/bar/baz");
  t.Touch("foo/bar/baz/file");
  // (b) the exact directory.
  {
    ns::Request r;
    r.clone_dirs = {root + "/foo/bar/baz"};
    Outcome o = RunIn(
        r, kProbe, {"e:" + root + "/foo/bar/baz/file", "ls:" + root + "/foo/bar=baz", "a:/proc"});
    EXPECT_EQ(o.status, 0) << o.error;
  }
  // (c) a prefix gives what lies below it.
  {
    ns::Request r;
    r.clone_dirs = {root + "/foo/bar"};
    Outcome o = RunIn(r, kProbe, {"e:" + root + "/foo/bar/baz/file"});
    EXPECT_EQ(o.status, 0) << o.error;
  }
  // (d) whole components only: /foo/bar/baz does not match /foo/bar/bazel.
  {
    TempDir u;
    u.MakeDir("foo/bar/bazel");
    ns::Request r;
    r.clone_dirs = {u.path() + "/foo/bar/baz"};
    Outcome o = RunIn(r, kProbe, {"a:" + u.path() + "/foo/bar", "ls:/="});
    EXPECT_EQ(o.status, 0) << o.error;
  }
  // (e) a prefix missing from the caller's tree: the spawn works, nothing is there.
  {
    ns::Request r;
    r.clone_dirs = {root + "/nothing/here"};
    Outcome o = RunIn(r, kProbe, {"ls:/="});
    EXPECT_EQ(o.status, 0) << o.error;
  }
}

TEST(NamespaceTest, CloneNamespaceWithAnEntryOnTop) {
  TempDir t, src;
  t.MakeDir("mnt");
  src.Touch("from-src");
  UniqueFd fd = OpenDir(src.path());
  ns::Request r = ProbeRequest();
  r.clone_namespace = true;
  r.entries.push_back({t.Path("mnt"), fd.get(), true, 0});
  Outcome o = RunIn(r, kProbe,
                    {"e:/proc/self", "ls:" + t.Path("mnt") + "=from-src", "r:" + t.Path("mnt/x")});
  EXPECT_EQ(o.status, 0) << o.error;
  struct stat st;
  EXPECT_NE(stat(t.Path("mnt/from-src").c_str(), &st), 0) << "the mount stayed in the child";
}

// An entry whose path the caller's tree lacks: the directory where it
// branches off is mirrored in the child; nothing is created in the caller's tree.
TEST(NamespaceTest, CloneNamespaceEntryAtAMissingPath) {
  TempDir t, src;
  t.MakeDir("sub");
  t.Touch("file");
  src.Touch("from-src");
  ASSERT_EQ(symlink("sub", t.Path("link").c_str()), 0);
  UniqueFd fd = OpenDir(src.path());
  ns::Request r = ProbeRequest();
  r.clone_namespace = true;
  r.entries.push_back({t.Path("absent/deep"), fd.get(), false, 4});
  r.entries.push_back({"/foo/bar/baz", fd.get(), true, 5});  // a mirrored "/"
  Outcome o = RunIn(
      r, kProbe,
      {"ls:" + t.Path("absent/deep") + "=from-src", "ls:" + t.path() + "=absent,file,link,sub",
       "e:" + t.Path("link/."), "ls:/foo/bar/baz=from-src", "e:/proc/self/status", "r:/new-at-root",
       "r:" + t.Path("new-beside"), "w:" + t.Path("sub/written"),
       "w:" + t.Path("absent/deep/written")});
  EXPECT_EQ(o.status, 0) << o.error;
  struct stat st;
  EXPECT_NE(stat(t.Path("absent").c_str(), &st), 0) << "nothing is created in the caller's tree";
  EXPECT_NE(stat("/foo", &st), 0) << "nothing is created in the caller's tree";
  EXPECT_EQ(stat(t.Path("sub/written").c_str(), &st), 0) << "siblings are the caller's own";
  EXPECT_EQ(stat(src.Path("written").c_str(), &st), 0) << "the entry is the handed directory";

  // A path through a file is not a directory: named, with the entry.
  ns::Request bad = ProbeRequest();
  bad.clone_namespace = true;
  bad.entries.push_back({t.Path("file/x"), fd.get(), false, 7});
  capspawn::Result<std::unique_ptr<ns::Plan>> p = ns::PlanNamespace(bad);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status(), CAPSPAWN_ERR_NOT_DIR);
  EXPECT_NE(p.error().message().find("(action 7)"), std::string::npos) << p.error().message();
}

TEST(NamespaceTest, NothingOutlivesThousandsOfSpawns) {
  TempDir d;
  UniqueFd fd = OpenDir(d.path());
  ns::Request r = ProbeRequest();
  r.entries.push_back({"/a", fd.get(), true, 0});
  r.entries.push_back({"/b/c", fd.get(), false, 1});
  ns::ClearCache();
  (void)ns::GetCacheStats();  // opens the cache's mount-table watcher
  const int fds = CountFds();
  CacheResidue left;
  const std::string churn = RepeatWhileTheMountTableChanges([&](bool* held) {
    left.Begin();
    for (int i = 0; i < 1200; ++i) {
      // Every spawn alike, both built every time and through the cache.
      r.use_cache = i % 2 == 0;
      Outcome o = RunIn(r, kProbe, {"e:/a", "a:/proc", "fds:3"});
      ASSERT_EQ(o.status, 0) << "spawn " << i << ": " << o.error;
    }
    left.End();
    *held = left.Holds(1, fds, AsRoot() ? 1 : 2);
  });
  if (HasFatalFailure()) return;
  EXPECT_EQ(left.size, 1u) << churn;
  EXPECT_LE(left.fds_held, fds + (AsRoot() ? 1 : 2))
      << "one cached namespace: its nsfs fds" << churn;
  EXPECT_EQ(left.fds_after, fds) << churn;
  EXPECT_EQ(left.mounts_after, left.mounts_before) << churn;
}

}  // namespace
