// SPDX-License-Identifier: Apache-2.0
// The first line of a script: "#!interpreter [arg]" or "#!resolve name".
#ifndef CAPSPAWN_SRC_SPAWN_SHEBANG_H_
#define CAPSPAWN_SRC_SPAWN_SHEBANG_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <capspawn/result.h>

namespace capspawn::spawn {

// fdio's limit on the first line, newline included: a path (2048) plus "#!resolve ".
inline constexpr size_t kMaxShebangLine = 2058;
// How many #! levels are followed before IO_INVALID.
inline constexpr int kMaxShebangDepth = 255;

struct Shebang {
  bool resolve = false;            // "#!resolve NAME": exactly one space after "resolve"
  std::string interpreter;         // the path (blanks trimmed), or the name (as written)
  std::optional<std::string> arg;  // everything after the interpreter, as one argument
};

// `head` is the start of the file; `whole_file` says it holds all of it.
// nullopt: not a script. Errors: OUT_OF_RANGE when no newline falls within the
// first kMaxShebangLine bytes (a file shorter than that may end without one), INVALID_ARGS for a
// line naming nothing or holding NUL.
Result<std::optional<Shebang>> ParseShebang(std::span<const uint8_t> head, bool whole_file);

}  // namespace capspawn::spawn

#endif  // CAPSPAWN_SRC_SPAWN_SHEBANG_H_
