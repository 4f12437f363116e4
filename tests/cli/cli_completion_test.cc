// SPDX-License-Identifier: Apache-2.0
// The bash and zsh completions the build generates: every command and every
// option of every parser's table is in them, and bash really completes them.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_runner.h"
#include "commands.h"
#include "options_table.h"

namespace capspawn::cli_test {
namespace {

// The build's scripts, or the installed ones (CAPSPAWN_TEST_BASH_COMPLETION,
// CAPSPAWN_TEST_ZSH_COMPLETION: the packaging stage).
const char* Script(const char* variable, const char* built) {
  const char* installed = getenv(variable);
  return installed != nullptr && *installed != '\0' ? installed : built;
}
const char* BashScript() {
  return Script("CAPSPAWN_TEST_BASH_COMPLETION", CAPSPAWN_BASH_COMPLETION);
}
const char* ZshScript() { return Script("CAPSPAWN_TEST_ZSH_COMPLETION", CAPSPAWN_ZSH_COMPLETION); }

std::string ReadFile(const char* path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs `script` with bash; its stdout and exit status.
std::string Bash(const std::string& script, int* status) {
  char path[] = "/tmp/capspawn-completion-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, script.data(), script.size()), static_cast<ssize_t>(script.size()));
  close(fd);
  FILE* p = popen(("bash --norc --noprofile " + std::string(path) + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *status = pclose(p);
  unlink(path);
  return out;
}

std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// What bash offers for the command line `words` (the cursor in the last
// word), split the way bash splits it (COMP_WORDBREAKS: '=' apart).
std::set<std::string> Complete(const std::vector<std::string>& words, bool with_bash_completion) {
  std::vector<std::string> split;
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (w.rfind("--", 0) == 0 && eq != std::string::npos) {
      split.push_back(w.substr(0, eq));
      split.push_back("=");
      if (eq + 1 < w.size()) split.push_back(w.substr(eq + 1));
    } else {
      split.push_back(w);
    }
  }
  if (!words.empty() && words.back().size() && words.back().back() == '=') split.push_back("");
  std::string script;
  if (with_bash_completion) script += "source /usr/share/bash-completion/bash_completion\n";
  script += "source " + Quoted(BashScript()) + "\nCOMP_WORDS=(";
  for (const std::string& w : split) script += Quoted(w) + " ";
  script += ")\nCOMP_CWORD=" + std::to_string(split.size() - 1) + "\n";
  script += "_capspawn\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
  int status = 0;
  std::string out = Bash(script, &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  std::set<std::string> offered;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) offered.insert(line);
  return offered;
}

std::vector<std::string> Words(const std::string& path) {
  std::vector<std::string> words = {"capspawn"};
  std::istringstream in(path);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

class BashCompletion : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && access("/usr/share/bash-completion/bash_completion", R_OK) != 0) {
      GTEST_SKIP() << "bash-completion is not installed";
    }
  }
};

TEST_P(BashCompletion, OffersEveryOptionOfEveryCommand) {
  for (const capspawn::cli::CommandOptions& c : capspawn::cli::AllCommandOptions()) {
    std::vector<std::string> words = Words(c.path);
    words.push_back("--");
    std::set<std::string> offered = Complete(words, GetParam());
    for (const option* o = c.long_options; o->name != nullptr; ++o) {
      std::string flag = std::string("--") + o->name + (o->has_arg != no_argument ? "=" : "");
      EXPECT_TRUE(offered.count(flag)) << c.path << ": " << flag;
    }
  }
}

TEST_P(BashCompletion, CommandsSubcommandsAndValues) {
  std::set<std::string> top = Complete({"capspawn", ""}, GetParam());
  for (const capspawn::cli::Command& c : capspawn::cli::Commands()) {
    EXPECT_TRUE(top.count(c.name)) << c.name;
  }
  EXPECT_TRUE(top.count("help"));
  std::set<std::string> job = Complete({"capspawn", "job", ""}, GetParam());
  for (const char* sub :
       {"create", "list", "ps", "kill", "freeze", "thaw", "limit", "policy", "destroy"}) {
    EXPECT_TRUE(job.count(sub)) << sub;
  }
  EXPECT_EQ(Complete({"capspawn", "run", "--clone=st"}, GetParam()),
            std::set<std::string>{"stdio"});
  EXPECT_EQ(Complete({"capspawn", "run", "--no-clone=stdio,env"}, GetParam()),
            std::set<std::string>{"stdio,environ"});
  EXPECT_EQ(Complete({"capspawn", "completion", ""}, GetParam()),
            (std::set<std::string>{"bash", "zsh"}));
  std::set<std::string> policy = Complete({"capspawn", "job", "policy", "x", "d"}, GetParam());
  EXPECT_TRUE(policy.count("deny"));
  // After --, run's operands are a command line of their own.
  std::set<std::string> program =
      Complete({"capspawn", "run", "--env", "A=1", "--", "bas"}, GetParam());
  EXPECT_TRUE(program.count("bash")) << "commands from PATH";
  program = Complete({"capspawn", "run", "/bin/true", "--cl"}, GetParam());
  EXPECT_FALSE(program.count("--clone=")) << "the program's own options are not capspawn's";
  // A value after an option that takes one is not taken for an option.
  std::set<std::string> fd = Complete({"capspawn", "run", "--fd", "--"}, GetParam());
  EXPECT_FALSE(fd.count("--vmo"));
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutBashCompletion, BashCompletion, ::testing::Bool());

TEST(ZshCompletion, IsValidAndHasEveryOption) {
  const std::string zsh = ReadFile(ZshScript());
  ASSERT_EQ(zsh.rfind("#compdef capspawn\n", 0), 0u);
  for (const capspawn::cli::CommandOptions& c : capspawn::cli::AllCommandOptions()) {
    for (const option* o = c.long_options; o->name != nullptr; ++o) {
      std::string spec = std::string("'*--") + o->name + (o->has_arg != no_argument ? "=:" : "'");
      EXPECT_NE(zsh.find(spec), std::string::npos) << c.path << ": --" << o->name;
    }
  }
  for (const capspawn::cli::Command& c : capspawn::cli::Commands()) {
    EXPECT_NE(zsh.find(std::string("'") + c.name + ":"), std::string::npos) << c.name;
  }
  if (access("/usr/bin/zsh", X_OK) != 0) GTEST_SKIP() << "zsh is not installed";
  const std::string command = "zsh -n " + std::string(ZshScript()) + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  char buf[1024];
  std::string out;
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0) << out;
}

TEST(CompletionScripts, AreWhatTheBinaryPrints) {
  // The installed files are the binary's output, byte for byte.
  for (const auto& [shell, path] :
       {std::pair<std::string, const char*>{"bash", BashScript()}, {"zsh", ZshScript()}}) {
    FILE* p = popen((std::string(CliPath()) + " completion " + shell).c_str(), "r");
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    EXPECT_EQ(WEXITSTATUS(pclose(p)), 0);
    EXPECT_EQ(out, ReadFile(path)) << shell;
  }
}

}  // namespace
}  // namespace capspawn::cli_test
