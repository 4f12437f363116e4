// SPDX-License-Identifier: Apache-2.0
// The capspawn command line itself: help, version, usage errors, and the
// options that are accepted before their feature is built.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_runner.h"
#include "options.h"

namespace capspawn::cli_test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CliHelp, RunHelpMentionsEveryOption) {
  CliResult r = RunCli({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  int count = 0;
  for (const option* o = capspawn::cli::RunLongOptions(); o->name != nullptr; ++o, ++count) {
    EXPECT_TRUE(Contains(r.out, std::string("--") + o->name)) << "--" << o->name;
  }
  EXPECT_GE(count, 25);
  for (const char* word :
       {"job", "ldsvc", "namespace", "stdio", "environ", "utc-clock", "all", "none"}) {
    EXPECT_TRUE(Contains(r.out, std::string("      ") + word + " ")) << word;
  }
  for (const std::string& type : capspawn::cli::HandleTypeNames()) {
    EXPECT_TRUE(Contains(r.out, " " + type)) << type;
  }
  EXPECT_TRUE(Contains(r.out, "Default: all"));
  EXPECT_TRUE(Contains(r.out, "Examples:"));
  for (const char* code : {"124", "125", "128+N"}) EXPECT_TRUE(Contains(r.out, code)) << code;
}

TEST(CliHelp, HelpSpellingsAgree) {
  CliResult run_help = RunCli({"run", "--help"});
  EXPECT_EQ(RunCli({"run", "-h"}).out, run_help.out);
  CliResult help_run = RunCli({"help", "run"});
  EXPECT_EQ(help_run.exit_code, 0);
  EXPECT_EQ(help_run.out, run_help.out);

  CliResult top = RunCli({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_EQ(RunCli({"-h"}).out, top.out);
  EXPECT_EQ(RunCli({"help"}).out, top.out);
  for (const char* word : {"run", "start", "ps", "elf", "job", "resolve", "launcherd", "completion",
                           "help", "--version", "--help", "Examples:", "125", "USAGE"}) {
    EXPECT_TRUE(Contains(top.out, word)) << word;
  }
}

TEST(CliHelp, Version) {
  CliResult r = RunCli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("capspawn ") + CAPSPAWN_TEST_VERSION + "\n");
}

TEST(CliUsage, NoCommandPrintsHelpAndFails) {
  CliResult r = RunCli({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "Usage: capspawn"));
}

TEST(CliUsage, UnknownCommandOrOptionIsNamed) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"frobnicate"}, "'frobnicate'"},
      {{"help", "frobnicate"}, "'frobnicate'"},
      {{"--frobnicate"}, "'--frobnicate'"},
      {{"run", "--frobnicate", "/bin/true"}, "'--frobnicate'"},
      {{"run", "--frobnicate=1", "/bin/true"}, "'--frobnicate'"},
      {{"run", "-Z", "/bin/true"}, "'-Z'"},
      {{"run", "--vmo=yes", "/bin/true"}, "'--vmo' takes no argument"},
      {{"run", "--fd"}, "'--fd' needs an argument"},
      {{"run"}, "missing PROGRAM"},
      {{"run", "--quiet"}, "missing PROGRAM"},
      {{"run", "--clone=stdio,bogus", "/bin/true"}, "'bogus'"},
      {{"run", "--no-clone=", "/bin/true"}, "unknown word ''"},
      {{"run", "--fd", "x=1", "/bin/true"}, "--fd x=1"},
      {{"run", "--fd", "5=", "/bin/true"}, "--fd 5="},
      {{"run", "--transfer-fd", "5", "/bin/true"}, "--transfer-fd 5"},
      {{"run", "--handle", "user9=1", "/bin/true"}, "user9"},
      {{"run", "--handle", "user0.70000=1", "/bin/true"}, "user0.70000"},
      {{"run", "--handle", "user0", "/bin/true"}, "ID=FD"},
      {{"run", "--env", "NOEQUALS", "/bin/true"}, "NOEQUALS"},
      {{"run", "--env", "=1", "/bin/true"}, "'=1'"},
      {{"run", "--unset-env", "A=1", "/bin/true"}, "'A=1'"},
      {{"run", "--ns", "/data", "/bin/true"}, "PATH=DIR"},
      {{"run", "--timeout", "soon", "/bin/true"}, "'soon'"},
      {{"run", "--timeout", "-1", "/bin/true"}, "'-1'"},
      // A usage error wins over an option that is not built yet.
      {{"run", "--suspended", "--frobnicate", "/bin/true"}, "'--frobnicate'"},
  };
  for (const auto& [args, needle] : cases) {
    CliResult r = RunCli(args);
    std::string shown;
    for (const std::string& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << r.err;
    EXPECT_TRUE(Contains(r.err, needle)) << shown << "-> " << r.err;
    EXPECT_EQ(r.err.rfind("capspawn: USAGE: ", 0), 0u) << shown << "-> " << r.err;
    EXPECT_EQ(r.out, "") << shown;
  }
}

TEST(CliUsage, LauncherWithNothingListeningIsPeerClosed) {
  CliResult r = RunCli({"run", "--launcher", "/nonexistent/capspawn.sock", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err.rfind("capspawn: PEER_CLOSED: connect to the launcher at /nonexistent/", 0), 0u)
      << r.err;
}

}  // namespace
}  // namespace capspawn::cli_test
