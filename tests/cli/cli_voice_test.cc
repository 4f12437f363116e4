// SPDX-License-Identifier: Apache-2.0
// One voice across every subcommand (docs/cli.md, "One voice"): the error
// format, the exit-code table, messages in the words the user typed, job and
// start confirmations, and help that lists exactly the options each parser
// accepts.
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <capspawn/version.h>

#include "cli_runner.h"
#include "options_table.h"

namespace capspawn::cli_test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> Words(const std::string& path) {
  std::vector<std::string> words;
  size_t start = 0;
  for (size_t sp; (sp = path.find(' ', start)) != std::string::npos; start = sp + 1) {
    words.push_back(path.substr(start, sp - start));
  }
  words.push_back(path.substr(start));
  return words;
}

TEST(CliVoice, UsageErrorsHaveOneFormatInEveryCommand) {
  const std::regex usage(R"(capspawn: USAGE: (.+): (.+) \(see 'capspawn (.+) --help'\)\n)");
  for (const capspawn::cli::CommandOptions& c : capspawn::cli::AllCommandOptions()) {
    if (c.path == "launcherd") continue;  // the daemon's own voice: capspawn-launcherd(8)
    // `elf` adopts these rules in its own change (tools/capspawn/cmd_elf.cc).
    if (c.path == "elf") continue;
    std::vector<std::string> args = Words(c.path);
    args.push_back("--no-such-option-anywhere");
    if (c.operands != capspawn::cli::Operands::kNone) args.push_back("x");
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << c.path << ": " << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(r.err, m, usage)) << c.path << ": " << r.err;
    EXPECT_EQ(m[1], c.path);
    EXPECT_EQ(m[3], c.path);
    EXPECT_TRUE(Contains(r.err, "'--no-such-option-anywhere'")) << r.err;
    EXPECT_EQ(r.out, "") << c.path;
  }
  CliResult r = RunCli({"frobnicate"});
  EXPECT_EQ(r.err, "capspawn: USAGE: unknown command 'frobnicate' (see 'capspawn --help')\n");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CliVoice, FailuresHaveOneFormatAndExit125) {
  const std::regex failure(R"(capspawn: [A-Z_]+: .+\n)");
  const std::vector<std::vector<std::string>> cases = {
      {"run", "--", "/nonexistent/program"},
      {"start", "2147483647"},
      {"resolve", "--launcher", "/nonexistent/capspawn.sock", "name"},
      {"job", "kill", "/nonexistent-capspawn-job"},
      {"job", "ps", "/nonexistent-capspawn-job"},
      {"run", "--suspended", "--start-data", "/nonexistent/dir/file", "--", "/bin/true"},
  };
  for (const std::vector<std::string>& args : cases) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 125) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_TRUE(std::regex_match(r.err, failure)) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_FALSE(Contains(r.err, "CAPSPAWN_ERR_")) << r.err;
  }
}

TEST(CliVoice, QuietSilencesFailuresButNotTheExitCode) {
  CliResult r = RunCli({"run", "-q", "--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err, "");
}

// Every option a parser takes is in its help, and every option its help
// shows is one it takes: a flag added to one but not the other fails here.
TEST(CliVoice, HelpListsExactlyTheOptionsEachParserTakes) {
  const std::regex flag(R"((^|[\s\[,(|])(--[a-z][a-z0-9-]*))");
  for (const capspawn::cli::CommandOptions& c : capspawn::cli::AllCommandOptions()) {
    std::vector<std::string> args = Words(c.path);
    args.push_back("--help");
    CliResult r = RunCli(args);
    ASSERT_EQ(r.exit_code, 0) << c.path << r.err;
    std::set<std::string> table;
    for (const option* o = c.long_options; o->name != nullptr; ++o) {
      table.insert(std::string("--") + o->name);
      EXPECT_TRUE(Contains(r.out, std::string("--") + o->name)) << c.path << ": --" << o->name;
    }
    // Lines of the options sections start with the flag; other prose may
    // name other commands' flags, so only "  --flag" at a line start counts.
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      static const std::regex option_line(R"(^\s{2,8}(-[a-zA-Z], )?(--[a-z][a-z0-9-]*))");
      if (std::regex_search(line, m, option_line)) {
        EXPECT_TRUE(table.count(m[2]))
            << c.path << " --help shows " << m[2] << ", which its parser does not take";
      }
    }
  }
}

TEST(CliVoice, OneVersionEverywhere) {
  EXPECT_EQ(std::string(CAPSPAWN_VERSION_STRING), CAPSPAWN_TEST_VERSION);
  EXPECT_EQ(std::to_string(CAPSPAWN_VERSION_MAJOR) + "." + std::to_string(CAPSPAWN_VERSION_MINOR) +
                "." + std::to_string(CAPSPAWN_VERSION_PATCH),
            CAPSPAWN_TEST_VERSION);
  EXPECT_EQ(RunCli({"--version"}).out, std::string("capspawn ") + CAPSPAWN_TEST_VERSION + "\n");
  EXPECT_EQ(RunCli({"launcherd", "--version"}).out,
            std::string("capspawn-launcherd ") + CAPSPAWN_TEST_VERSION + "\n");
  FILE* p = popen(CAPSPAWN_TEST_LAUNCHERD " --version", "r");
  ASSERT_NE(p, nullptr);
  char buf[128] = "";
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0);
  EXPECT_EQ(std::string(buf, n), std::string("capspawn-launcherd ") + CAPSPAWN_TEST_VERSION + "\n");
}

// The library speaks of action indices and C constants; capspawn says which
// option the user typed, and the flag's spelling.
TEST(CliVoice, MessagesNameTheOptionTyped) {
  CliResult r = RunCli({"run", "--env", "A=1", "--fd", "5=1", "--handle", "user0=1", "--handle",
                        "user0=2", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err.rfind("capspawn: ALREADY_EXISTS: --handle user0=2: ", 0), 0u) << r.err;
  EXPECT_FALSE(Contains(r.err, "action ")) << r.err;

  r = RunCli({"run", "--no-clone=namespace,ldsvc", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(Contains(r.err, "--ldsvc or --clone=ldsvc")) << r.err;
  EXPECT_TRUE(Contains(r.err, "no --clone=namespace")) << r.err;
  EXPECT_FALSE(Contains(r.err, "CLONE_NAMESPACE")) << r.err;
  EXPECT_FALSE(Contains(r.err, "PA_LDSVC_LOADER")) << r.err;

  r = RunCli({"run", "--handle", "clock_utc=1", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(Contains(r.err,
                       "--handle clock_utc=1: a clock_utc handle together with "
                       "--clone=utc-clock"))
      << r.err;
}

TEST(CliVoice, CloneListWithoutStdioIsSaid) {
  CliResult r = RunCli({"run", "--clone=namespace,ldsvc", "--", "/bin/echo", "hello"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "the child's stdout is /dev/null";
  EXPECT_EQ(r.err,
            "capspawn: warning: --clone=namespace,ldsvc replaces the default set (all): the child "
            "gets no stdio, its fds 0-2 are /dev/null; add 'stdio' to the list to keep them\n");
  // Said only when nothing else hands stdio over.
  r = RunCli({"run", "--clone=namespace,ldsvc", "--fd", "1", "--", "/bin/echo", "hello"});
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "");
  r = RunCli({"run", "--clone=namespace,ldsvc,stdio", "--", "/bin/echo", "hello"});
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "");
  r = RunCli({"run", "-q", "--clone=namespace,ldsvc", "--", "/bin/echo", "hello"});
  EXPECT_EQ(r.err, "");
  // --no-clone=stdio says it outright: no warning.
  r = RunCli({"run", "--no-clone=stdio", "--", "/bin/echo", "hello"});
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace capspawn::cli_test
