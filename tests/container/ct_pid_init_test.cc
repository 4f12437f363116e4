// SPDX-License-Identifier: Apache-2.0
// CAPSPAWN_NEW_NS_PID_INIT: pid 1 is capspawn's init, the program pid 2.
// Exit codes and kills pass through, orphans are reaped, signals sent to the
// process handle reach the program, and a program that never runs leaves
// nothing behind — as root and as nobody (a user namespace then comes along).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>

#include <gtest/gtest.h>

#include <thread>

#include <capspawn/job.h>
#include <capspawn/process_builder.h>

#include "ct_util.h"
#include "engine/launch.h"

namespace {

using namespace ct;  // NOLINT

constexpr uint32_t kInit = CAPSPAWN_NEW_NS_PID | CAPSPAWN_NEW_NS_PID_INIT;
constexpr uint32_t kNoDevSuid = CAPSPAWN_MOUNT_NODEV | CAPSPAWN_MOUNT_NOSUID;

// A busybox shell in a root of its own with /proc, under the init.
Report Shell(const std::string& script, uint32_t ns = kInit) {
  Rootfs root;
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, kNoDevSuid, "/proc", -1, nullptr};
  return Spawn(kAll,
               {NewNs(ns), Root(OpenDir(root.path())), Mount(&proc),
                PathAct(CAPSPAWN_ACTION_ADD_DEVICES, "/dev")},
               {"sh", "-c", script}, "/bin/busybox");
}

TEST(PidInit, ProgramIsPid2UnderTheInit) {
  const int fds = CountFds();
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, kNoDevSuid, "/proc", -1, nullptr};
  Report r = Spawn(kPrivate, {NewNs(kInit), Mount(&proc)},
                   // The program may start while pid 1 finishes its exec: a moment for the init.
                   {"sleep:1", "read:/proc/1/comm", "read:/proc/1/cmdline", "stat:/proc/3"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r["pid"], "2");
  EXPECT_EQ(r["ppid"], "1");
  EXPECT_EQ(r["read:/proc/1/comm"], "capspawn-init");
  EXPECT_EQ(r["read:/proc/1/cmdline"].substr(0, 13), "capspawn-init");
  EXPECT_EQ(r["stat:/proc/3"], "!2") << "nothing but the init and the program";
  EXPECT_EQ(CountFds(), fds) << "the init's memfd is closed";
  EXPECT_FALSE(HasChildren());
}

TEST(PidInit, ExitCodePassesThrough) {
  for (int code : {0, 7, 255}) {
    Report r = Shell("exit " + std::to_string(code));
    ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
    EXPECT_EQ(r.status, code);
  }
}

TEST(PidInit, AKilledProgramIs128PlusTheSignal) {
  Report r = Shell("kill -USR1 $$; sleep 1");
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 128 + SIGUSR1) << "the init exits as tini does";
  Report bare = Shell("kill -USR1 $$; sleep 1", CAPSPAWN_NEW_NS_PID);
  ASSERT_EQ(bare.code, CAPSPAWN_OK) << bare.error;
  EXPECT_EQ(bare.status, 0) << "without the init, pid 1 ignores the signal it has no handler for";
}

TEST(PidInit, OrphansAreReaped) {
  // The orphan (its parent exits at once) prints its parent, then exits;
  // later the program lists every process of the namespace with its state.
  Report r = Shell(
      "(sh -c 'sleep 0.2; exec cat /proc/self/stat' &); sleep 1; "
      "for f in /proc/[0-9]*/stat; do echo \"ps $(cat $f)\"; done");
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r.status, 0);
  std::istringstream in(r.out);
  std::string line;
  bool orphan_seen = false, init_seen = false;
  while (std::getline(in, line)) {
    if (line.rfind("ps ", 0) == 0) {
      const size_t paren = line.rfind(')');
      ASSERT_NE(paren, std::string::npos) << line;
      EXPECT_NE(line.substr(paren + 2, 1), "Z") << "a zombie in the namespace: " << line;
      init_seen |= line.rfind("ps 1 (capspawn-init)", 0) == 0;
    } else if (line.find("(cat)") != std::string::npos) {
      const size_t paren = line.rfind(')');
      std::istringstream fields(line.substr(paren + 2));
      std::string state, ppid;
      fields >> state >> ppid;
      EXPECT_EQ(ppid, "1") << "the orphan was re-parented to the init: " << line;
      orphan_seen = true;
    }
  }
  EXPECT_TRUE(orphan_seen) << r.out;
  EXPECT_TRUE(init_seen) << r.out;
  EXPECT_FALSE(HasChildren());
}

TEST(PidInit, SignalsToTheHandleReachTheProgram) {
  Rootfs root;
  capspawn_mount_t proc{CAPSPAWN_MOUNT_PROC, kNoDevSuid, "/proc", -1, nullptr};
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  std::vector<capspawn_action_t> actions{NewNs(kInit), Root(OpenDir(root.path())), Mount(&proc)};
  capspawn_action_t out = Act(CAPSPAWN_ACTION_TRANSFER_FD);
  out.fd.local_fd = p[1];
  out.fd.target_fd = 1;
  actions.push_back(out);
  const char* argv[] = {"sh", "-c",
                        "trap 'echo got-term; exit 42' TERM; trap 'echo got-hup' HUP; echo ready; "
                        "while :; do sleep 0.05; done",
                        nullptr};
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  int process = -1;
  ASSERT_EQ(capspawn_spawn_etc(-1, kAll, "/bin/busybox", argv, nullptr, actions.size(),
                               actions.data(), &process, msg),
            CAPSPAWN_OK)
      << msg;
  char buf[6] = {};
  ASSERT_EQ(read(p[0], buf, 6), 6);
  EXPECT_EQ(std::string(buf, 6), "ready\n");
  // To the handle, that is to the init: forwarded to the program's handlers.
  ASSERT_EQ(syscall(SYS_pidfd_send_signal, process, SIGHUP, nullptr, 0), 0);
  usleep(300 * 1000);
  ASSERT_EQ(syscall(SYS_pidfd_send_signal, process, SIGTERM, nullptr, 0), 0);
  std::string rest = Drain(p[0]);
  close(p[0]);
  int64_t rc = 0;
  ASSERT_EQ(capspawn_process_wait(process, 10'000'000'000, &rc), CAPSPAWN_OK);
  close(process);
  EXPECT_EQ(rest, "got-hup\ngot-term\n");
  EXPECT_EQ(rc, 42) << "the program's own exit code, after its handler ran";
  EXPECT_FALSE(HasChildren());
}

TEST(PidInit, KillingTheHandleEndsEverything) {
  int process = -1;
  capspawn_action_t ns = NewNs(kInit);
  const char* argv[] = {"busybox", "sh", "-c", "sleep 30 & sleep 30", nullptr};
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  ASSERT_EQ(capspawn_spawn_etc(-1, kAll, "/bin/busybox", argv, nullptr, 1, &ns, &process, msg),
            CAPSPAWN_OK)
      << msg;
  ASSERT_EQ(capspawn_process_kill(process), CAPSPAWN_OK);
  int64_t rc = 0;
  ASSERT_EQ(capspawn_process_wait(process, 10'000'000'000, &rc), CAPSPAWN_OK);
  EXPECT_EQ(rc, -SIGKILL);
  close(process);
  EXPECT_FALSE(HasChildren());
}

// The death signal is pid 1's: SIGTERM, when the spawning thread exits, is
// forwarded to the program, which dies of it.
TEST(PidInit, TheDeathSignalIsForwarded) {
  int process = -1;
  std::string err;
  std::thread t([&] {
    capspawn_action_t acts[2] = {NewNs(kInit), Number(CAPSPAWN_ACTION_SET_DEATH_SIGNAL, SIGTERM)};
    const char* argv[] = {"busybox", "sleep", "30", nullptr};
    char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    if (capspawn_spawn_etc(-1, kAll, "/bin/busybox", argv, nullptr, 2, acts, &process, msg) != 0)
      err = msg;
  });
  t.join();
  ASSERT_EQ(err, "");
  int64_t rc = 0;
  ASSERT_EQ(capspawn_process_wait(process, 10'000'000'000, &rc), CAPSPAWN_OK);
  EXPECT_EQ(rc, 128 + SIGTERM);
  close(process);
  EXPECT_FALSE(HasChildren());
}

// A program that fails at or before its exec: the same answer as without
// the init, and nothing left (no process, no fd).
TEST(PidInit, AProgramThatNeverRunsLeavesNothing) {
  // Refused before any child: a missing program, a script's missing interpreter.
  TempDir dir;
  dir.Write("script", "#!/nonexistent/interpreter\n");
  chmod(dir.Path("script").c_str(), 0755);
  for (const std::string& path : {std::string("/nonexistent/program"), dir.Path("script")}) {
    const int fds = CountFds();
    Report with = Spawn(kAll, {NewNs(kInit)}, {}, path.c_str());
    Report without = Spawn(kAll, {NewNs(CAPSPAWN_NEW_NS_PID)}, {}, path.c_str());
    EXPECT_NE(with.code, CAPSPAWN_OK) << path;
    EXPECT_EQ(with.code, without.code) << path;
    EXPECT_EQ(with.error, without.error) << path;
    EXPECT_EQ(CountFds(), fds);
    EXPECT_FALSE(HasChildren());
  }
  // Refused by the kernel at the program's own exec (a filter forbidding
  // execveat, which the init does not run under).
  sock_filter deny_exec[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  capspawn_action_t filter = Act(CAPSPAWN_ACTION_SET_SECCOMP_FILTER);
  filter.seccomp.program = reinterpret_cast<const capspawn_sock_filter_t*>(deny_exec);
  filter.seccomp.count = 4;
  const int fds = CountFds();
  Report with = Spawn(kAll, {NewNs(kInit), filter});
  Report without = Spawn(kAll, {NewNs(CAPSPAWN_NEW_NS_PID), filter});
  EXPECT_EQ(with.code, CAPSPAWN_ERR_ACCESS_DENIED) << with.error;
  EXPECT_EQ(with.code, without.code);
  EXPECT_EQ(with.error, without.error);
  EXPECT_EQ(with.error, "execveat: Permission denied");
  EXPECT_EQ(CountFds(), fds);
  EXPECT_FALSE(HasChildren());
  // Killed on its way to its exec.
  capspawn::engine::SetKillChildBeforeExecForTesting(true);
  Report killed = Spawn(kAll, {NewNs(kInit)});
  capspawn::engine::SetKillChildBeforeExecForTesting(false);
  EXPECT_EQ(killed.code, CAPSPAWN_ERR_INTERNAL) << killed.error;
  EXPECT_NE(killed.error.find("ended before its exec"), std::string::npos) << killed.error;
  EXPECT_EQ(CountFds(), fds);
  EXPECT_FALSE(HasChildren());
}

// The job's DENY policy binds both (the program cannot fork); the caller's
// own filter binds the program only: one forbidding wait4 would leave an
// init under it unable to reap, and the wait below would time out.
TEST(PidInit, FiltersJobPolicyForBothUserFilterForTheProgram) {
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  int parent = -1, job = -1;
  if (capspawn_job_default(&parent, msg) != CAPSPAWN_OK) GTEST_SKIP() << msg;
  capspawn_status_t st = capspawn_job_create(parent, nullptr, &job, msg);
  close(parent);
  if (st != CAPSPAWN_OK) GTEST_SKIP() << "cannot create a job here: " << msg;
  ASSERT_EQ(
      capspawn_job_set_policy(job, CAPSPAWN_JOB_POL_NEW_PROCESS, CAPSPAWN_JOB_POL_ACTION_DENY, msg),
      CAPSPAWN_OK)
      << msg;
  sock_filter deny_wait[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_wait4, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  capspawn_action_t filter = Act(CAPSPAWN_ACTION_SET_SECCOMP_FILTER);
  filter.seccomp.program = reinterpret_cast<const capspawn_sock_filter_t*>(deny_wait);
  filter.seccomp.count = 4;
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  capspawn_action_t acts[3] = {NewNs(kInit), filter, Act(CAPSPAWN_ACTION_TRANSFER_FD)};
  acts[2].fd.local_fd = out[1];
  acts[2].fd.target_fd = 1;
  const char* argv[] = {"busybox", "sh", "-c", "echo pid=$$; (exit 3); echo s=$?; exit 9", nullptr};
  int process = -1;
  ASSERT_EQ(capspawn_spawn_etc(job, kAll, "/bin/busybox", argv, nullptr, 3, acts, &process, msg),
            CAPSPAWN_OK)
      << msg;
  std::string text = Drain(out[0]);
  close(out[0]);
  int64_t rc = 0;
  EXPECT_EQ(capspawn_process_wait(process, 10'000'000'000, &rc), CAPSPAWN_OK)
      << "the init could not reap the program";
  EXPECT_EQ(rc, 2) << "busybox sh's exit when it cannot fork, passed through";
  close(process);
  EXPECT_NE(text.find("pid=2"), std::string::npos) << text;
  EXPECT_EQ(text.find("s=3"), std::string::npos) << "the job's policy: no fork. " << text;
  EXPECT_EQ(capspawn_job_destroy(job, -1, msg), CAPSPAWN_OK) << msg;
  close(job);
  EXPECT_FALSE(HasChildren());
}

TEST(PidInit, NotWithCreateWithoutStartingOrAName) {
  capspawn::ProcessBuilder b("ct", -1, capspawn::UniqueFd(open(kProbe, O_RDONLY | O_CLOEXEC)));
  b.add_arguments({"ct_probe"});
  b.set_new_namespaces(kInit);
  capspawn::Result<capspawn::BuiltProcess> built = b.build();
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().status(), CAPSPAWN_ERR_NOT_SUPPORTED);
  EXPECT_NE(built.error().message().find("created without starting"), std::string::npos)
      << built.error().message();
  capspawn_action_t name = Act(CAPSPAWN_ACTION_SET_NAME);
  name.name.data = "named";
  Report r = Spawn(kAll, {NewNs(kInit), name});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_NOT_SUPPORTED);
  EXPECT_NE(r.error.find("process name (SET_NAME)"), std::string::npos) << r.error;
  EXPECT_FALSE(HasChildren());
}

TEST(PidInit, ManySpawnsLeakNothing) {
  const int fds = CountFds();
  for (int i = 0; i < 20; ++i) {
    // Every other one through clone() rather than clone3 (kernels without it).
    capspawn::engine::SetForceLegacyCloneForTesting(i % 2 == 1);
    Report r = Spawn(kAll, {NewNs(kInit)}, {"sh", "-c", "exit 3"}, "/bin/busybox");
    capspawn::engine::SetForceLegacyCloneForTesting(false);
    ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
    ASSERT_EQ(r.status, 3);
  }
  EXPECT_EQ(CountFds(), fds);
  EXPECT_FALSE(HasChildren());
}

}  // namespace
