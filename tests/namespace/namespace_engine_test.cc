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

namespace {

using capspawn::UniqueFd;
namespace ns = capspawn::ns;
namespace elf = capspawn::elf;

constexpr const char* kProbe = CAPSPAWN_TEST_NS_PROBE;

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/capspawn-ns-XXXXXX";
    path_ = mkdtemp(t) ? t : "";
  }
  ~TempDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string& path() const { return path_; }
  std::string Path(const std::string& n) const { return path_ + "/" + n; }
  void MakeDir(const std::string& rel) const {
    std::system(("mkdir -p '" + Path(rel) + "'").c_str());
  }
  void Touch(const std::string& rel) const { std::ofstream(Path(rel)) << "x"; }

 private:
  std::string path_;
};

UniqueFd OpenDir(const std::string& p) {
  return UniqueFd(open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

struct Outcome {
  int status = -1000;  // exit status, or -1000 when the launch failed
  std::string error;   // the plan's or launch's error message
  capspawn_status_t code = CAPSPAWN_OK;
  std::string out;  // the child's stdout
};

// Plans `req` for `program`, launches it through the engine and waits.
Outcome RunIn(ns::Request req, const std::string& program, std::vector<std::string> args) {
  Outcome o;
  UniqueFd exe(open(program.c_str(), O_RDONLY | O_CLOEXEC));
  if (!exe) {
    o.error = "open " + program;
    return o;
  }
  capspawn::Result<elf::ElfHeaders> headers = elf::ParseHeaders(exe.get());
  if (headers.ok()) req.headers = &headers.value();
  capspawn::Result<std::unique_ptr<ns::Plan>> plan = ns::PlanNamespace(req);
  if (!plan.ok()) {
    o.code = plan.status();
    o.error = plan.error().message();
    return o;
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return o;
  UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  std::vector<char*> argv;
  args.insert(args.begin(), program);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  capspawn::engine::LaunchPlan lp;
  lp.exec_fd = exe.get();
  lp.argv = argv.data();
  lp.envp = envp;
  lp.fds = {{wr.get(), 1}, {2, 2}};
  if (plan.value()) ns::Apply(*plan.value(), &lp);
  capspawn::Result<capspawn::Process> p = capspawn::engine::Launch(lp);
  wr.reset();
  if (!p.ok()) {
    o.code = p.status();
    o.error = p.error().message();
    return o;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(rd.get(), buf, sizeof buf)) > 0) o.out.append(buf, static_cast<size_t>(n));
  capspawn::Result<int64_t> st = p->Wait();
  o.status = st.ok() ? static_cast<int>(st.value()) : -2000;
  return o;
}

bool ProbeIsStatic() { return CAPSPAWN_TEST_NS_PROBE_STATIC != 0; }

// A request for the probe: a dynamic (sanitizer) build gets the system loader.
ns::Request ProbeRequest() {
  ns::Request r;
  r.default_ldsvc = !ProbeIsStatic();
  return r;
}

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

  ns::Request missing = r;
  missing.entries = {{t.Path("absent/deep"), fd.get(), false, 4}};
  capspawn::Result<std::unique_ptr<ns::Plan>> p = ns::PlanNamespace(missing);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message().find("(action 4)"), std::string::npos) << p.error().message();
  EXPECT_NE(stat(t.Path("absent").c_str(), &st), 0) << "nothing is created in the caller's tree";
}

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int CountFds() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd) n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

TEST(NamespaceTest, NothingOutlivesThousandsOfSpawns) {
  TempDir d;
  UniqueFd fd = OpenDir(d.path());
  ns::Request r = ProbeRequest();
  r.entries.push_back({"/a", fd.get(), true, 0});
  r.entries.push_back({"/b/c", fd.get(), false, 1});
  const std::string mounts = ReadFile("/proc/self/mountinfo");
  const int fds = CountFds();
  for (int i = 0; i < 1200; ++i) {
    Outcome o = RunIn(r, kProbe, {"e:/a", "a:/proc"});
    ASSERT_EQ(o.status, 0) << "spawn " << i << ": " << o.error;
  }
  EXPECT_EQ(CountFds(), fds);
  EXPECT_EQ(ReadFile("/proc/self/mountinfo"), mounts);
}

}  // namespace
