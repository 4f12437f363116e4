// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over the #!/#!resolve line parser. Beyond "no crash, no
// sanitizer report", it checks what the parser promises its callers.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "spawn/shebang.h"

namespace {

namespace spawn = capspawn::spawn;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// No blank at either end ('\r' is not a blank: the kernel keeps it too).
bool Trimmed(std::string_view s) { return !s.empty() && !IsBlank(s.front()) && !IsBlank(s.back()); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The last byte picks whether the input is the whole file or only its head.
  const bool whole_file = size > 0 && (data[size - 1] & 1);
  const std::span<const uint8_t> head(data, size);
  capspawn::Result<std::optional<spawn::Shebang>> r = spawn::ParseShebang(head, whole_file);
  const bool is_script = size >= 2 && data[0] == '#' && data[1] == '!';
  if (!is_script) {
    Check(r.ok() && !r->has_value());
    return 0;
  }
  if (!r.ok()) {
    const capspawn_status_t st = r.status();
    Check(st == CAPSPAWN_ERR_OUT_OF_RANGE || st == CAPSPAWN_ERR_INVALID_ARGS);
    Check(!r.error().message().empty());
    // OUT_OF_RANGE exactly when no newline is within the limit (and the file
    // does not end before it).
    const size_t scan = std::min(size, spawn::kMaxShebangLine);
    const bool has_nl = std::memchr(data, '\n', scan) != nullptr;
    Check((st == CAPSPAWN_ERR_OUT_OF_RANGE) ==
          (!has_nl && !(whole_file && size < spawn::kMaxShebangLine)));
    return 0;
  }
  Check(r->has_value());
  const spawn::Shebang& s = **r;
  // Everything returned comes from the first line and fits in it.
  Check(s.interpreter.size() + (s.arg ? s.arg->size() : 0) < spawn::kMaxShebangLine);
  Check(s.interpreter.find('\0') == std::string::npos);
  Check(s.interpreter.find('\n') == std::string::npos);
  if (s.resolve) {
    // fdio's "#!resolve " prefix, then the name exactly as written.
    Check(!s.arg.has_value() && !s.interpreter.empty());
    Check(size >= 10 && std::memcmp(data, "#!resolve ", 10) == 0);
    Check(std::memcmp(data + 10, s.interpreter.data(), s.interpreter.size()) == 0);
  } else {
    Check(Trimmed(s.interpreter));
    Check(s.interpreter.find(' ') == std::string::npos);
    Check(s.interpreter.find('\t') == std::string::npos);
    if (s.arg) Check(Trimmed(*s.arg) && s.arg->find('\n') == std::string::npos);
  }
  return 0;
}
