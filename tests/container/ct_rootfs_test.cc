// SPDX-License-Identifier: Apache-2.0
// A root directory entry ("/") with the mounts OCI uses on top, default
// devices, masked and read-only paths; container mounts on a private root
// and on the caller's tree; paths that try to leave the root; bad input.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "ct_util.h"

namespace {

using namespace ct;  // NOLINT

constexpr uint32_t kNoDevSuid = CAPSPAWN_MOUNT_NOSUID | CAPSPAWN_MOUNT_NODEV;

bool Exists(const std::string& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0;
}

TEST(ContainerRootfs, OciMountsOnARootDirectory) {
  Rootfs root;
  TempDir data;
  data.Write("file", "from-host");
  TempDir etc;
  etc.Write("resolv.conf", "nameserver 10.0.0.1");
  const int fds = CountFds();
  const int mounts = CountMounts();
  int file = open(etc.Path("resolv.conf").c_str(), O_PATH | O_CLOEXEC);
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, kNoDevSuid | CAPSPAWN_MOUNT_NOEXEC, "/proc", -1,
                        nullptr};
  capspawn_mount_t dev{CAPSPAWN_MOUNT_TMPFS, CAPSPAWN_MOUNT_NOSUID | CAPSPAWN_MOUNT_STRICTATIME,
                       "/dev", -1, "mode=755,size=65536k"};
  capspawn_mount_t pts{CAPSPAWN_MOUNT_DEVPTS, CAPSPAWN_MOUNT_NOSUID | CAPSPAWN_MOUNT_NOEXEC,
                       "/dev/pts", -1, "newinstance,ptmxmode=0666,mode=0620"};
  capspawn_mount_t shm{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid | CAPSPAWN_MOUNT_NOEXEC, "/dev/shm", -1,
                       "mode=1777,size=65536k"};
  capspawn_mount_t mq{CAPSPAWN_MOUNT_MQUEUE, kNoDevSuid | CAPSPAWN_MOUNT_NOEXEC, "/dev/mqueue", -1,
                      nullptr};
  capspawn_mount_t sys{CAPSPAWN_MOUNT_SYSFS,
                       kNoDevSuid | CAPSPAWN_MOUNT_NOEXEC | CAPSPAWN_MOUNT_RDONLY, "/sys", -1,
                       nullptr};
  capspawn_mount_t cg{CAPSPAWN_MOUNT_CGROUP2,
                      kNoDevSuid | CAPSPAWN_MOUNT_NOEXEC | CAPSPAWN_MOUNT_RDONLY, "/sys/fs/cgroup",
                      -1, nullptr};
  capspawn_mount_t tmp{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid, "/tmp", -1, "size=1m,mode=0750"};
  capspawn_mount_t bind{CAPSPAWN_MOUNT_BIND,
                        CAPSPAWN_MOUNT_RECURSIVE | CAPSPAWN_MOUNT_RDONLY | CAPSPAWN_MOUNT_NOEXEC,
                        "/data", OpenDir(data.path()), nullptr};
  capspawn_mount_t resolv{CAPSPAWN_MOUNT_BIND, CAPSPAWN_MOUNT_RDONLY, "/etc/resolv.conf", file,
                          nullptr};
  // Rootless: the caller is root in the user namespace, as runc --rootless maps it.
  std::vector<capspawn_action_t> maps;
  if (!AsRoot()) {
    maps = {Map(CAPSPAWN_ACTION_ADD_UID_MAP, 0, geteuid(), 1),
            Map(CAPSPAWN_ACTION_ADD_GID_MAP, 0, getegid(), 1)};
  }
  std::vector<capspawn_action_t> actions = {
      NewNs(CAPSPAWN_NEW_NS_PID | CAPSPAWN_NEW_NS_NET | CAPSPAWN_NEW_NS_IPC | CAPSPAWN_NEW_NS_UTS |
            CAPSPAWN_NEW_NS_CGROUP),
      Root(OpenDir(root.path())),
      Mount(&proc),
      Mount(&dev),
      Mount(&pts),
      Mount(&shm),
      Mount(&mq),
      Mount(&sys),
      Mount(&cg),
      Mount(&tmp),
      Mount(&bind),
      Mount(&resolv),
      PathAct(CAPSPAWN_ACTION_ADD_DEVICES, "/dev"),
      PathAct(CAPSPAWN_ACTION_MASK_PATH, "/proc/kcore"),
      PathAct(CAPSPAWN_ACTION_MASK_PATH, "/proc/keys"),
      PathAct(CAPSPAWN_ACTION_MASK_PATH, "/sys/firmware"),
      PathAct(CAPSPAWN_ACTION_MASK_PATH, "/does/not/exist"),
      PathAct(CAPSPAWN_ACTION_READ_ONLY_PATH, "/proc/sys"),
      PathAct(CAPSPAWN_ACTION_READ_ONLY_PATH, "/etc")};
  actions.insert(actions.end(), maps.begin(), maps.end());
  Report r = Spawn(kAll, actions,
                   {"stat:/bin/busybox",
                    "read:/etc/hostname",
                    "read:/data/file",
                    "write:/data/new",
                    "read:/etc/resolv.conf",
                    "write:/tmp/x",
                    "write:/etc/new",
                    "write:/new-in-root",
                    "stat:/dev/null",
                    "stat:/dev/zero",
                    "stat:/dev/full",
                    "stat:/dev/urandom",
                    "stat:/dev/tty",
                    "write:/dev/null",
                    "read:/dev/zero",
                    "lstat:/dev/fd",
                    "lstat:/dev/ptmx",
                    "stat:/dev/pts/ptmx",
                    "stat:/dev/mqueue",
                    "read:/proc/keys",
                    "stat:/proc/keys",
                    "stat:/sys/firmware",
                    "stat:/sys/fs/cgroup/cgroup.procs",
                    "mount:/proc/sys",
                    "mount:/tmp",
                    "mount:/data",
                    "mount:/proc",
                    "mount:/dev/pts",
                    "mount:/sys",
                    "stat:/proc/1/status"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["cwd"], "/");
  EXPECT_EQ(r["stat:/bin/busybox"], "file");
  EXPECT_EQ(r["read:/etc/hostname"], "image");
  EXPECT_EQ(r["read:/data/file"], "from-host");
  EXPECT_EQ(r["write:/data/new"], "!30");  // EROFS: the bind is read-only
  EXPECT_EQ(r["read:/etc/resolv.conf"], "nameserver 10.0.0.1");
  EXPECT_EQ(r["write:/tmp/x"], "ok");
  EXPECT_EQ(r["write:/etc/new"], "!30");  // a read-only path
  EXPECT_EQ(r["write:/new-in-root"], "ok");
  for (const char* n : {"null", "zero", "full", "urandom", "tty"}) {
    EXPECT_EQ(r[std::string("stat:/dev/") + n], "chr") << n;
  }
  EXPECT_EQ(r["write:/dev/null"], "ok");
  EXPECT_EQ(r["lstat:/dev/fd"], "lnk");
  EXPECT_EQ(r["lstat:/dev/ptmx"], "lnk");
  EXPECT_EQ(r["stat:/dev/pts/ptmx"], "chr");
  EXPECT_EQ(r["stat:/dev/mqueue"], "dir");
  EXPECT_EQ(r["read:/proc/keys"], "") << "masked by /dev/null";
  EXPECT_EQ(r["stat:/proc/keys"], "chr");
  EXPECT_EQ(r["stat:/sys/firmware"], "dir");
  EXPECT_EQ(r["stat:/sys/fs/cgroup/cgroup.procs"], "file");
  EXPECT_EQ(r["mount:/proc/sys"].find("proc ro,"), 0u) << r["mount:/proc/sys"];
  EXPECT_NE(r["mount:/tmp"].find("tmpfs rw,nosuid,nodev"), std::string::npos) << r["mount:/tmp"];
  EXPECT_NE(r["mount:/tmp"].find("size=1024k"), std::string::npos) << r["mount:/tmp"];
  EXPECT_NE(r["mount:/tmp"].find("mode=750"), std::string::npos) << r["mount:/tmp"];
  EXPECT_EQ(r["mount:/data"].find(" ro,"), r["mount:/data"].find(' ')) << r["mount:/data"];
  EXPECT_NE(r["mount:/data"].find("noexec"), std::string::npos) << r["mount:/data"];
  EXPECT_NE(r["mount:/proc"].find("proc rw,nosuid,nodev,noexec"), std::string::npos)
      << r["mount:/proc"];
  EXPECT_NE(r["mount:/dev/pts"].find("ptmxmode=666"), std::string::npos) << r["mount:/dev/pts"];
  EXPECT_NE(r["mount:/sys"].find("sysfs ro,"), std::string::npos) << r["mount:/sys"];
  // The image got the mountpoints it lacked, as runc makes them; nothing else.
  EXPECT_TRUE(Exists(root.Path("data")));
  EXPECT_TRUE(Exists(root.Path("etc/resolv.conf")));
  EXPECT_TRUE(Exists(root.Path("new-in-root")));
  EXPECT_FALSE(Exists(data.Path("new")));
  EXPECT_EQ(CountFds(), fds);
  EXPECT_EQ(CountMounts(), mounts);
  EXPECT_FALSE(HasChildren());
}

TEST(ContainerRootfs, BusyboxShellInTheRoot) {
  Rootfs root;
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, kNoDevSuid, "/proc", -1, nullptr};
  capspawn_action_t h = Act(CAPSPAWN_ACTION_SET_HOSTNAME);
  h.name.data = "bb";
  Report r =
      Spawn(kAll, {NewNs(CAPSPAWN_NEW_NS_PID), h, Root(OpenDir(root.path())), Mount(&proc)},
            {"sh", "-c", "echo $$ $(hostname) $(ls /) $(cat /etc/hostname)"}, "/bin/busybox");
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "1 bb bin dev etc proc image\n");
}

TEST(ContainerRootfs, ReadOnlyRoot) {
  Rootfs root;
  TempDir scratch;
  capspawn_mount_t tmp{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid, "/tmp", -1, nullptr};
  root.MakeDir("tmp");
  Report r = Spawn(kAll, {Root(OpenDir(root.path()), true), Mount(&tmp)},
                   {"write:/new", "write:/tmp/new", "mount:/"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["write:/new"], "!30");
  EXPECT_EQ(r["write:/tmp/new"], "ok");
  EXPECT_FALSE(Exists(root.Path("new")));
}

// Symlinks in the image never lead a mountpoint out of it.
TEST(ContainerRootfs, SymlinksStayInsideTheRoot) {
  Rootfs root;
  TempDir host;
  root.MakeDir(host.path().substr(1));  // where the links lead inside the root
  ASSERT_EQ(symlink(host.path().c_str(), root.Path("abs").c_str()), 0);
  ASSERT_EQ(symlink(("../../../../../../.." + host.path()).c_str(), root.Path("up").c_str()), 0);
  capspawn_mount_t a{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid, "/abs/x", -1, nullptr};
  capspawn_mount_t b{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid, "/up/y", -1, nullptr};
  const int mounts = CountMounts();
  Report r = Spawn(kAll, {Root(OpenDir(root.path())), Mount(&a), Mount(&b)},
                   {"stat:/abs/x", "stat:/up/y"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["stat:/abs/x"], "dir");
  EXPECT_FALSE(Exists(host.Path("x"))) << "a mountpoint was made outside the root";
  EXPECT_FALSE(Exists(host.Path("y"))) << "a mountpoint was made outside the root";
  EXPECT_TRUE(Exists(root.Path(host.path().substr(1) + "/x")));
  EXPECT_EQ(CountMounts(), mounts);

  // A link that leads nowhere inside the root fails, naming the mount.
  ASSERT_EQ(symlink("/nowhere", root.Path("dangling").c_str()), 0);
  capspawn_mount_t c{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid, "/dangling/z", -1, nullptr};
  r = Spawn(kAll, {Root(OpenDir(root.path())), Mount(&c)});
  // fdio's status: a missing path after the program is open is INTERNAL
  // (not "no such program"); the message names it.
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INTERNAL);
  EXPECT_EQ(r.error,
            "mount tmpfs on /dangling/z (action 1): mkdir /dangling/z: No such file or directory");
  EXPECT_FALSE(Exists("/nowhere"));
}

// Container mounts without a root entry: on the private root, and on the
// caller's own tree (only onto what exists there).
TEST(ContainerRootfs, MountsWithoutARootEntry) {
  capspawn_mount_t tmp{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid, "/scratch/t", -1, "size=64k"};
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, kNoDevSuid, "/proc", -1, nullptr};
  Report priv = Spawn(kPrivate, {NewNs(CAPSPAWN_NEW_NS_PID), Mount(&proc), Mount(&tmp)},
                      {"write:/scratch/t/x", "mount:/scratch/t", "write:/y"});
  ASSERT_EQ(priv.code, CAPSPAWN_OK) << priv.error;
  EXPECT_EQ(priv["write:/scratch/t/x"], "ok");
  EXPECT_EQ(priv["write:/y"], "!30");
  EXPECT_NE(priv["mount:/scratch/t"].find("size=64k"), std::string::npos)
      << priv["mount:/scratch/t"];

  TempDir host;
  host.MakeDir("d");
  host.Write("f", "secret");
  host.Write("d/g", "x");
  const std::string tmp_target = host.path() + "/d";
  capspawn_mount_t over{CAPSPAWN_MOUNT_TMPFS, kNoDevSuid, tmp_target.c_str(), -1, nullptr};
  const std::string masked = host.Path("f");
  const std::string ro = host.path();
  Report r = Spawn(kAll,
                   {Mount(&over), PathAct(CAPSPAWN_ACTION_MASK_PATH, masked.c_str()),
                    PathAct(CAPSPAWN_ACTION_READ_ONLY_PATH, ro.c_str())},
                   {"stat:" + host.Path("d/g"), "read:" + masked, "write:" + host.Path("new")});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["stat:" + host.Path("d/g")], "!2");
  EXPECT_EQ(r["read:" + masked], "");
  EXPECT_EQ(r["write:" + host.Path("new")], "!30");
  std::ifstream in(masked);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "secret");

  const std::string missing = host.path() + "/not-there";
  capspawn_mount_t onto_missing{CAPSPAWN_MOUNT_TMPFS, 0, missing.c_str(), -1, nullptr};
  Report bad = Spawn(kAll, {Mount(&onto_missing)});
  // fdio's status: a missing path after the program is open is INTERNAL
  // (not "no such program"); the message names it.
  EXPECT_EQ(bad.code, CAPSPAWN_ERR_INTERNAL);
  EXPECT_EQ(bad.error, "mount tmpfs on " + missing + " (action 0): open mountpoint " + missing +
                           ": No such file or directory");
  EXPECT_FALSE(Exists(missing)) << "nothing is created in the caller's tree";
}

TEST(ContainerRootfs, BadInput) {
  TempDir d;
  capspawn_mount_t relative{CAPSPAWN_MOUNT_TMPFS, 0, "tmp", -1, nullptr};
  capspawn_mount_t slash{CAPSPAWN_MOUNT_TMPFS, 0, "/", -1, nullptr};
  capspawn_mount_t kind{99, 0, "/x", -1, nullptr};
  capspawn_mount_t flags{CAPSPAWN_MOUNT_TMPFS, 0x10000, "/x", -1, nullptr};
  capspawn_mount_t atimes{CAPSPAWN_MOUNT_TMPFS, CAPSPAWN_MOUNT_NOATIME | CAPSPAWN_MOUNT_RELATIME,
                          "/x", -1, nullptr};
  capspawn_mount_t closed{CAPSPAWN_MOUNT_BIND, 0, "/x", 987, nullptr};
  capspawn_mount_t bind_data{CAPSPAWN_MOUNT_BIND, 0, "/x", -2, "size=1"};
  capspawn_mount_t fs_source{CAPSPAWN_MOUNT_TMPFS, 0, "/x", 0, nullptr};
  struct Case {
    capspawn_action_t action;
    capspawn_status_t status;
    std::string message;
  };
  std::vector<Case> cases = {
      {Mount(nullptr), CAPSPAWN_ERR_INVALID_ARGS, "action 0 (ADD_MOUNT): mount.spec is NULL"},
      {Mount(&relative), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (ADD_MOUNT): target 'tmp' is not an absolute, normalised path"},
      {Mount(&slash), CAPSPAWN_ERR_INVALID_ARGS, "action 0 (ADD_MOUNT): target cannot be '/'"},
      {Mount(&kind), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (ADD_MOUNT): kind 99 is not a CAPSPAWN_MOUNT_* kind"},
      {Mount(&flags), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (ADD_MOUNT): flags has unknown bits 0x10000"},
      {Mount(&atimes), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (ADD_MOUNT): flags: RELATIME, NOATIME and STRICTATIME exclude each other"},
      {Mount(&closed), CAPSPAWN_ERR_BAD_HANDLE,
       "action 0: add mount: source 987 is not an open fd"},
      {Mount(&fs_source), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (ADD_MOUNT): source must be -1 for a file system mount"},
      {PathAct(CAPSPAWN_ACTION_MASK_PATH, "/"), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (MASK_PATH): dir.prefix cannot be '/'"},
      {PathAct(CAPSPAWN_ACTION_READ_ONLY_PATH, "/a/../b"), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (READ_ONLY_PATH): dir.prefix '/a/../b' is not an absolute, normalised path"},
      {PathAct(CAPSPAWN_ACTION_ADD_DEVICES, nullptr), CAPSPAWN_ERR_INVALID_ARGS,
       "action 0 (ADD_DEVICES): dir.prefix is NULL"},
  };
  for (Case& c : cases) {
    const int fds = CountFds();
    Report r = Spawn(kAll, {c.action});
    EXPECT_EQ(r.code, c.status) << c.message;
    EXPECT_EQ(r.error, c.message);
    EXPECT_EQ(CountFds(), fds) << c.message;
  }
  // A bind's source is consumed, even when the action is refused.
  bind_data.source = OpenDir(d.path());
  const int source = bind_data.source;
  Report r = Spawn(kAll, {Mount(&bind_data)});
  EXPECT_EQ(r.error, "action 0 (ADD_MOUNT): data: a bind mount takes no options");
  EXPECT_EQ(fcntl(source, F_GETFD), -1);
  // A non-directory cannot be the root.
  int file = open(("/proc/self/exe"), O_RDONLY | O_CLOEXEC);
  r = Spawn(kAll, {Root(file)});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_NOT_DIR) << r.error;
}

// Failures the child meets: each names its step and field, and nothing is
// left behind (no fd, no child, no mount in the caller's namespace).
TEST(ContainerRootfs, ChildSideFailuresLeaveNothing) {
  Rootfs root;
  capspawn_mount_t bad_size{CAPSPAWN_MOUNT_TMPFS, 0, "/tmp", -1, "size=lots"};
  capspawn_mount_t bad_key{CAPSPAWN_MOUNT_DEVPTS, 0, "/dev/pts", -1, "nonsense=1"};
  root.Write("file", "x");
  capspawn_mount_t onto_file{CAPSPAWN_MOUNT_TMPFS, 0, "/file/sub", -1, nullptr};
  struct Case {
    std::vector<capspawn_action_t> actions;
    capspawn_status_t status;
    std::string message;
  };
  std::vector<Case> cases = {
      {{Root(-1), Mount(&bad_size)},
       CAPSPAWN_ERR_INVALID_ARGS,
       "mount tmpfs on /tmp (action 1): fsconfig /tmp (tmpfs: Bad value for 'size'): Invalid "
       "argument"},
      {{Root(-1), Mount(&bad_key)},
       CAPSPAWN_ERR_INVALID_ARGS,
       "mount devpts on /dev/pts (action 1): fsconfig /dev/pts (devpts: Unknown parameter "
       "'nonsense'): Invalid argument"},
      {{Root(-1), Mount(&onto_file)},
       CAPSPAWN_ERR_NOT_DIR,
       "mount tmpfs on /file/sub (action 1): mkdir /file/sub: Not a directory"},
  };
  for (Case& c : cases) {
    const int fds = CountFds();
    c.actions[0].ns.handle = OpenDir(root.path());
    const int mounts = CountMounts();
    Report r = Spawn(kAll, c.actions);
    EXPECT_EQ(r.code, c.status) << r.error;
    EXPECT_EQ(r.error, c.message);
    EXPECT_EQ(CountFds(), fds);
    EXPECT_EQ(CountMounts(), mounts);
    EXPECT_FALSE(HasChildren());
  }
}

}  // namespace
