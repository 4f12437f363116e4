// SPDX-License-Identifier: Apache-2.0
// Many clients of one capspawn-launcherd at once: each connection's state is
// its own, a client that stalls mid-request or vanishes blocks no one. CI runs
// these under ThreadSanitizer too (the daemon built with it: a race report
// makes it exit non-zero, which the fixture's clean-exit check catches).
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <capspawn/launcher.h>

#include "daemon_fixture.h"

namespace capspawn_test {
namespace {

using capspawn::LauncherClient;

constexpr int kClients = 8;
constexpr int kLaunchesEach = 15;

TEST_F(LauncherTest, ConcurrentClientsKeepTheirOwnState) {
  std::atomic<int> good{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      capspawn::Result<LauncherClient> client = LauncherClient::Connect(daemon_.socket());
      if (!client.ok()) {
        failures[c] = client.error().message();
        return;
      }
      for (int i = 0; i < kLaunchesEach; ++i) {
        // Args sent in two pieces, so interleaving with other clients shows.
        const Strings mine = {"client-" + std::to_string(c), "launch-" + std::to_string(i)};
        ChildRun run = RunThroughLauncher(*client, mine);
        Strings want = {ChildPath()};
        want.insert(want.end(), mine.begin(), mine.end());
        if (run.status != CAPSPAWN_OK || run.return_code != 0 || run.report.argv != want) {
          failures[c] = "launch " + std::to_string(i) + ": " + capspawn_status_string(run.status) +
                        " " + run.err + " rc=" + std::to_string(run.return_code) +
                        " argc=" + std::to_string(run.report.argv.size());
          return;
        }
        good++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
  EXPECT_EQ(good.load(), kClients * kLaunchesEach);
  EXPECT_TRUE(daemon_.Alive());
}

// A client that sent half a request and then stalls, and one that vanished
// mid-request, while others launch: the others finish.
TEST_F(LauncherTest, StalledAndVanishedClientsBlockNoOne) {
  LauncherClient stalled = Connect();
  ASSERT_TRUE(stalled.AddArgs({"half", "a", "request"}).ok());
  {
    LauncherClient gone = Connect();
    ASSERT_TRUE(gone.AddArgs({"never", "launched"}).ok());
  }  // closed mid-request
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&] {
      capspawn::Result<LauncherClient> client = LauncherClient::Connect(daemon_.socket());
      if (!client.ok()) return;
      for (int i = 0; i < 5; ++i) {
        ChildRun run = RunThroughLauncher(*client, {"x"});
        if (run.status == CAPSPAWN_OK && run.return_code == 0) good++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 20);
  // The stalled client's state is still its own: finishing its request runs
  // exactly what it sent.
  ChildRun run = RunThroughLauncher(stalled, {"end"});
  ASSERT_EQ(run.status, CAPSPAWN_OK) << run.err;
  EXPECT_EQ(run.report.argv, (Strings{"half", "a", "request", ChildPath(), "end"}));
  EXPECT_TRUE(daemon_.Alive());
}

}  // namespace
}  // namespace capspawn_test
