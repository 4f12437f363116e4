// SPDX-License-Identifier: Apache-2.0
// Namespaces through the public C API (capspawn_spawn_etc) and the namespace
// cache: capspawn's extension actions, repeated configurations entered with
// setns, invalidation, bounds, and isolation between spawns.
#include <capspawn/spawn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "namespace/namespace.h"
#include "ns_test_util.h"

namespace {

using capspawn::UniqueFd;
namespace ns = capspawn::ns;
using namespace ns_test;  // NOLINT

// Everything but the caller's filesystem.
constexpr uint32_t kPrivate = CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_NAMESPACE;

constexpr const char* kBusybox = "/bin/busybox";

// Through a launcher (the namespace.via_launcher test) the namespace cache is
// the daemon's: this process's statistics say nothing.
bool ViaLauncher() { return getenv("CAPSPAWN_LAUNCHER") != nullptr; }

class NamespaceSpawnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ProbeIsStatic()) GTEST_SKIP() << "ns_probe is dynamic in sanitizer builds";
    ns::ClearCache();
  }
  void TearDown() override { ns::ClearCache(); }
};

TEST_F(NamespaceSpawnTest, StaticHelperSeesExactlyItsEntries) {
  TempDir d;
  d.Touch("hello");
  Outcome o = SpawnEtc(
      kPrivate, kProbe, {"ls:/=data", "ls:/data=hello", "a:/proc", "a:/tmp", "a:/dev", "fds:3"},
      {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/data", OpenDir(d.path()).release())});
  ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.status, 0);
}

TEST_F(NamespaceSpawnTest, ReadOnlyActionRefusesWrites) {
  TempDir ro, rw;
  int ro_fd = OpenDir(ro.path()).release();
  Outcome o =
      SpawnEtc(kPrivate, kProbe, {"r:/ro/x", "e:/ro", "w:/rw/y", "r:/z"},
               {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY, "/ro", ro_fd),
                NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/rw", OpenDir(rw.path()).release())});
  ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(fcntl(ro_fd, F_GETFD), -1) << "the read-only entry's fd is consumed";
  struct stat st;
  EXPECT_NE(stat(ro.Path("x").c_str(), &st), 0);
  EXPECT_EQ(stat(rw.Path("y").c_str(), &st), 0);
}

TEST_F(NamespaceSpawnTest, TmpfsProcAndMinimalDev) {
  Outcome o = SpawnEtc(kPrivate, kProbe,
                       {"ls:/=dev,proc,tmp", "w:/tmp/x", "ls:/tmp=x", "ls:/dev=null,urandom,zero",
                        "w:/dev/null", "rd:/dev/zero", "rd:/dev/urandom", "r:/dev/new",
                        "e:/proc/self/status", "pid:1", "e:/proc/1", "a:/proc/2", "r:/new"},
                       {NsAction(CAPSPAWN_ACTION_ADD_NS_TMPFS, "/tmp"),
                        NsAction(CAPSPAWN_ACTION_ADD_NS_PROC, "/proc"),
                        NsAction(CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL, "/dev")});
  ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.status, 0);
}

// A tmpfs entry is the spawn's own, even when the namespace comes from the cache.
TEST_F(NamespaceSpawnTest, TmpfsIsFreshForEverySpawn) {
  TempDir d;
  uint64_t hits = 0;
  const std::string churn = RepeatWhileTheMountTableChanges([&](bool* held) {
    ns::ClearCache();
    const uint64_t before = ns::GetCacheStats().hits;
    for (int i = 0; i < 3; ++i) {
      Outcome o =
          SpawnEtc(kPrivate, kProbe, {"ls:/tmp=", "w:/tmp/left-behind", "ls:/=d,tmp"},
                   {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/d", OpenDir(d.path()).release()),
                    NsAction(CAPSPAWN_ACTION_ADD_NS_TMPFS, "/tmp")});
      ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
      EXPECT_EQ(o.status, 0) << "spawn " << i;
    }
    hits = ns::GetCacheStats().hits - before;
    *held = ViaLauncher() || hits == 2;
  });
  if (HasFatalFailure()) return;
  if (!ViaLauncher()) {
    EXPECT_EQ(hits, 2u) << "the second and third spawns enter the cached namespace" << churn;
  }
}

TEST_F(NamespaceSpawnTest, RepeatedConfigurationIsBuiltOnce) {
  TempDir a, b;
  a.Touch("in-a");
  if (!ns::GetCacheStats().enabled) GTEST_SKIP() << "the namespace cache is disabled here";
  ns::CacheStats before, after, last;
  const std::string churn = RepeatWhileTheMountTableChanges([&](bool* held) {
    ns::ClearCache();
    unlink(a.Path("now-writable").c_str());  // an earlier round's
    before = ns::GetCacheStats();
    for (int i = 0; i < 20; ++i) {
      Outcome o = SpawnEtc(
          kPrivate, kProbe, {"ls:/a=in-a", "ls:/b=", "r:/a/x"},
          {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY, "/a", OpenDir(a.path()).release()),
           NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/b", OpenDir(b.path()).release())});
      ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
      ASSERT_EQ(o.status, 0) << "spawn " << i;
    }
    after = ns::GetCacheStats();
    // A different read-only bit is a different namespace.
    Outcome o =
        SpawnEtc(kPrivate, kProbe, {"w:/a/now-writable"},
                 {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/a", OpenDir(a.path()).release()),
                  NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/b", OpenDir(b.path()).release())});
    ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
    EXPECT_EQ(o.status, 0);
    last = ns::GetCacheStats();
    *held = after.builds - before.builds == 1 && after.hits - before.hits == 19 &&
            after.size == 1 && last.builds - before.builds == 2;
  });
  if (HasFatalFailure()) return;
  EXPECT_EQ(after.builds - before.builds, 1u) << churn;
  EXPECT_EQ(after.hits - before.hits, 19u) << churn;
  EXPECT_EQ(after.size, 1u) << churn;
  EXPECT_EQ(last.builds - before.builds, 2u) << churn;
}

TEST_F(NamespaceSpawnTest, ReplacedDirectoryIsRebuilt) {
  TempDir t;
  t.MakeDir("data");
  t.Touch("data/old");
  auto run = [&](const char* expect) {
    return SpawnEtc(
        kPrivate, kProbe, {expect},
        {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/data", OpenDir(t.Path("data")).release())});
  };
  Outcome o = run("ls:/data=old");
  ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.status, 0);
  ASSERT_EQ(rename(t.Path("data").c_str(), t.Path("data.old").c_str()), 0);
  t.MakeDir("data");
  t.Touch("data/new");
  o = run("ls:/data=new");
  ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.status, 0) << "a replaced directory must not be served from the cache";
}

// Root can mount: it gets a copy of the cached namespace, and its mounts
// stay in it. A non-root child has no capability in the shared one.
TEST_F(NamespaceSpawnTest, ChildCannotChangeTheNamespaceOfTheNext) {
  if (access(kBusybox, X_OK) != 0) GTEST_SKIP() << kBusybox << " is not installed";
  TempDir d;
  d.Touch("real");
  char real[PATH_MAX];
  ASSERT_NE(realpath(kBusybox, real), nullptr);
  const std::string bin_dir = std::string(real).substr(0, std::string(real).rfind('/'));
  auto run = [&](const std::string& script) {
    return SpawnEtc(
        kPrivate, kBusybox, {"sh", "-c", script},
        {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/d", OpenDir(d.path()).release()),
         NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY, "/bb", OpenDir(bin_dir).release())});
  };
  // The second spawn must enter the namespace the first one was given.
  uint64_t hits = 0;
  const std::string churn = RepeatWhileTheMountTableChanges([&](bool* held) {
    ns::ClearCache();
    const uint64_t before = ns::GetCacheStats().hits;
    Outcome first = run("/bb/busybox mount -t tmpfs none /d; echo $?; ls /d");
    ASSERT_EQ(first.code, CAPSPAWN_OK) << first.error;
    if (AsRoot()) {
      EXPECT_EQ(first.out, "0\n") << "root mounts over /d in its own copy";
    } else {
      EXPECT_NE(first.out, "0\nreal\n");
      EXPECT_EQ(first.out.substr(first.out.find('\n') + 1), "real\n") << "nobody cannot mount";
    }
    Outcome second = run("ls /d; /bb/busybox mount -t tmpfs none / || echo refused");
    ASSERT_EQ(second.code, CAPSPAWN_OK) << second.error;
    EXPECT_EQ(second.out.substr(0, 5), "real\n") << "the next spawn sees the handed directory";
    hits = ns::GetCacheStats().hits - before;
    *held = ViaLauncher() || hits == 1;
  });
  if (HasFatalFailure()) return;
  if (!ViaLauncher()) {
    EXPECT_EQ(hits, 1u) << "the second spawn enters the cached namespace" << churn;
  }
}

TEST_F(NamespaceSpawnTest, CacheIsBoundedAndLeavesNothing) {
  const size_t old = ns::SetCacheCapacityForTesting(4);
  if (old == 0) {
    ns::SetCacheCapacityForTesting(0);
    GTEST_SKIP() << "the namespace cache is disabled here";
  }
  (void)ns::GetCacheStats();
  std::vector<std::unique_ptr<TempDir>> dirs;
  for (int i = 0; i < 10; ++i) dirs.push_back(std::make_unique<TempDir>());
  const int fds = CountFds();
  CacheResidue left;
  const std::string churn = RepeatWhileTheMountTableChanges([&](bool* held) {
    left.Begin();
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 10; ++i) {
        Outcome o = SpawnEtc(
            kPrivate, kProbe, {"e:/x", "fds:3"},
            {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/x", OpenDir(dirs[i]->path()).release())});
        ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
        ASSERT_EQ(o.status, 0);
      }
    }
    left.End();
    *held = left.Holds(4, fds, 8);
  });
  ns::SetCacheCapacityForTesting(old);
  if (HasFatalFailure()) return;
  EXPECT_EQ(left.size, 4u) << churn;
  EXPECT_LE(left.fds_held, fds + 8) << "4 namespaces, at most 2 fds each" << churn;
  EXPECT_EQ(left.fds_after, fds) << churn;
  EXPECT_EQ(left.mounts_after, left.mounts_before) << churn;
}

// Root only: a mount anywhere in the caller's namespace empties the cache.
TEST_F(NamespaceSpawnTest, MountTableChangeEmptiesTheCache) {
  if (!AsRoot()) GTEST_SKIP() << "needs root to change the mount table";
  TempDir d, m;
  auto run = [&] {
    return SpawnEtc(kPrivate, kProbe, {"e:/d"},
                    {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/d", OpenDir(d.path()).release())});
  };
  // Another mount before this test's own one could keep the first
  // namespace out of the cache (and its flush uncounted): such a round is
  // run again.
  ns::CacheStats before;
  const std::string churn = RepeatWhileTheMountTableChanges([&](bool* held) {
    ns::ClearCache();
    ASSERT_EQ(run().status, 0);
    before = ns::GetCacheStats();
    *held = before.size == 1;
  });
  if (HasFatalFailure()) return;
  ASSERT_EQ(before.size, 1u) << "the first namespace is cached" << churn;
  ASSERT_EQ(mount("capspawn-test", m.path().c_str(), "tmpfs", 0, nullptr), 0);
  Outcome o = run();
  umount2(m.path().c_str(), MNT_DETACH);
  ASSERT_EQ(o.status, 0) << o.error;
  const ns::CacheStats after = ns::GetCacheStats();
  EXPECT_EQ(after.flushes, before.flushes + 1);
  EXPECT_EQ(after.builds, before.builds + 1);
}

TEST_F(NamespaceSpawnTest, ConcurrentSpawnsShareTheCache) {
  TempDir d;
  d.Touch("f");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        Outcome o = SpawnEtc(
            kPrivate, kProbe, {"ls:/d=f"},
            {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY, "/d", OpenDir(d.path()).release())});
        if (o.code != CAPSPAWN_OK || o.status != 0) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(ns::GetCacheStats().size, 1u);
}

TEST_F(NamespaceSpawnTest, ErrorsNameTheEntry) {
  TempDir t;
  t.MakeDir("gone");
  int fd = OpenDir(t.Path("gone")).release();
  ASSERT_EQ(rmdir(t.Path("gone").c_str()), 0);
  Outcome o = SpawnEtc(kPrivate, kProbe, {},
                       {NsAction(CAPSPAWN_ACTION_ADD_NS_TMPFS, "/tmp"),
                        NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/data", fd)});
  EXPECT_EQ(o.code, CAPSPAWN_ERR_NOT_SUPPORTED);
  EXPECT_NE(o.error.find("mount /data (action 1)"), std::string::npos) << o.error;

  o = SpawnEtc(kPrivate, kProbe, {}, {NsAction(CAPSPAWN_ACTION_ADD_NS_TMPFS, "tmp")});
  EXPECT_EQ(o.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(o.error.find("tmpfs tmp (action 0)"), std::string::npos) << o.error;
}

// fdio's CLONE_DIR cases through the C API, with an ADD_NS_ENTRY at a path
// the caller's tree lacks (CLONE_NAMESPACE).
TEST_F(NamespaceSpawnTest, CloneNamespaceEntryAtFooBarBaz) {
  TempDir d;
  d.Touch("inside");
  Outcome o = SpawnEtc(
      CAPSPAWN_CLONE_ALL, kProbe, {"ls:/foo/bar/baz=inside", "e:/proc/self", "ls:/foo=bar"},
      {NsAction(CAPSPAWN_ACTION_ADD_NS_ENTRY, "/foo/bar/baz", OpenDir(d.path()).release())});
  ASSERT_EQ(o.code, CAPSPAWN_OK) << o.error;
  EXPECT_EQ(o.status, 0);
  struct stat st;
  EXPECT_NE(stat("/foo", &st), 0) << "nothing is created in the caller's tree";
}

}  // namespace
