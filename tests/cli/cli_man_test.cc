// SPDX-License-Identifier: Apache-2.0
// The man pages the build generates document every option each parser takes
// (as the help and the completions do), and every command has its page.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "commands.h"
#include "options_table.h"

namespace capspawn::cli_test {
namespace {

std::string Page(const std::string& name) {
  std::ifstream f(std::string(CAPSPAWN_MAN_DIR) + "/" + name);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The page of a command path: "job kill" -> capspawn-job.1, "launcherd" -> (8).
std::string PageOf(const std::string& path) {
  if (path == "launcherd") return "capspawn-launcherd.8";
  return "capspawn-" + path.substr(0, path.find(' ')) + ".1";
}

TEST(ManPages, EveryOptionOfEveryCommandIsDocumented) {
  for (const capspawn::cli::CommandOptions& c : capspawn::cli::AllCommandOptions()) {
    const std::string page = Page(PageOf(c.path));
    ASSERT_FALSE(page.empty()) << PageOf(c.path);
    for (const option* o = c.long_options; o->name != nullptr; ++o) {
      // scdoc writes *--name* as \fB--name\fR.
      EXPECT_NE(page.find(std::string("\\fB--") + o->name), std::string::npos)
          << PageOf(c.path) << ": --" << o->name;
    }
  }
}

TEST(ManPages, EveryCommandIsInCapspawn1) {
  const std::string page = Page("capspawn.1");
  for (const capspawn::cli::Command& c : capspawn::cli::Commands()) {
    EXPECT_NE(page.find(std::string("\\fB") + c.name + "\\fR"), std::string::npos) << c.name;
  }
  for (const char* name :
       {"capspawn.7", "capspawn_spawn.3", "capspawn_job.3", "capspawn_create_without_starting.3",
        "capspawn_take_startup_handle.3", "capspawn-launcherd.8"}) {
    EXPECT_FALSE(Page(name).empty()) << name;
  }
}

}  // namespace
}  // namespace capspawn::cli_test
