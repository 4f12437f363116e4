// SPDX-License-Identifier: Apache-2.0
// ShebangParse: the first line of a script, read as fdio's handle_interpreters
// reads it, with the one Linux choice docs/spawn.md lists (trailing blanks go,
// as in the kernel's binfmt_script).
#include <string>

#include <gtest/gtest.h>

#include "spawn/shebang.h"

namespace capspawn_test {
namespace {

using capspawn::spawn::ParseShebang;
using capspawn::spawn::Shebang;

Shebang Parse(const std::string& text) {
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  capspawn::Result<std::optional<Shebang>> r = ParseShebang(bytes, true);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  if (!r.ok() || !r->has_value()) return {};
  return **r;
}

// fdio's prefix is "#!resolve " (kResolvePrefix, one space).
TEST(ShebangParse, ResolveNeedsItsSpace) {
  Shebang s = Parse("#!resolve fuchsia-pkg://host/pkg#bin/app\n");
  EXPECT_TRUE(s.resolve);
  EXPECT_EQ(s.interpreter, "fuchsia-pkg://host/pkg#bin/app");
  EXPECT_FALSE(s.arg);
}

// "#!resolve" then a tab is not the prefix: fdio parses it as an ordinary #!
// line (parse_interp_spec splits at blanks) whose interpreter is "resolve".
TEST(ShebangParse, ResolveFollowedByTabIsAnOrdinaryShebang) {
  Shebang s = Parse("#!resolve\tfoo bar\n");
  EXPECT_FALSE(s.resolve);
  EXPECT_EQ(s.interpreter, "resolve");
  EXPECT_EQ(s.arg, "foo bar");
  s = Parse("#!resolve\n");
  EXPECT_FALSE(s.resolve);
  EXPECT_EQ(s.interpreter, "resolve");
  EXPECT_FALSE(s.arg);
}

// fdio hands the resolver the rest of the line as it is.
TEST(ShebangParse, ResolveNameIsTakenAsWritten) {
  Shebang s = Parse("#!resolve  spaced name \n");
  EXPECT_TRUE(s.resolve);
  EXPECT_EQ(s.interpreter, " spaced name ");
}

TEST(ShebangParse, ResolveWithoutANameIsInvalidArgs) {
  const std::string text = "#!resolve \n";
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_EQ(ParseShebang(bytes, true).status(), CAPSPAWN_ERR_INVALID_ARGS);
}

// Blanks after "#!" are skipped (fdio and the kernel); blanks at the end of
// the line are dropped (the kernel; fdio keeps them in the argument).
TEST(ShebangParse, BlanksAroundTheInterpreter) {
  Shebang s = Parse("#! \t/bin/sh  -e  x \t\n");
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_EQ(s.arg, "-e  x");
}

// A CRLF line keeps its '\r', as in the kernel and fdio: the interpreter's
// name ends with it.
TEST(ShebangParse, CarriageReturnIsKept) {
  Shebang s = Parse("#!/bin/sh\r\necho\r\n");
  EXPECT_EQ(s.interpreter, "/bin/sh\r");
  s = Parse("#!/bin/sh -e\r\n");
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_EQ(s.arg, "-e\r");
}

// fdio reads the line as a C string, so a NUL ends it silently; capspawn
// refuses a line it would otherwise cut short.
TEST(ShebangParse, NulInTheLineIsInvalidArgs) {
  const std::string text("#!/bin/sh\0-x\n", 14);
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  capspawn::Result<std::optional<Shebang>> r = ParseShebang(bytes, true);
  EXPECT_EQ(r.status(), CAPSPAWN_ERR_INVALID_ARGS);
}

}  // namespace
}  // namespace capspawn_test
