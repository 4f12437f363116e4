// SPDX-License-Identifier: Apache-2.0
// SpawnActionAddHandle: PA_FD handles land at their fd; other typed handles
// land at 3, 4, ... in action order, described by LISTEN_FDS / LISTEN_PID /
// LISTEN_FDNAMES and found by capspawn_take_startup_handle(). Every handle is
// consumed, whatever happens.
#include <capspawn/processargs.h>
#include <capspawn/startup.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

using Ids = std::vector<uint32_t>;

const uint32_t kUser0 = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 0);
const uint32_t kUser1_7 = CAPSPAWN_PA_HND(CAPSPAWN_PA_USER1, 7);
const uint32_t kDirRequest = CAPSPAWN_PA_HND(CAPSPAWN_PA_DIRECTORY_REQUEST, 0);
const uint32_t kLifecycle = CAPSPAWN_PA_HND(CAPSPAWN_PA_LIFECYCLE, 0);

std::string HexList(const Ids& ids) {
  std::string out;
  for (uint32_t id : ids) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%s%x", out.empty() ? "" : ",", id);
    out += buf;
  }
  return out;
}

std::string NameOf(uint32_t id) {
  char buf[64];
  int n = capspawn_startup_handle_name(id, buf, sizeof buf);
  EXPECT_GT(n, 0) << std::hex << id;
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// A fresh fd to hand over (the spawn consumes it), and its identity.
struct Handed {
  int fd;
  uint64_t ino;
};
Handed Fresh(int fd) {
  EXPECT_GE(fd, 0);
  return Handed{fd, FdIno(fd)};
}

// Spawns with one action and expects `want`; the handle must be consumed.
void ExpectHandleRejected(uint32_t flags, uint32_t id, capspawn_status_t want) {
  SCOPED_TRACE(testing::Message() << "id 0x" << std::hex << id);
  int fd = eventfd(0, EFD_CLOEXEC);
  Spawned s = Spawn(flags, ChildPath(), {ChildPath()}, {}, {AddHandle(id, fd)});
  EXPECT_EQ(s.status, want) << capspawn_status_string(s.status) << ": " << s.err;
  EXPECT_FALSE(s.err.empty());
  EXPECT_FALSE(FdIsOpen(fd)) << "ADD_HANDLE consumes its handle even on failure";
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnActionAddHandle, PaFdLandsAtItsFd) {
  Pipe data = MakePipe();
  Handed h = Fresh(data.write.release());
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(),
                          {ChildPath(), "--write-fd", "9", "pa-fd", "--handles", "f0"}, {},
                          {AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 9), h.fd)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_FALSE(FdIsOpen(h.fd));
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 9}));
  EXPECT_EQ(run.report.fds[9].ino, h.ino);
  EXPECT_FALSE(run.report.HasEnvPrefix("LISTEN_"));
  EXPECT_EQ(run.report.handles[kUser0].fd, -1);
  EXPECT_EQ(ReadAll(data.read.get()), "pa-fd");
}

// FLAG_USE_FOR_STDIO rides in the argument; the fd is still the rest of it.
TEST(SpawnActionAddHandle, PaFdWithUseForStdioFlag) {
  Pipe data = MakePipe();
  Handed h = Fresh(data.write.release());
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
               {AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 5 | CAPSPAWN_FLAG_USE_FOR_STDIO), h.fd)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 5}));
  EXPECT_EQ(run.report.fds[5].ino, h.ino);
}

TEST(SpawnActionAddHandle, PaFdOutOfRange) {
  ExpectHandleRejected(CAPSPAWN_CLONE_ALL, CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1024),
                       CAPSPAWN_ERR_OUT_OF_RANGE);
  ExpectHandleRejected(CAPSPAWN_CLONE_ALL, CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 0x7FFF),
                       CAPSPAWN_ERR_OUT_OF_RANGE);
}

TEST(SpawnActionAddHandle, TypedHandlesLandFrom3InActionOrder) {
  Pipe pipe = MakePipe();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd peer(sv[0]);
  TempDir dir;
  Handed user0 = Fresh(pipe.write.release());
  Handed user1 = Fresh(sv[1]);
  Handed dirreq = Fresh(open(dir.path().c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  Handed life = Fresh(eventfd(0, EFD_CLOEXEC));
  Ids ids = {kUser0, kUser1_7, kDirRequest, kLifecycle};
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(),
                          {ChildPath(), "--handles", HexList(ids) + ",f2", "--write-fd", "3",
                           "via-user0", "--write-fd", "4", "via-user1"},
                          {},
                          {AddHandle(kUser0, user0.fd), AddHandle(kUser1_7, user1.fd),
                           AddHandle(kDirRequest, dirreq.fd), AddHandle(kLifecycle, life.fd)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  for (const Handed& h : {user0, user1, dirreq, life}) EXPECT_FALSE(FdIsOpen(h.fd));

  const Report& r = run.report;
  EXPECT_EQ(r.FdNumbers(), (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.fds.at(3).ino, user0.ino);
  EXPECT_EQ(r.fds.at(3).type, "fifo");
  EXPECT_EQ(r.fds.at(4).ino, user1.ino);
  EXPECT_EQ(r.fds.at(4).type, "sock");
  EXPECT_EQ(r.fds.at(5).ino, dirreq.ino);
  EXPECT_EQ(r.fds.at(5).type, "dir");
  EXPECT_EQ(r.fds.at(6).ino, life.ino);

  EXPECT_EQ(r.Getenv("LISTEN_FDS"), "4");
  EXPECT_EQ(r.Getenv("LISTEN_PID"), std::to_string(r.pid));
  EXPECT_EQ(r.Getenv("LISTEN_FDNAMES"),
            "user0.0:" + NameOf(kUser1_7) + ":directory_request.0:lifecycle.0");
  EXPECT_EQ(NameOf(kUser1_7), "user1.7");

  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    ASSERT_TRUE(r.handles.count(ids[i]));
    EXPECT_EQ(r.handles.at(ids[i]).fd, static_cast<int>(3 + i));
    EXPECT_EQ(r.handles.at(ids[i]).again, -1) << "a handle is taken once";
  }
  EXPECT_EQ(r.handles.at(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER2, 0)).fd, -1);

  // The fds work: the child wrote through them.
  EXPECT_EQ(ReadAll(pipe.read.get()), "via-user0");
  char buf[64];
  ssize_t n = read(peer.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "via-user1");
}

TEST(SpawnActionAddHandle, TypedHandlesAlongsideExplicitFds) {
  Pipe p = MakePipe();
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "f0"}, {},
               {CloneFd(p.read.get(), 10), AddHandle(kUser0, eventfd(0, EFD_CLOEXEC)),
                AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 11), eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 3, 10, 11}));
  EXPECT_EQ(run.report.Getenv("LISTEN_FDS"), "1");
  EXPECT_EQ(run.report.Getenv("LISTEN_FDNAMES"), "user0.0");
  EXPECT_EQ(run.report.handles[kUser0].fd, 3);
}

TEST(SpawnActionAddHandle, NoTypedHandleNoListenNoExtraFd) {
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDNAMES");
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(),
                          {ChildPath(), "--handles", HexList({kUser0, kDirRequest})});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(run.report.HasEnvPrefix("LISTEN_"));
  EXPECT_EQ(run.report.handles[kUser0].fd, -1);
  EXPECT_EQ(run.report.handles[kDirRequest].fd, -1);
}

// The handles' own description wins over LISTEN_* entries in an explicit env.
TEST(SpawnActionAddHandle, ExplicitListenEnvIsReplaced) {
  Strings env = {"LISTEN_FDS=9", "KEEP=1", "LISTEN_PID=1", "LISTEN_FDNAMES=bogus", "LISTEN_FDS=8"};
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "f0"}, env,
                          {AddHandle(kUser0, eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.CountEnv("LISTEN_FDS"), 1);
  EXPECT_EQ(run.report.CountEnv("LISTEN_PID"), 1);
  EXPECT_EQ(run.report.CountEnv("LISTEN_FDNAMES"), 1);
  EXPECT_EQ(run.report.Getenv("LISTEN_FDS"), "1");
  EXPECT_EQ(run.report.Getenv("LISTEN_PID"), std::to_string(run.report.pid));
  EXPECT_EQ(run.report.Getenv("LISTEN_FDNAMES"), "user0.0");
  EXPECT_EQ(run.report.Getenv("KEEP"), "1");
  EXPECT_EQ(run.report.handles[kUser0].fd, 3);
}

TEST(SpawnActionAddHandle, InheritedListenEnvIsReplaced) {
  ::setenv("LISTEN_FDS", "5", 1);
  ::setenv("LISTEN_PID", "1", 1);
  ::setenv("LISTEN_FDNAMES", "stale:stale", 1);
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "3b"}, {},
                          {AddHandle(kDirRequest, eventfd(0, EFD_CLOEXEC))});
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDNAMES");
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.CountEnv("LISTEN_FDS"), 1);
  EXPECT_EQ(run.report.CountEnv("LISTEN_PID"), 1);
  EXPECT_EQ(run.report.CountEnv("LISTEN_FDNAMES"), 1);
  EXPECT_EQ(run.report.Getenv("LISTEN_FDS"), "1");
  EXPECT_EQ(run.report.Getenv("LISTEN_PID"), std::to_string(run.report.pid));
  EXPECT_EQ(run.report.Getenv("LISTEN_FDNAMES"), "directory_request.0");
  EXPECT_EQ(run.report.handles[kDirRequest].fd, 3);
}

TEST(SpawnActionAddHandle, ExplicitFdInsideTheTypedRangeAlreadyExists) {
  for (int target : {3, 4}) {
    SCOPED_TRACE(target);
    Pipe p = MakePipe();
    int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
    Spawned s =
        Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
              {AddHandle(kUser0, a), AddHandle(kUser1_7, b), CloneFd(p.read.get(), target)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_ALREADY_EXISTS) << s.err;
    EXPECT_FALSE(FdIsOpen(a));
    EXPECT_FALSE(FdIsOpen(b));
  }
  // Just past the typed range is fine.
  Pipe p = MakePipe();
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                          {AddHandle(kUser0, eventfd(0, EFD_CLOEXEC)),
                           AddHandle(kUser1_7, eventfd(0, EFD_CLOEXEC)), CloneFd(p.read.get(), 5)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

// A closed fd number is a bad handle; -1 is SpawnErrors' invalid handle
// (spawn_errors_test.cc).
TEST(SpawnActionAddHandle, ClosedFdIsBadHandle) {
  ASSERT_FALSE(FdIsOpen(987));
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {}, {AddHandle(kUser0, 987)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_BAD_HANDLE) << s.err;
  EXPECT_NE(s.err.find("987"), std::string::npos) << s.err;
  EXPECT_FALSE(HasWaitableChild());
}

TEST(SpawnActionAddHandle, ReservedIdBitsAreInvalidArgs) {
  ExpectHandleRejected(CAPSPAWN_CLONE_ALL, kUser0 | 0x0100u, CAPSPAWN_ERR_INVALID_ARGS);
  ExpectHandleRejected(CAPSPAWN_CLONE_ALL, CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 4) | 0x8000u,
                       CAPSPAWN_ERR_INVALID_ARGS);
}

TEST(SpawnActionAddHandle, DuplicateTypedIdAlreadyExists) {
  int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()}, {},
                    {AddHandle(kUser0, a), AddHandle(kUser0, b)});
  EXPECT_EQ(s.status, CAPSPAWN_ERR_ALREADY_EXISTS) << s.err;
  EXPECT_FALSE(FdIsOpen(a));
  EXPECT_FALSE(FdIsOpen(b));
  EXPECT_FALSE(HasWaitableChild());
  // Same type, other argument: two different ids.
  ChildRun run =
      RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "f0,100f0"}, {},
               {AddHandle(kUser0, eventfd(0, EFD_CLOEXEC)),
                AddHandle(CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1), eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.Getenv("LISTEN_FDNAMES"), "user0.0:user0.1");
  EXPECT_EQ(run.report.handles[kUser0].fd, 3);
  EXPECT_EQ(run.report.handles[CAPSPAWN_PA_HND(CAPSPAWN_PA_USER0, 1)].fd, 4);
}

// Fuchsia's ProcessBuilder::add_handles refuses the handles it creates
// itself; the launcher (and so fdio_spawn) answers INVALID_ARGS.
TEST(SpawnActionAddHandle, KernelOwnedTypesAreInvalidArgs) {
  for (uint32_t type :
       {CAPSPAWN_PA_PROC_SELF, CAPSPAWN_PA_THREAD_SELF, CAPSPAWN_PA_VMAR_ROOT,
        CAPSPAWN_PA_VMAR_LOADED, CAPSPAWN_PA_VMO_STACK, CAPSPAWN_PA_VMO_EXECUTABLE}) {
    ExpectHandleRejected(CAPSPAWN_CLONE_ALL, CAPSPAWN_PA_HND(type, 0), CAPSPAWN_ERR_INVALID_ARGS);
  }
}

// Fuchsia takes a PA_VMO_VDSO handle as the process's vDSO; Linux maps its
// own into every process, so capspawn cannot honour one.
TEST(SpawnActionAddHandle, VdsoIsNotSupported) {
  ExpectHandleRejected(CAPSPAWN_CLONE_ALL, CAPSPAWN_PA_HND(CAPSPAWN_PA_VMO_VDSO, 0),
                       CAPSPAWN_ERR_NOT_SUPPORTED);
}

// fdio: "cannot clone global UTC clock and send explicit clock" when the id
// is PA_CLOCK_UTC (0x40) and the flag is set.
TEST(SpawnActionAddHandle, ClockUtcWithCloneUtcClockIsInvalidArgs) {
  const uint32_t clock = CAPSPAWN_PA_HND(CAPSPAWN_PA_CLOCK_UTC, 0);
  ASSERT_EQ(clock, 0x40u);
  ExpectHandleRejected(CAPSPAWN_CLONE_ALL, clock, CAPSPAWN_ERR_INVALID_ARGS);
  ExpectHandleRejected(CAPSPAWN_CLONE_NAMESPACE | CAPSPAWN_CLONE_UTC_CLOCK, clock,
                       CAPSPAWN_ERR_INVALID_ARGS);
  // Without the flag it is an ordinary typed handle.
  ChildRun run = RunChild(kNsStdio, ChildPath(), {ChildPath(), "--handles", "40"}, {},
                          {AddHandle(clock, eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.handles[clock].fd, 3);
  EXPECT_EQ(run.report.Getenv("LISTEN_FDNAMES"), "clock_utc.0");
  // fdio compares the whole id: another argument passes with the flag.
  const uint32_t clock1 = CAPSPAWN_PA_HND(CAPSPAWN_PA_CLOCK_UTC, 1);
  run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "10040"}, {},
                 {AddHandle(clock1, eventfd(0, EFD_CLOEXEC))});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.handles[clock1].fd, 3);
}

// Fuchsia's add_handles: "Cannot add NamespaceDirectory handles directly,
// use add_namespace_entries" (INVALID_ARGS), through the launcher as well.
TEST(SpawnActionAddHandle, NamespaceDirHandleIsInvalidArgs) {
  ExpectHandleRejected(CAPSPAWN_CLONE_ALL, CAPSPAWN_PA_HND(CAPSPAWN_PA_NS_DIR, 0),
                       CAPSPAWN_ERR_INVALID_ARGS);
}

// Every type processargs.h defines that a creator may hand over reaches the
// child, under its LISTEN_FDNAMES name, in one spawn.
TEST(SpawnActionAddHandle, EveryFuchsiaTypeIsHandedOver) {
  const uint32_t types[] = {CAPSPAWN_PA_JOB_DEFAULT,
                            CAPSPAWN_PA_VMO_BOOTDATA,
                            CAPSPAWN_PA_VMO_BOOTFS,
                            CAPSPAWN_PA_VMO_KERNEL_FILE,
                            CAPSPAWN_PA_VMO_COMPONENT_CONFIG,
                            CAPSPAWN_PA_LIFECYCLE,
                            CAPSPAWN_PA_DIRECTORY_REQUEST,
                            CAPSPAWN_PA_RESOURCE,
                            CAPSPAWN_PA_CLOCK_UTC,
                            CAPSPAWN_PA_MMIO_RESOURCE,
                            CAPSPAWN_PA_IRQ_RESOURCE,
                            CAPSPAWN_PA_IOPORT_RESOURCE,
                            CAPSPAWN_PA_SMC_RESOURCE,
                            CAPSPAWN_PA_SYSTEM_RESOURCE,
                            CAPSPAWN_PA_USER0,
                            CAPSPAWN_PA_USER1,
                            CAPSPAWN_PA_USER2};
  Ids ids;
  std::vector<capspawn_action_t> actions;
  std::string names;
  for (uint32_t type : types) {
    ids.push_back(CAPSPAWN_PA_HND(type, 0));
    actions.push_back(AddHandle(ids.back(), eventfd(0, EFD_CLOEXEC)));
    names += (names.empty() ? "" : ":") + NameOf(ids.back());
  }
  // No CLONE_UTC_CLOCK: an explicit PA_CLOCK_UTC is allowed.
  ChildRun run =
      RunChild(kNsStdio, ChildPath(), {ChildPath(), "--handles", HexList(ids)}, {}, actions);
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_EQ(run.report.Getenv("LISTEN_FDNAMES"), names);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(run.report.handles[ids[i]].fd, 3 + static_cast<int>(i)) << NameOf(ids[i]);
  }
}

// Fuchsia's launcher turns each id into a HandleInfo, which fails for a type
// processargs.h does not define: INVALID_ARGS, in-process as through the
// launcher. 0x3C was capspawn's PA_CLOCK_UTC before it took Fuchsia's 0x40.
TEST(SpawnActionAddHandle, UnknownTypeIsInvalidArgs) {
  for (uint32_t type : {0x3Cu, 0x3Du, 0x3Eu, 0x12u, 0xE0u, 0xFFu}) {
    ExpectHandleRejected(CAPSPAWN_CLONE_ALL, CAPSPAWN_PA_HND(type, 3), CAPSPAWN_ERR_INVALID_ARGS);
  }
}

// A loader is a library directory used to build the namespace, not a
// startup handle: the child gets no fd and no LISTEN_* for it.
TEST(SpawnActionAddHandle, LoaderIsNotHandedAsAnFd) {
  const uint32_t loader = CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0);
  int dir = open("/lib64", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--handles", "10"}, {},
                          {AddHandle(loader, dir)});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete);
  EXPECT_FALSE(FdIsOpen(dir));
  EXPECT_EQ(run.report.FdNumbers(), (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(run.report.HasEnvPrefix("LISTEN_"));
  EXPECT_EQ(run.report.handles[loader].fd, -1);
}

// The directory the system's dynamic linker lives in (with the libraries):
// a loader that works for spawn_child_dyn.
std::string SystemLoaderDir() {
  char real[PATH_MAX];
  const char* interp = "/lib64/ld-linux-x86-64.so.2";
#if defined(__aarch64__)
  interp = "/lib/ld-linux-aarch64.so.1";
#endif
  if (!realpath(interp, real)) return "/lib";
  std::string r = real;
  return r.substr(0, r.rfind('/'));
}

// As Fuchsia's launcher (add_handles passes each loader to
// set_loader_service, which replaces the previous): the last PA_LDSVC_LOADER
// wins, whatever came before it.
TEST(SpawnActionAddHandle, LaterLoaderReplacesEarlier) {
  const uint32_t loader = CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0);
  TempDir empty;
  auto open_dir = [](const std::string& path) {
    return open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  };
  {
    int a = open_dir(empty.path()), b = open_dir(SystemLoaderDir());
    Spawned s = Spawn(CAPSPAWN_CLONE_STDIO, DynChildPath(), {DynChildPath(), "--exit", "7"}, {},
                      {AddHandle(loader, a), AddHandle(loader, b)});
    ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
    EXPECT_EQ(Wait(s.process.get()), 7);
    EXPECT_FALSE(FdIsOpen(a));
    EXPECT_FALSE(FdIsOpen(b));
  }
  {
    // The other order: the empty directory wins, and has no dynamic linker.
    int a = open_dir(SystemLoaderDir()), b = open_dir(empty.path());
    Spawned s = Spawn(CAPSPAWN_CLONE_STDIO, DynChildPath(), {DynChildPath(), "--exit", "7"}, {},
                      {AddHandle(loader, a), AddHandle(loader, b)});
    EXPECT_EQ(s.status, CAPSPAWN_ERR_INTERNAL) << s.err;
    EXPECT_NE(s.err.find("ld-linux"), std::string::npos) << s.err;
    EXPECT_FALSE(FdIsOpen(a));
    EXPECT_FALSE(FdIsOpen(b));
    EXPECT_FALSE(HasWaitableChild());
  }
}

// An explicit job is handed to the child as PA_JOB_DEFAULT (a dup: the caller
// keeps its job). The job is the caller's own cgroup: anyone may use it.
TEST(SpawnActionAddHandle, CloneJobWithExplicitJob) {
  std::string mount;
  {
    std::string info = ReadFileBytes("/proc/self/mountinfo");
    size_t at = info.find(" - cgroup2 ");
    if (at == std::string::npos) GTEST_SKIP() << "no cgroup2 mount";
    size_t bol = info.rfind('\n', at);
    std::string line = info.substr(bol == std::string::npos ? 0 : bol + 1, at - bol);
    // Fields: id parent major:minor root mountpoint ...
    std::vector<std::string> f;
    size_t pos = 0;
    for (int i = 0; i < 5; ++i) {
      size_t sp = line.find(' ', pos);
      f.push_back(line.substr(pos, sp - pos));
      pos = sp + 1;
    }
    mount = f[4];
  }
  std::string cg = ReadFileBytes("/proc/self/cgroup");
  size_t at = cg.find("0::");
  ASSERT_NE(at, std::string::npos);
  std::string rel = cg.substr(at + 3, cg.find('\n', at) - at - 3);
  UniqueFd job(open((mount + rel).c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(job) << mount + rel;
  ChildRun run;
  {
    Pipe p = MakePipe();
    std::vector<capspawn_action_t> actions = {TransferFd(p.write.release(), 1)};
    Spawned s = Spawn(CAPSPAWN_CLONE_JOB | kNsStdio, ChildPath(), {ChildPath(), "--handles", "3"},
                      {}, actions, job.get());
    ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
    run.report = ParseReport(ReadAll(p.read.get()));
    EXPECT_EQ(Wait(s.process.get()), 0);
  }
  EXPECT_TRUE(FdIsOpen(job.get())) << "spawn does not take the job";
  const uint32_t job_id = CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0);
  EXPECT_EQ(run.report.handles[job_id].fd, 3);
  EXPECT_EQ(run.report.Getenv("LISTEN_FDNAMES"), "job_default.0");
  EXPECT_EQ(run.report.fds[3].ino, FdIno(job.get()));
}

}  // namespace
}  // namespace capspawn_test
