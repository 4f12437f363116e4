// Finding what to exec: open the file, follow #! lines, check the ELF headers,
// all before any process exists.
#ifndef CAPSPAWN_SRC_SPAWN_PROGRAM_H_
#define CAPSPAWN_SRC_SPAWN_PROGRAM_H_

#include <optional>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::spawn {

struct Program {
  UniqueFd fd;  // the ELF file to execveat
  // Set when #! lines were followed: the complete argv to use instead of the caller's.
  std::optional<std::vector<std::string>> argv;
  // Parsed headers; absent for an execute-only file we could not read.
  std::optional<elf::ElfHeaders> headers;
};

// Opens `path` for exec. NOT_FOUND, ACCESS_DENIED, BAD_HANDLE (not a regular file).
Result<UniqueFd> OpenProgramPath(const char* path);

// Checks an fd given as the program: BAD_HANDLE (not open), WRONG_TYPE (not a
// regular file), ACCESS_DENIED (not readable nor O_PATH).
Status CheckProgramFd(int fd);

// Follows #! (up to kMaxShebangDepth levels) from `fd` and validates the final
// ELF. `script_path` is what replaces argv[0] when `fd` is a script.
Result<Program> ResolveProgram(UniqueFd fd, const std::string& script_path,
                               const char* const* argv);

}  // namespace capspawn::spawn

#endif  // CAPSPAWN_SRC_SPAWN_PROGRAM_H_
