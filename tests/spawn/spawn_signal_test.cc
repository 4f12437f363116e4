// SPDX-License-Identifier: Apache-2.0
// SpawnSignals: as after execve, the child starts with an empty signal mask
// and default handlers, and signals the caller ignores stay ignored.
#include <signal.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace capspawn_test {
namespace {

void OnSignal(int) {}

uint64_t Mask(const std::string& hex) { return std::strtoull(hex.c_str(), nullptr, 16); }

uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

// The caller's ignored signals, as /proc/PID/status would show them.
uint64_t IgnoredNow() {
  uint64_t mask = 0;
  for (int sig = 1; sig <= 64; ++sig) {
    struct sigaction sa;
    if (sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) mask |= Bit(sig);
  }
  return mask;
}

TEST(SpawnSignals, MaskEmptyHandlersDefaultIgnoredStayIgnored) {
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGUSR2);
  sigaddset(&block, SIGCHLD);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &block, &old_mask), 0);
  struct sigaction ignore {
  }, handle{}, old_winch{}, old_term{}, old_hup{};
  ignore.sa_handler = SIG_IGN;
  handle.sa_handler = OnSignal;
  sigaction(SIGWINCH, &ignore, &old_winch);
  sigaction(SIGHUP, &ignore, &old_hup);
  sigaction(SIGTERM, &handle, &old_term);
  uint64_t ignored = IgnoredNow();

  ChildRun run = RunChild(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath()});

  sigaction(SIGWINCH, &old_winch, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);

  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  ASSERT_TRUE(run.report.complete) << run.output;
  EXPECT_EQ(Mask(run.report.sig_blocked), 0u) << run.report.sig_blocked;
  EXPECT_EQ(Mask(run.report.sig_ignored), ignored) << run.report.sig_ignored;
  EXPECT_TRUE(Mask(run.report.sig_ignored) & Bit(SIGWINCH));
  EXPECT_TRUE(Mask(run.report.sig_ignored) & Bit(SIGHUP));
  EXPECT_FALSE(Mask(run.report.sig_caught) & Bit(SIGTERM));
  if (ChildIsStatic()) {
    EXPECT_EQ(Mask(run.report.sig_caught), 0u) << run.report.sig_caught;
  }
}

// A signal the caller handles kills the child with its default action.
TEST(SpawnSignals, CallersHandlerDoesNotProtectTheChild) {
  struct sigaction handle {
  }, old_usr1{};
  handle.sa_handler = OnSignal;
  sigaction(SIGUSR1, &handle, &old_usr1);
  Pipe report = MakePipe();
  Spawned s = Spawn(CAPSPAWN_CLONE_ALL, ChildPath(), {ChildPath(), "--sleep"}, {},
                    {TransferFd(report.write.release(), 1)});
  sigaction(SIGUSR1, &old_usr1, nullptr);
  ASSERT_EQ(s.status, CAPSPAWN_OK) << s.err;
  ASSERT_TRUE(ParseReport(ReadAll(report.read.get())).complete);
  pid_t pid = PidOfPidfd(s.process.get());
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGUSR1), 0);
  EXPECT_EQ(Wait(s.process.get()), -SIGUSR1);
}

}  // namespace
}  // namespace capspawn_test
