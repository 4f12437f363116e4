// SPDX-License-Identifier: Apache-2.0
// JOIN_NAMESPACE: a child entering the namespaces of a running process (a
// target spawned here with namespaces of its own) sees what that process
// sees; bad fds and impossible combinations are refused naming the action;
// nothing is left behind, and the calling thread's pid_for_children is
// restored. Joining needs CAP_SYS_ADMIN: as nobody it is a clean
// ACCESS_DENIED naming setns.
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <iterator>
#include <thread>

#include <capspawn/process_builder.h>

#include "ct_util.h"

namespace {

using namespace ct;  // NOLINT

// A process that sleeps in namespaces of its own, killed and reaped at the end.
class Target {
 public:
  explicit Target(std::vector<capspawn_action_t> actions) {
    const char* argv[] = {"busybox", "sleep", "60", nullptr};
    const char* envp[] = {nullptr};
    char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    code_ = capspawn_spawn_etc(-1, kAll, "/bin/busybox", argv, envp, actions.size(), actions.data(),
                               &process_, msg);
    error_ = msg;
    if (code_ != CAPSPAWN_OK) return;
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(process_));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Pid:", 0) == 0) pid_ = std::stoi(line.substr(4));
    }
  }
  ~Target() {
    if (process_ < 0) return;
    capspawn_process_kill(process_);
    int64_t rc;
    capspawn_process_wait(process_, -1, &rc);
    close(process_);
  }
  bool ok() const { return code_ == CAPSPAWN_OK && pid_ > 0; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }
  int Ns(const char* kind) const {
    return open(("/proc/" + std::to_string(pid_) + "/ns/" + kind).c_str(), O_RDONLY | O_CLOEXEC);
  }
  std::string Inode(const char* kind) const {
    struct stat st;
    std::string p = "/proc/" + std::to_string(pid_) + "/ns/" + kind;
    return stat(p.c_str(), &st) == 0 ? std::to_string(st.st_ino) : "?";
  }

 private:
  capspawn_status_t code_ = CAPSPAWN_ERR_INTERNAL;
  std::string error_;
  int process_ = -1;
  pid_t pid_ = -1;
};

// Our children (the targets are some): a spawn must leave none behind.
int Children() {
  int n = 0;
  std::ifstream in("/proc/self/task/" + std::to_string(gettid()) + "/children");
  std::string pid;
  while (in >> pid) ++n;
  return n;
}

capspawn_action_t Join(uint32_t type, int fd) {
  capspawn_action_t a = Act(CAPSPAWN_ACTION_JOIN_NAMESPACE);
  a.join.type = type;
  a.join.fd = fd;
  return a;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string PidForChildren() {
  char buf[64] = "";
  ssize_t n = readlink("/proc/thread-self/ns/pid_for_children", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
}

Report Busybox(std::vector<capspawn_action_t> actions, const std::string& script,
               uint32_t flags = kAll) {
  return Spawn(flags, std::move(actions), {"sh", "-c", script}, "/bin/busybox");
}

#define REQUIRE_ROOT() \
  if (!AsRoot()) GTEST_SKIP() << "joining a namespace needs CAP_SYS_ADMIN (see NobodyIsDenied)"

TEST(ContainerJoin, NetSeesTheTargetsInterfaces) {
  REQUIRE_ROOT();
  Target t({NewNs(CAPSPAWN_NEW_NS_NET)});
  ASSERT_TRUE(t.ok()) << t.error();
  const int fds = CountFds();
  int ns = t.Ns("net");
  ASSERT_GE(ns, 0);
  Report r = Busybox({Join(CLONE_NEWNET, ns)},
                     "stat -L -c %i /proc/self/ns/net; tail -n +3 /proc/self/net/dev | "
                     "cut -d: -f1 | tr -d ' '");
  close(ns);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  // The target's namespace has only its loopback.
  EXPECT_EQ(r.out, t.Inode("net") + "\nlo\n");
  EXPECT_EQ(CountFds(), fds);
}

TEST(ContainerJoin, UtsSeesTheTargetsHostname) {
  REQUIRE_ROOT();
  capspawn_action_t h = Act(CAPSPAWN_ACTION_SET_HOSTNAME);
  h.name.data = "joined-uts";
  Target t({h});
  ASSERT_TRUE(t.ok()) << t.error();
  int ns = t.Ns("uts");
  Report r = Busybox({Join(CLONE_NEWUTS, ns)}, "hostname");
  close(ns);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(Trim(r.out), "joined-uts");
}

TEST(ContainerJoin, IpcAndCgroupAreTheTargets) {
  REQUIRE_ROOT();
  Target t({NewNs(CAPSPAWN_NEW_NS_IPC | CAPSPAWN_NEW_NS_CGROUP)});
  ASSERT_TRUE(t.ok()) << t.error();
  int ipc = t.Ns("ipc"), cg = t.Ns("cgroup");
  Report r = Busybox({Join(CLONE_NEWIPC, ipc), Join(CLONE_NEWCGROUP, cg)},
                     "stat -L -c %i /proc/self/ns/ipc /proc/self/ns/cgroup");
  close(ipc);
  close(cg);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.out, t.Inode("ipc") + "\n" + t.Inode("cgroup") + "\n");
}

TEST(ContainerJoin, MntSeesTheTargetsFilesFromItsRoot) {
  REQUIRE_ROOT();
  Rootfs root;
  root.Write("marker", "inside the target\n");
  Target t({Root(OpenDir(root.path()))});
  ASSERT_TRUE(t.ok()) << t.error();
  int ns = t.Ns("mnt");
  // The program is the caller's busybox, opened here; it runs in the
  // target's tree, from its root.
  Report r = Busybox({Join(CLONE_NEWNS, ns)}, "pwd; /bin/busybox cat /marker; ls /bin");
  close(ns);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "/\ninside the target\nbusybox\n");
}

TEST(ContainerJoin, MntWithAWorkingDirectory) {
  REQUIRE_ROOT();
  Rootfs root;
  root.MakeDir("work");
  Target t({Root(OpenDir(root.path()))});
  ASSERT_TRUE(t.ok()) << t.error();
  int ns = t.Ns("mnt");
  Report r = Busybox({Join(CLONE_NEWNS, ns), PathAct(CAPSPAWN_ACTION_SET_CWD, "/work")}, "pwd");
  close(ns);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.out, "/work\n");
}

TEST(ContainerJoin, MntADynamicProgramsMissingInterpreterIsNamed) {
  REQUIRE_ROOT();
  Rootfs root;  // busybox only: no dynamic linker
  Target t({Root(OpenDir(root.path()))});
  ASSERT_TRUE(t.ok()) << t.error();
  int ns = t.Ns("mnt");
  const int fds = CountFds(), children = Children();
  Report r = Spawn(kAll, {Join(CLONE_NEWNS, ns)}, {"-c", "true"}, "/usr/bin/python3");
  close(ns);
  // fdio's statuses: a file the launch misses is INTERNAL.
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INTERNAL) << r.error;
  EXPECT_NE(r.error.find("the program's interpreter /lib64/ld-linux-x86-64.so.2 is not in the "
                         "child's filesystem"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(CountFds(), fds - 1);
  EXPECT_EQ(Children(), children);
}

std::vector<std::string> NsPid(const std::string& status) {
  std::vector<std::string> out;
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream f(line.substr(6));
    std::string v;
    while (f >> v) out.push_back(v);
  }
  return out;
}

TEST(ContainerJoin, PidTheChildIsInThatNamespace) {
  REQUIRE_ROOT();
  Target t({NewNs(CAPSPAWN_NEW_NS_PID)});
  ASSERT_TRUE(t.ok()) << t.error();
  const std::string before = PidForChildren();
  const int fds = CountFds(), children = Children();
  int ns = t.Ns("pid");
  Report r = Busybox({Join(CLONE_NEWPID, ns)},
                     "stat -L -c %i /proc/self/ns/pid; grep NSpid /proc/self/status");
  close(ns);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  std::vector<std::string> nspid = NsPid(r.out);
  ASSERT_EQ(nspid.size(), 2u) << r.out << ": one pid here, one in the target's namespace";
  EXPECT_NE(nspid[1], "1") << "the target is pid 1 there";
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), t.Inode("pid"));
  EXPECT_EQ(PidForChildren(), before) << "the calling thread's pid_for_children is restored";
  EXPECT_EQ(CountFds(), fds);
  EXPECT_EQ(Children(), children);
}

TEST(ContainerJoin, PidRestoredWhenTheChildFails) {
  REQUIRE_ROOT();
  Target t({NewNs(CAPSPAWN_NEW_NS_PID)});
  ASSERT_TRUE(t.ok()) << t.error();
  const std::string before = PidForChildren();
  const int fds = CountFds(), children = Children();
  int ns = t.Ns("pid");
  Report r =
      Busybox({Join(CLONE_NEWPID, ns), PathAct(CAPSPAWN_ACTION_SET_CWD, "/no/such/dir")}, "true");
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INTERNAL) << r.error;  // fdio's status for a missing file
  EXPECT_NE(r.error.find("set working directory (action 1): chdir"), std::string::npos) << r.error;
  EXPECT_EQ(PidForChildren(), before);
  EXPECT_EQ(CountFds(), fds);
  EXPECT_EQ(Children(), children);
}

// The pid join moves only the spawning thread's pid_for_children: another
// thread spawning at the same time gets children in its own namespace.
TEST(ContainerJoin, PidJoinIsTheSpawningThreadsAlone) {
  REQUIRE_ROOT();
  Target t({NewNs(CAPSPAWN_NEW_NS_PID)});
  ASSERT_TRUE(t.ok()) << t.error();
  const std::string script = "grep NSpid /proc/self/status";
  std::vector<size_t> joined_levels, plain_levels;
  std::thread joiner([&] {
    for (int i = 0; i < 20; ++i) {
      int ns = t.Ns("pid");
      Report r = Busybox({Join(CLONE_NEWPID, ns)}, script);
      close(ns);
      joined_levels.push_back(r.code == CAPSPAWN_OK ? NsPid(r.out).size() : 0);
    }
  });
  std::thread plain([&] {
    for (int i = 0; i < 20; ++i) {
      Report r = Busybox({}, script);
      plain_levels.push_back(r.code == CAPSPAWN_OK ? NsPid(r.out).size() : 0);
    }
  });
  joiner.join();
  plain.join();
  std::ifstream in("/proc/self/status");
  const size_t own = NsPid(std::string(std::istreambuf_iterator<char>(in), {})).size();
  ASSERT_GE(own, 1u);
  for (size_t n : joined_levels) EXPECT_EQ(n, own + 1);
  for (size_t n : plain_levels) EXPECT_EQ(n, own);
}

TEST(ContainerJoin, ThroughProcessBuilder) {
  REQUIRE_ROOT();
  capspawn_action_t h = Act(CAPSPAWN_ACTION_SET_HOSTNAME);
  h.name.data = "built-join";
  Target t({h});
  ASSERT_TRUE(t.ok()) << t.error();
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  capspawn::ProcessBuilder b("join", -1,
                             capspawn::UniqueFd(open("/bin/busybox", O_RDONLY | O_CLOEXEC)));
  b.add_arguments({"busybox", "hostname"});
  std::vector<capspawn::StartupHandle> handles;
  handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1), capspawn::UniqueFd(out[1])});
  ASSERT_TRUE(b.add_handles(std::move(handles)).ok());
  // The builder's process has no namespace entries: an empty root. The
  // busybox is static, and the hostname needs no file.
  b.join_namespace(CLONE_NEWUTS, capspawn::UniqueFd(t.Ns("uts")));
  capspawn::Result<capspawn::BuiltProcess> built = b.build();
  ASSERT_TRUE(built.ok()) << built.error().message();
  ASSERT_TRUE(built->start().ok());
  std::string text = Drain(out[0]);
  close(out[0]);
  capspawn::Result<int64_t> rc = built->process.Wait();
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc.value(), 0);
  EXPECT_EQ(Trim(text), "built-join");
}

// Errors: each refused before any process exists, naming the action.
struct Refused {
  capspawn_status_t code;
  std::string error;
};
// `consumed`: fds the actions consume (a root directory entry's).
Refused Try(std::vector<capspawn_action_t> actions, int consumed = 0) {
  const int fds = CountFds(), children = Children();
  Report r = Busybox(std::move(actions), "true");
  EXPECT_EQ(CountFds(), fds - consumed);
  EXPECT_EQ(Children(), children);
  return {r.code, r.error};
}

TEST(ContainerJoin, NotANamespaceFd) {
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  Refused r = Try({Join(CLONE_NEWNET, null)});
  close(null);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("action 0 (JOIN_NAMESPACE): join.fd"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("is not a namespace (ioctl(NS_GET_NSTYPE)"), std::string::npos) << r.error;
}

TEST(ContainerJoin, NotAnOpenFd) {
  Refused r = Try({Join(CLONE_NEWNET, 987)});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_BAD_HANDLE);
  EXPECT_NE(r.error.find("action 0 (JOIN_NAMESPACE): join.fd 987 is not an open fd"),
            std::string::npos)
      << r.error;
}

TEST(ContainerJoin, WrongType) {
  int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  Refused r = Try({Join(CLONE_NEWUTS, ns)});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("is a net namespace, not the uts namespace join.type says"),
            std::string::npos)
      << r.error;
}

TEST(ContainerJoin, UnknownType) {
  int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  Refused r = Try({Join(0x1234, ns)});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("join.type 0x1234 is not"), std::string::npos) << r.error;
}

TEST(ContainerJoin, JoinAndNewOfTheSameKind) {
  int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  Refused r = Try({NewNs(CAPSPAWN_NEW_NS_NET), Join(CLONE_NEWNET, ns)});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("action 1 (JOIN_NAMESPACE): joins a net namespace, and NEW_NAMESPACES "
                         "asks for a new one"),
            std::string::npos)
      << r.error;
  close(ns);
  ns = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  capspawn_action_t h = Act(CAPSPAWN_ACTION_SET_HOSTNAME);
  h.name.data = "x";
  r = Try({Join(CLONE_NEWUTS, ns), h});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("SET_HOSTNAME (action 1) asks for a new one"), std::string::npos)
      << r.error;
}

TEST(ContainerJoin, TwoOfOneKind) {
  int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  Refused r = Try({Join(CLONE_NEWNET, ns), Join(CLONE_NEWNET, ns)});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("action 1 (JOIN_NAMESPACE): a second net namespace (action 0 joins one)"),
            std::string::npos)
      << r.error;
}

TEST(ContainerJoin, MntWithAPrivateNamespace) {
  Rootfs root;
  int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  int dir = OpenDir(root.path());
  Refused r = Try({Join(CLONE_NEWNS, ns), Root(dir)}, 1);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("action 0 (JOIN_NAMESPACE): joins a mount namespace, and action 1"),
            std::string::npos)
      << r.error;
  capspawn_mount_t tmp{CAPSPAWN_MOUNT_TMPFS, 0, "/tmp", -1, nullptr};
  r = Try({Join(CLONE_NEWNS, ns), Mount(&tmp)});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("and action 1 asks for a mount"), std::string::npos) << r.error;
}

TEST(ContainerJoin, WithANewUserNamespace) {
  int ns = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  Refused r = Try({Join(CLONE_NEWUTS, ns), NewNs(CAPSPAWN_NEW_NS_USER)});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_NE(r.error.find("a new user namespace is asked for too"), std::string::npos) << r.error;
}

TEST(ContainerJoin, AnotherUserNamespaceIsNotSupported) {
  Target t({NewNs(CAPSPAWN_NEW_NS_USER)});
  ASSERT_TRUE(t.ok()) << t.error();
  int ns = t.Ns("user");
  Refused r = Try({Join(CLONE_NEWUSER, ns)});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_NOT_SUPPORTED);
  EXPECT_NE(r.error.find("action 0 (JOIN_NAMESPACE): joining another user namespace"),
            std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("shares the caller's memory"), std::string::npos) << r.error;
}

TEST(ContainerJoin, TheCallersOwnUserNamespaceIsANoOp) {
  int ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  Report r = Busybox({Join(CLONE_NEWUSER, ns)}, "stat -L -c %i /proc/self/ns/user");
  close(ns);
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  struct stat st;
  ASSERT_EQ(stat("/proc/self/ns/user", &st), 0);
  EXPECT_EQ(Trim(r.out), std::to_string(st.st_ino));
}

TEST(ContainerJoin, NobodyIsDenied) {
  if (AsRoot()) GTEST_SKIP() << "as root the joins succeed (the tests above)";
  for (const auto& [type, kind] : std::vector<std::pair<uint32_t, const char*>>{
           {CLONE_NEWNET, "net"}, {CLONE_NEWUTS, "uts"}, {CLONE_NEWNS, "mnt"}}) {
    int ns = open((std::string("/proc/self/ns/") + kind).c_str(), O_RDONLY | O_CLOEXEC);
    Refused r = Try({Join(type, ns)});
    close(ns);
    EXPECT_EQ(r.code, CAPSPAWN_ERR_ACCESS_DENIED) << kind << ": " << r.error;
    EXPECT_NE(r.error.find(std::string("join ") + kind + " namespace (action 0): setns"),
              std::string::npos)
        << r.error;
  }
  const std::string before = PidForChildren();
  int ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  Refused r = Try({Join(CLONE_NEWPID, ns)});
  close(ns);
  EXPECT_EQ(r.code, CAPSPAWN_ERR_ACCESS_DENIED) << r.error;
  EXPECT_NE(r.error.find("join pid namespace (action 0): setns"), std::string::npos) << r.error;
  EXPECT_EQ(PidForChildren(), before);
}

}  // namespace
