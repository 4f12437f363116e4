// SPDX-License-Identifier: Apache-2.0
// A user seccomp filter, raw BPF or compiled from a profile, installed after
// the job policy's own and last before exec.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <gtest/gtest.h>

#include <capspawn/job.h>
#include <capspawn/seccomp.h>

#include "ct_util.h"

namespace {

using namespace ct;  // NOLINT
namespace sc = capspawn::seccomp;

capspawn_action_t Filter(const std::vector<capspawn_sock_filter_t>& prog) {
  capspawn_action_t a = Act(CAPSPAWN_ACTION_SET_SECCOMP_FILTER);
  a.seccomp.program = prog.data();
  a.seccomp.count = prog.size();
  return a;
}

// uname fails with errno 42; everything else is allowed.
std::vector<capspawn_sock_filter_t> UnameErrno42() {
  std::vector<sock_filter> f = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 42),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  std::vector<capspawn_sock_filter_t> out(f.size());
  memcpy(out.data(), f.data(), f.size() * sizeof f[0]);
  return out;
}

TEST(ContainerSeccomp, RawFilter) {
  std::vector<capspawn_sock_filter_t> prog = UnameErrno42();
  Report r = Spawn(kAll, {Filter(prog)}, {"uname"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["uname"], "!42");
  EXPECT_EQ(r["seccomp"], "2");
  // Not privileged: the filter came with no_new_privs.
  EXPECT_EQ(r["nnp"], AsRoot() ? "0" : "1");
}

TEST(ContainerSeccomp, CompiledProfile) {
  sc::Profile p;
  p.default_action = sc::Action::kAllow;
  p.architectures = {"SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  p.syscalls.push_back({{"uname"}, sc::Action::kErrno, 38});
  // An argument rule: only prctl(PR_GET_SECCOMP) fails.
  p.syscalls.push_back(
      {{"prctl"}, sc::Action::kErrno, 22, {{0, PR_GET_SECCOMP, 0, sc::Op::kEqualTo}}});
  capspawn::Result<std::vector<capspawn_sock_filter_t>> prog = sc::Compile(p);
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  Report r = Spawn(kAll, {Filter(*prog)}, {"uname"});
  ASSERT_EQ(r.code, CAPSPAWN_OK) << r.error;
  EXPECT_EQ(r["uname"], "!38");
  EXPECT_EQ(r["seccomp"], "-1");
  EXPECT_EQ(r["nnp"], AsRoot() ? "0" : "1");  // other prctl calls pass
}

// After a job's DENY policy filter: both apply.
TEST(ContainerSeccomp, AfterTheJobPolicy) {
  std::vector<capspawn_sock_filter_t> prog = UnameErrno42();
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
  for (int i = 0; i < 2; ++i) {
    int out[2];
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    capspawn_action_t acts[2] = {Filter(prog), Act(CAPSPAWN_ACTION_TRANSFER_FD)};
    acts[1].fd.local_fd = out[1];
    acts[1].fd.target_fd = 1;
    const char* probe_argv[] = {kProbe, "uname", nullptr};
    const char* sh_argv[] = {"busybox", "sh", "-c", "(exit 3); echo s=$?", nullptr};
    int process = -1;
    ASSERT_EQ(capspawn_spawn_etc(job, kAll, i == 0 ? kProbe : "/bin/busybox",
                                 i == 0 ? probe_argv : sh_argv, nullptr, 2, acts, &process, msg),
              CAPSPAWN_OK)
        << msg;
    std::string text = Drain(out[0]);
    close(out[0]);
    int64_t rc = 0;
    capspawn_process_wait(process, -1, &rc);
    close(process);
    if (i == 0) {
      EXPECT_NE(text.find("uname=!42"), std::string::npos) << text;  // the user filter
    } else {
      EXPECT_EQ(text.find("s=3"), std::string::npos) << text;  // the job's: no fork
    }
  }
  EXPECT_EQ(capspawn_job_destroy(job, -1, msg), CAPSPAWN_OK) << msg;
  close(job);
}

TEST(ContainerSeccomp, ProfileErrorsNameTheRule) {
  sc::Profile p;
  p.syscalls.push_back({{"getpid"}, sc::Action::kErrno, 1});
  p.syscalls.push_back({{"no_such_call"}, sc::Action::kErrno, 1});
  auto r = sc::Compile(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "seccomp profile: syscalls[1]: system call 'no_such_call' is unknown");
  p.skip_unknown_syscalls = true;
  EXPECT_TRUE(sc::Compile(p).ok());
  p.architectures = {"SCMP_ARCH_VAX"};
  EXPECT_EQ(sc::Compile(p).error().message(),
            "seccomp profile: architecture 'SCMP_ARCH_VAX' is unknown");
  sc::Profile q;
  q.syscalls.push_back({{"read"}, sc::Action::kErrno, 5000});
  EXPECT_EQ(sc::Compile(q).error().message(),
            "seccomp profile: syscalls[0]: errno 5000 is not 0..4095");
  sc::Profile a;
  a.syscalls.push_back({{"read"}, sc::Action::kErrno, 1, {{7, 0, 0, sc::Op::kEqualTo}}});
  EXPECT_EQ(sc::Compile(a).error().message(),
            "seccomp profile: syscalls[0]: args[0].index 7 is not 0..5");
}

TEST(ContainerSeccomp, BadFilters) {
  capspawn_action_t null_prog = Act(CAPSPAWN_ACTION_SET_SECCOMP_FILTER);
  null_prog.seccomp.count = 1;
  Report r = Spawn(kAll, {null_prog});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(r.error, "action 0 (SET_SECCOMP_FILTER): seccomp.program is NULL");
  std::vector<capspawn_sock_filter_t> big(4097);
  r = Spawn(kAll, {Filter(big)});
  EXPECT_EQ(r.error,
            "action 0 (SET_SECCOMP_FILTER): seccomp.count 4097 is not 1..4096 instructions");
  // The kernel's verdict on a program that does not end in a return.
  std::vector<capspawn_sock_filter_t> no_ret = {{BPF_LD | BPF_W | BPF_ABS, 0, 0, 0}};
  const int fds = CountFds();
  r = Spawn(kAll, {Filter(no_ret)});
  EXPECT_EQ(r.code, CAPSPAWN_ERR_INVALID_ARGS);
  EXPECT_EQ(r.error,
            "seccomp filter (action 0): seccomp(SECCOMP_SET_MODE_FILTER): Invalid argument");
  EXPECT_EQ(CountFds(), fds);
  EXPECT_FALSE(HasChildren());
}

}  // namespace
