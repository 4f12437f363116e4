// SPDX-License-Identifier: Apache-2.0
// Attacks on a root capspawn-launcherd from a local user (nobody): each asks
// the daemon for something nobody could not get itself. Each must fail the
// way the same request fails in-process. docs/SECURITY.md lists them.
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <capspawn/job.h>
#include <capspawn/launcher.h>
#include <capspawn/start.h>

#include "attack_util.h"
#include "daemon_fixture.h"
#include "job/cgroup_fs.h"
#include "job/job_tree.h"
#include "protocol/messages.h"

namespace capspawn_test {
namespace {

using capspawn::LauncherClient;
using capspawn::LaunchHandleInfo;
using capspawn::LaunchInfo;
using capspawn::LaunchNameInfo;
using capspawn::Process;
using capspawn::Result;

// Attack tests run only with a root daemon: as nobody, the daemon has no
// privilege to abuse.
class AttackTest : public LauncherTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the attacks are on a root daemon";
    LauncherTest::SetUp();
  }
  void TearDown() override {
    if (geteuid() == 0) LauncherTest::TearDown();
  }
};

// As nobody: connects and runs `launch` on the connection; its result is the
// exit code.
int AsNobodyClient(const std::string& socket, const std::function<int(LauncherClient&)>& launch) {
  return RunAsNobody([&] {
    Result<LauncherClient> c = LauncherClient::Connect(socket);
    if (!c.ok()) {
      std::fprintf(stderr, "connect: %s\n", c.error().message().c_str());
      return 200;
    }
    return launch(*c);
  });
}

UniqueFd OpenPath(const std::string& path, int flags = O_RDONLY) {
  return UniqueFd(open(path.c_str(), flags | O_CLOEXEC));
}

// --- 1. set-user-ID programs in a namespace the client chose -----------------

// `su` against a copy of /etc whose PAM configuration lets anyone in: run by
// nobody with that copy as /etc, it must not make nobody root.
TEST_F(AttackTest, SuWithAClientChosenEtcDoesNotRunAsRoot) {
  struct stat su;
  if (stat("/bin/su", &su) != 0 || !(su.st_mode & S_ISUID) || su.st_uid != 0) {
    GTEST_SKIP() << "no set-user-ID root /bin/su";
  }
  VarTmpDir dir("cs-etc-");
  const std::string etc = dir.Path("etc");
  ASSERT_EQ(
      std::system(
          ("cp -a /etc '" + etc + "' && rm -f '" + etc + "/shadow' '" + etc + "/gshadow'").c_str()),
      0);
  {
    FILE* f = std::fopen((etc + "/pam.d/su").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "auth sufficient pam_permit.so\naccount sufficient pam_permit.so\n"
        "session optional pam_permit.so\n",
        f);
    std::fclose(f);
  }
  ASSERT_EQ(std::system(("chown -R 65534:65534 '" + dir.path() + "'").c_str()), 0);
  CommandResult r = RunCommandAsNobody({CAPSPAWN_TEST_CLI, "run", "--launcher", daemon_.socket(),
                                        "--ns", "/etc=" + etc, "--", "/bin/sh", "-c",
                                        "su -c 'id -u' root 2>&1; echo done"});
  ASSERT_FALSE(r.timed_out) << r.output;
  EXPECT_NE(r.output.find("done"), std::string::npos) << r.output << daemon_.Log();
  // `id -u` as root prints a lone 0.
  EXPECT_EQ(("\n" + r.output).find("\n0\n"), std::string::npos) << "su ran the command as root:\n"
                                                                << r.output;
}

// A set-user-ID root program of the test's own, run by a shell from a
// directory the client mounted into its namespace (over its own
// filesystem): it must not run with euid 0 there. The control: run from the
// client's own filesystem it does, as it would for nobody itself, so the
// probe can tell.
TEST_F(AttackTest, SetuidProgramGainsNothingInAClientChosenNamespace) {
  VarTmpDir dir("cs-suid-");
  const std::string probe = dir.Path("ids_probe");
  ASSERT_TRUE(CopyFileTo(CAPSPAWN_TEST_IDS_PROBE, probe, 0755));
  ASSERT_EQ(chown(probe.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(probe.c_str(), 04755), 0);
  auto run = [&](bool client_mount) {
    return AsNobodyClient(daemon_.socket(), [&](LauncherClient& c) {
      const std::string at = client_mount ? "/data/ids_probe" : probe;
      if (!c.AddArgs({"sh", "-c", at + "; exit $?"}).ok()) return 201;
      std::vector<LaunchNameInfo> names;
      names.push_back({"/", OpenPath("/", O_PATH | O_DIRECTORY)});
      if (client_mount) names.push_back({"/data", OpenPath(dir.path(), O_PATH | O_DIRECTORY)});
      if (!c.AddNames(std::move(names)).ok()) return 202;
      LaunchInfo info;
      info.executable = OpenPath("/bin/sh");
      Result<Process> p = c.Launch(std::move(info));
      if (!p.ok()) {
        std::fprintf(stderr, "launch: %s\n", p.error().message().c_str());
        return 203;
      }
      Result<int64_t> rc = p->Wait();
      return rc.ok() ? static_cast<int>(*rc) : 204;
    });
  };
  EXPECT_EQ(run(false), 42) << "control: the set-user-ID bit works in nobody's own filesystem";
  EXPECT_EQ(run(true), 7) << "42: the probe ran as root in the client's namespace\n"
                          << daemon_.Log();
}

// --- 2. paths resolved with root's rights ------------------------------------

// Rewrites the PT_INTERP string of an ELF file in place; false if it has none
// or the new one does not fit.
bool SetInterpreter(const std::string& file, const std::string& interp) {
  std::string bytes = ReadFileBytes(file);
  if (bytes.size() < sizeof(Elf64_Ehdr)) return false;
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    const size_t at = eh.e_phoff + i * eh.e_phentsize;
    if (at + sizeof ph > bytes.size()) return false;
    std::memcpy(&ph, bytes.data() + at, sizeof ph);
    if (ph.p_type != PT_INTERP) continue;
    if (interp.size() + 1 != ph.p_filesz) return false;
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CLOEXEC));
    std::string padded = interp;
    padded.resize(ph.p_filesz, '\0');
    return fd && pwrite(fd.get(), padded.data(), padded.size(), static_cast<off_t>(ph.p_offset)) ==
                     static_cast<ssize_t>(padded.size());
  }
  return false;
}

// The client's program names, as its interpreter, a path through its own
// symlink into a directory behind one it cannot traverse. With DEFAULT_LDSVC
// the interpreter's directory is bound into the child: it must not be, since
// nobody cannot reach it (in-process the same request finds no interpreter).
// The control: with the outer directory traversable, the same launch reads
// the file, as nobody could itself.
TEST_F(AttackTest, ASymlinkedInterpreterDoesNotBindAnUnreachableDirectory) {
  const char* kCat = "/bin/cat";
  const char* kSystemInterp = "/lib64/ld-linux-x86-64.so.2";
  char real_ld[PATH_MAX];
  if (!realpath(kSystemInterp, real_ld)) GTEST_SKIP() << "no " << kSystemInterp;
  VarTmpDir secret_dir("cs-secret-");
  const std::string sub = secret_dir.Path("sub");
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  {
    FILE* f = std::fopen((sub + "/secret").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("TOP-SECRET\n", f);
    std::fclose(f);
  }
  VarTmpDir mine("cs");
  const std::string program = mine.Path("cat");
  ASSERT_TRUE(CopyFileTo(kCat, program, 0755));
  // The new interpreter path takes exactly the old one's bytes.
  const std::string prefix = mine.Path("l/");
  if (prefix.size() + 1 >= std::strlen(kSystemInterp)) GTEST_SKIP() << "path too long";
  const std::string ld_name(std::strlen(kSystemInterp) - prefix.size(), 'x');
  ASSERT_TRUE(CopyFileTo(real_ld, sub + "/" + ld_name, 0755));
  ASSERT_TRUE(SetInterpreter(program, prefix + ld_name)) << "cannot patch " << program;
  ASSERT_EQ(symlink(sub.c_str(), mine.Path("l").c_str()), 0);
  ASSERT_EQ(std::system(("chown -R 65534:65534 '" + mine.path() + "'").c_str()), 0);

  auto read_secret = [&](mode_t outer_mode, std::string* out) {
    EXPECT_EQ(chmod(secret_dir.path().c_str(), outer_mode), 0);
    Pipe pipe = MakePipe();
    int code = AsNobodyClient(daemon_.socket(), [&](LauncherClient& c) {
      if (!c.AddArgs({"cat", sub + "/secret"}).ok()) return 201;
      std::vector<LaunchHandleInfo> handles;
      handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1), UniqueFd(dup(pipe.write.get()))});
      handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 2), UniqueFd(dup(pipe.write.get()))});
      if (!c.AddHandles(std::move(handles)).ok()) return 202;
      LaunchInfo info;
      info.executable = OpenPath(program);
      info.default_loader = true;
      Result<Process> p = c.Launch(std::move(info));
      if (!p.ok()) {
        std::fprintf(stderr, "launch: %s\n", p.error().message().c_str());
        return 203;
      }
      Result<int64_t> rc = p->Wait();
      return rc.ok() && *rc == 0 ? 0 : 204;
    });
    pipe.write.reset();
    *out = ReadAll(pipe.read.get(), 10000);
    return code;
  };
  std::string out;
  read_secret(0755, &out);
  EXPECT_NE(out.find("TOP-SECRET"), std::string::npos)
      << "control: with the directory reachable, the file is read\n"
      << out << daemon_.Log();
  read_secret(0700, &out);
  EXPECT_EQ(out.find("TOP-SECRET"), std::string::npos)
      << "a file behind a directory nobody cannot traverse was read\n"
      << daemon_.Log();
}

// A program nobody may execute but not read (0711): the kernel makes its
// process non-dumpable so its bytes stay unreadable. The root VMAR
// (/proc/PID/mem) of a process created without starting must not read them:
// the launcher answers as the in-process call does.
TEST_F(AttackTest, AnExecuteOnlyProgramIsNotReadThroughItsRootVmar) {
  VarTmpDir dir("cs-xo-");
  const std::string program = dir.Path("prog");
  // A dynamic PIE, as most programs are (the builder finds its base from its
  // headers in memory).
  ASSERT_TRUE(CopyFileTo("/bin/true", program, 0711));
  int in_process = RunAsNobody([&] {
    capspawn_start_data_t data{};
    const char* argv[] = {"prog", nullptr};  // CLONE_ALL: its loader is at hand
    char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    capspawn_status_t st = capspawn_create_without_starting(
        -1, CAPSPAWN_CLONE_ALL, program.c_str(), -1, argv, nullptr, 0, nullptr, &data, err);
    if (st == CAPSPAWN_OK) {
      capspawn_process_kill(data.process);
      return 100;  // in-process created it and handed its memory over
    }
    return -st;  // the status, positive
  });
  int through_launcher = AsNobodyClient(daemon_.socket(), [&](LauncherClient& c) {
    if (!c.AddArgs({"prog"}).ok()) return 201;
    std::vector<LaunchNameInfo> root;
    root.push_back({"/", OpenPath("/", O_PATH | O_DIRECTORY)});
    if (!c.AddNames(std::move(root)).ok()) return 202;
    LaunchInfo info;
    info.executable = OpenPath(program, O_PATH);
    Result<capspawn::ProcessStartData> d = c.CreateWithoutStarting(std::move(info));
    if (!d.ok()) return -d.status();
    char magic[4] = {};
    bool read =
        d->root_vmar && pread(d->root_vmar.get(), magic, 4, static_cast<off_t>(d->base)) == 4;
    (void)d->process.Kill();
    if (read && std::memcmp(magic, ELFMAG, SELFMAG) == 0) return 101;  // the program's bytes
    return 100;
  });
  EXPECT_NE(through_launcher, 101) << "the execute-only program was read through the launcher";
  EXPECT_EQ(through_launcher, in_process)
      << "in-process " << in_process << " (100: created; else -status)\n"
      << daemon_.Log();
}

// --- 3. DENY jobs ---------------------------------------------------------------

// A cgroup owned by nobody below this test's, as a delegator makes it
// (systemd's Delegate=yes); removed at the end.
class DelegatedSubtree {
 public:
  explicit DelegatedSubtree(std::string* skip) {
    Result<capspawn::Job> def = capspawn::Job::Default();
    if (!def.ok()) {
      *skip = def.error().message();
      return;
    }
    Result<std::string> path = def->Path();
    if (!path.ok()) {
      *skip = path.error().message();
      return;
    }
    dir_ = *path + "/capspawn-sec-" + std::to_string(getpid());
    if (mkdir(dir_.c_str(), 0755) != 0) {
      *skip = dir_ + ": " + std::strerror(errno);
      dir_.clear();
      return;
    }
    for (const char* f : {"", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"}) {
      if (chown((dir_ + f).c_str(), kNobody, kNogroup) != 0) *skip = dir_ + f + ": cannot chown";
    }
  }
  ~DelegatedSubtree() {
    if (dir_.empty()) return;
    Result<UniqueFd> d = capspawn::job_internal::OpenCgroupDir(dir_);
    if (!d.ok()) return;
    (void)capspawn::job_internal::WriteControl(d->get(), "cgroup.kill", "1");
    (void)capspawn::job_internal::WaitEvent(d->get(), "populated", 0, 10'000'000'000);
    (void)capspawn::job_internal::RemoveSubtree(d->get());
    rmdir(dir_.c_str());
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Forks a process that moves into `subtree` (still root: nobody's default
// job is then the subtree), becomes nobody, makes a DENY job there and runs
// /usr/bin/python3 with `argv` in it ("{job}" replaced by the job's path),
// stdin on `in` (-1: none) and stdout and stderr on `out`, and waits for it.
// Its exit code: 0, or what failed first. Returns its pid.
pid_t StartInDenyJob(const DelegatedSubtree& subtree, Strings argv, int in, int out) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int procs = open((subtree.dir() + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (procs < 0 || write(procs, "0", 1) != 1) _exit(120);
  close(procs);
  _exit(RunAsNobody([&] {
    Result<capspawn::Job> def = capspawn::Job::Default();
    if (!def.ok()) return 121;
    Result<capspawn::Job> job = def->CreateChild("deny");
    if (!job.ok() || !job->SetNewProcessPolicy(capspawn::NewProcessPolicy::kDeny).ok()) {
      return 122;
    }
    Result<std::string> job_path = job->Path();
    if (!job_path.ok()) return 123;
    for (std::string& a : argv) {
      if (a == "{job}") a = *job_path;
    }
    std::vector<capspawn_action_t> actions = {CloneFd(out, 1), CloneFd(out, 2)};
    if (in >= 0) actions.push_back(CloneFd(in, 0));
    Spawned p = Spawn(CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_STDIO, "/usr/bin/python3", argv, {},
                      actions, job->fd().get());
    if (p.status != CAPSPAWN_OK) {
      std::fprintf(stderr, "spawn python3: %s\n", p.err.c_str());
      return 124;
    }
    Wait(p.process.get());
    return 0;
  }));
}

// nobody, in a subtree delegated to it, runs python3 in a DENY job of its
// own. That process undoes what marks it DENY (`how`: "xattr" rewrites its
// job's policy attribute to allow; "move" moves itself to the subtree's
// root; "job": nothing, but it names the subtree's root as the job) and then
// execs `capspawn run --launcher` for fork_probe. Returns fork_probe's
// output line (or why there is none).
std::string EscapeAttempt(const std::string& socket, const std::string& how, std::string* skip) {
  DelegatedSubtree subtree(skip);
  if (!skip->empty()) return "";
  Pipe out = MakePipe();
  const std::string script =
      "import os, sys\n"
      "job, how, cli, sock, probe = sys.argv[1:6]\n"
      "run = ['capspawn', 'run', '--launcher', sock]\n"
      "if how == 'xattr':\n"
      "    os.setxattr(job, 'user.capspawn.job', b'v1 new_process=allow')\n"
      "elif how == 'move':\n"
      "    with open(os.path.join(job, '..', 'cgroup.procs'), 'w') as f: "
      "f.write(str(os.getpid()))\n"
      "elif how == 'job':\n"
      "    run += ['--job', os.path.dirname(job)]\n"
      "else:\n"
      "    run += ['--tmpfs', '/tmp']\n"
      "os.execv(cli, run + ['--', probe])\n";
  pid_t pid = StartInDenyJob(
      subtree,
      {"python3", "-c", script, "{job}", how, CAPSPAWN_TEST_CLI, socket, CAPSPAWN_TEST_FORK_PROBE},
      -1, out.write.get());
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  const int code = pid < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 256;
  out.write.reset();
  std::string text = ReadAll(out.read.get(), 20000);
  if (code != 0)
    return "the attempt failed before the probe (" + std::to_string(code) + "): " + text;
  return text;
}

void ExpectNoProcessCreated(const std::string& out, const std::string& log) {
  for (const char* call : {"fork=", "vfork=", "clone=", "clone3="}) {
    EXPECT_NE(out.find(call), std::string::npos) << "the probe did not run:\n" << out << log;
  }
  EXPECT_EQ(out.find("=ok"), std::string::npos) << "a DENY client's launch created a process:\n"
                                                << out << log;
}

TEST_F(AttackTest, ADenyClientThatRewritesItsJobPolicyStillCannotCreateProcesses) {
  std::string skip;
  std::string out = EscapeAttempt(daemon_.socket(), "xattr", &skip);
  if (!skip.empty()) GTEST_SKIP() << "no delegated subtree here: " << skip;
  ExpectNoProcessCreated(out, daemon_.Log());
}

TEST_F(AttackTest, ADenyClientThatLeavesItsJobStillCannotCreateProcesses) {
  std::string skip;
  std::string out = EscapeAttempt(daemon_.socket(), "move", &skip);
  if (!skip.empty()) GTEST_SKIP() << "no delegated subtree here: " << skip;
  ExpectNoProcessCreated(out, daemon_.Log());
}

// A DENY client may name a job, but only one whose policy is DENY too (on
// Linux any cgroup can be opened by path: holding one is no capability).
TEST_F(AttackTest, ADenyClientMayLaunchOnlyIntoDenyJobs) {
  std::string skip;
  std::string out = EscapeAttempt(daemon_.socket(), "job", &skip);
  if (!skip.empty()) GTEST_SKIP() << "no delegated subtree here: " << skip;
  EXPECT_NE(out.find("ACCESS_DENIED"), std::string::npos) << out << daemon_.Log();
  EXPECT_NE(out.find("may launch only into jobs whose policy denies new processes"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("fork="), std::string::npos) << "the probe ran:\n" << out;
}

// The price of the above for a non-root client with seccomp filters: no
// private namespace (its worker must stay non-dumpable), and it is told why.
TEST_F(AttackTest, AFilteredClientGetsNoPrivateNamespaceAndIsToldWhy) {
  std::string skip;
  std::string out = EscapeAttempt(daemon_.socket(), "namespace", &skip);
  if (!skip.empty()) GTEST_SKIP() << "no delegated subtree here: " << skip;
  EXPECT_NE(out.find("ACCESS_DENIED"), std::string::npos) << out << daemon_.Log();
  EXPECT_NE(out.find("a client with seccomp filters is served by a non-dumpable worker"),
            std::string::npos)
      << out;
}

// A client with seccomp filters (here a DENY job's) cannot take over a
// process that lacks them: not its worker (nor, thereby, what the worker is
// about to launch). The control: an unfiltered client's worker, which has
// nothing its client lacks, may be traced by it as any process of its own.
TEST_F(AttackTest, AFilteredClientCannotTraceItsWorker) {
  const std::string script =
      "import ctypes, os, socket, sys\n"
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
      "s.connect(sys.argv[1])\n"
      "s.send(bytes.fromhex(sys.argv[2]))\n"  // a Resolve: answered once the worker is the client
      "s.recv(8192)\n"
      "print(os.getpid(), flush=True)\n"
      "pid = int(sys.stdin.readline())\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "if libc.ptrace(16, pid, 0, 0) == 0:\n"  // PTRACE_ATTACH
      "    libc.ptrace(17, pid, 0, 0)\n"       // PTRACE_DETACH
      "    print('attached', flush=True)\n"
      "else:\n"
      "    print('refused', os.strerror(ctypes.get_errno()), flush=True)\n";
  std::string resolve;
  for (uint8_t b : capspawn::protocol::EncodeResolve("no-such-package").bytes) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", b);
    resolve += hex;
  }
  auto attempt = [&](bool deny, std::string* skip) -> std::string {
    Pipe in = MakePipe(), out = MakePipe();
    pid_t pid = -1;
    std::unique_ptr<DelegatedSubtree> subtree;
    if (deny) {
      subtree = std::make_unique<DelegatedSubtree>(skip);
      if (!skip->empty()) return "";
      pid = StartInDenyJob(*subtree, {"python3", "-c", script, daemon_.socket(), resolve},
                           in.read.get(), out.write.get());
    } else {
      pid = fork();
      if (pid == 0) {
        _exit(RunAsNobody([&] {
          dup2(in.read.get(), 0);
          dup2(out.write.get(), 1);
          execl("/usr/bin/python3", "python3", "-c", script.c_str(), daemon_.socket().c_str(),
                resolve.c_str(), static_cast<char*>(nullptr));
          return 127;
        }));
      }
    }
    in.read.reset();
    out.write.reset();
    std::string line;
    char c;
    while (read(out.read.get(), &c, 1) == 1 && c != '\n') line += c;
    const pid_t client = std::atoi(line.c_str());
    pid_t worker = -1;
    for (int i = 0; i < 200 && worker <= 0; ++i) {
      worker = ServingProcess(daemon_.pid(), client);
      if (worker <= 0) usleep(10000);
    }
    const std::string w = std::to_string(worker) + "\n";
    (void)!write(in.write.get(), w.data(), w.size());
    in.write.reset();
    std::string result = ReadAll(out.read.get(), 10000);
    waitpid(pid, nullptr, 0);
    return worker > 0 ? result : "no worker found for client " + line;
  };
  std::string skip;
  EXPECT_EQ(attempt(false, &skip), "attached\n") << "control: an unfiltered client's worker";
  std::string out = attempt(true, &skip);
  if (!skip.empty()) GTEST_SKIP() << "no delegated subtree here: " << skip;
  EXPECT_EQ(out.rfind("refused", 0), 0u) << out << daemon_.Log();
}

// A client in a pid namespace of its own, with its own /proc: the worker,
// which enters the client's mount namespace, re-reads the client's limits
// and status before each launch from the files it opened at the connection,
// not by a /proc path that the client's procfs would resolve to another
// process (or none).
TEST_F(AttackTest, AClientInItsOwnPidNamespaceAndProcIsServedAsItself) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a pid namespace with its own /proc";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      _exit(210);
    }
    pid_t init = fork();  // pid 1 of the new namespace
    if (init < 0) _exit(211);
    if (init == 0) {
      if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        _exit(212);
      }
      Result<LauncherClient> c = LauncherClient::Connect(daemon_.socket());
      if (!c.ok()) _exit(200);
      for (int i = 0; i < 2; ++i) {  // the second re-reads what the first did
        if (!c->AddArgs({"sh", "-c", "exit 7"}).ok()) _exit(201);
        std::vector<LaunchNameInfo> root;
        root.push_back({"/", OpenPath("/", O_PATH | O_DIRECTORY)});
        if (!c->AddNames(std::move(root)).ok()) _exit(202);
        LaunchInfo info;
        info.executable = OpenPath("/bin/sh");
        Result<Process> p = c->Launch(std::move(info));
        if (!p.ok()) {
          std::fprintf(stderr, "launch %d: %s\n", i, p.error().message().c_str());
          _exit(203);
        }
        Result<int64_t> rc = p->Wait();
        if (!rc.ok() || *rc != 7) _exit(204);
      }
      _exit(0);
    }
    int status = 0;
    if (waitpid(init, &status, 0) != init) _exit(213);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 214);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << daemon_.Log();
}

}  // namespace
}  // namespace capspawn_test

namespace capspawn_test {
namespace {

// A client in a mount namespace of its own (as in a container): with "/" its
// process sees the client's filesystem, which the daemon's lacks.
TEST_F(AttackTest, AClientInAnotherMountNamespaceSeesItsOwnFilesystem) {
  VarTmpDir dir("cs-mnt-");
  Pipe out = MakePipe();
  int code = [&] {
    pid_t pid = fork();
    if (pid == 0) {
      if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) ||
          mount("cs-test", dir.path().c_str(), "tmpfs", 0, "mode=0755") != 0) {
        _exit(210);
      }
      FILE* f = std::fopen(dir.Path("only-here").c_str(), "w");
      if (!f || std::fputs("its own\n", f) < 0 || std::fclose(f) != 0) _exit(211);
      _exit(RunAsNobody([&] {
        Result<LauncherClient> c = LauncherClient::Connect(daemon_.socket());
        if (!c.ok()) return 200;
        if (!c->AddArgs({"cat", dir.Path("only-here")}).ok()) return 201;
        std::vector<LaunchNameInfo> root;
        root.push_back({"/", OpenPath("/", O_PATH | O_DIRECTORY)});
        if (!c->AddNames(std::move(root)).ok()) return 202;
        std::vector<LaunchHandleInfo> handles;
        handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, 1), UniqueFd(dup(out.write.get()))});
        if (!c->AddHandles(std::move(handles)).ok()) return 203;
        LaunchInfo info;
        info.executable = OpenPath("/bin/cat");
        Result<Process> p = c->Launch(std::move(info));
        if (!p.ok()) {
          std::fprintf(stderr, "launch: %s\n", p.error().message().c_str());
          return 204;
        }
        Result<int64_t> rc = p->Wait();
        return rc.ok() ? static_cast<int>(*rc) : 205;
      }));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 256;
  }();
  out.write.reset();
  EXPECT_EQ(code, 0) << daemon_.Log();
  EXPECT_EQ(ReadAll(out.read.get(), 10000), "its own\n");
}

}  // namespace
}  // namespace capspawn_test
