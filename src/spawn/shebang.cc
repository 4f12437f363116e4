// SPDX-License-Identifier: Apache-2.0
#include "spawn/shebang.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace capspawn::spawn {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Blanks at both ends go, as the kernel's binfmt_script drops them; a '\r'
// stays, as in the kernel and fdio (a CRLF script names "sh\r").
std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::optional<Shebang>> ParseShebang(std::span<const uint8_t> head, bool whole_file) {
  if (head.size() < 2 || head[0] != '#' || head[1] != '!') return std::optional<Shebang>();
  // As fdio: the first line, newline included, must fit in kMaxShebangLine bytes.
  const size_t scan = std::min(head.size(), kMaxShebangLine);
  const auto* begin = reinterpret_cast<const char*>(head.data());
  const void* nl = std::memchr(begin, '\n', scan);
  size_t len;
  if (nl) {
    len = static_cast<size_t>(static_cast<const char*>(nl) - begin);
  } else if (whole_file && head.size() < kMaxShebangLine) {
    len = head.size();
  } else {
    return Error(CAPSPAWN_ERR_OUT_OF_RANGE, "#! line does not end within the first " +
                                                std::to_string(kMaxShebangLine) + " bytes");
  }
  std::string_view line(begin + 2, len - 2);
  if (line.find('\0') != std::string_view::npos) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "#! line contains a NUL byte");
  }
  Shebang out;
  // fdio's prefix is "#!resolve " with one space: the name is the rest of the
  // line as it is. "#!resolve\tname" or a bare "#!resolve" is an ordinary #!
  // line whose interpreter is "resolve".
  constexpr std::string_view kResolve = "resolve ";
  if (line.substr(0, kResolve.size()) == kResolve) {
    out.resolve = true;
    out.interpreter = std::string(line.substr(kResolve.size()));
    if (out.interpreter.empty()) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "#!resolve line names nothing to resolve");
    }
    return std::optional<Shebang>(std::move(out));
  }
  line = Trim(line);
  size_t end = 0;
  while (end < line.size() && !IsBlank(line[end])) ++end;
  if (end == 0) return Error(CAPSPAWN_ERR_INVALID_ARGS, "#! line names no interpreter");
  out.interpreter = std::string(line.substr(0, end));
  std::string_view rest = Trim(line.substr(end));
  if (!rest.empty()) out.arg = std::string(rest);
  return std::optional<Shebang>(std::move(out));
}

}  // namespace capspawn::spawn
