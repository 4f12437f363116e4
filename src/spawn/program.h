// SPDX-License-Identifier: Apache-2.0
// Finding what to exec: open the file, follow #! lines, check the ELF headers,
// all before any process exists.
#ifndef CAPSPAWN_SRC_SPAWN_PROGRAM_H_
#define CAPSPAWN_SRC_SPAWN_PROGRAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "resolver/resolver.h"

namespace capspawn::spawn {

struct SpawnContext;

struct Program {
  UniqueFd fd;  // the ELF file to execveat
  // Set when #! lines were followed: the complete argv to use instead of the caller's.
  std::optional<std::vector<std::string>> argv;
  // Parsed headers; absent for an execute-only file we could not read.
  std::optional<elf::ElfHeaders> headers;
  // The loader (library directory) the resolver gave with the last #!resolve.
  UniqueFd loader;
};

// A program file, checked once: what later steps need to know of it.
struct ProgramFile {
  UniqueFd fd;
  uint64_t size = 0;
  bool readable = true;  // false: an execute-only file opened O_PATH
};

// Opens `path` for exec. NOT_FOUND, ACCESS_DENIED, BAD_HANDLE (not a regular
// file). ".." is the kernel's: it walks the directory before it.
Result<ProgramFile> OpenProgramPath(const char* path);

// Takes an fd given as the program: BAD_HANDLE (not open), WRONG_TYPE (not a
// regular file), ACCESS_DENIED (not readable nor O_PATH).
Result<ProgramFile> AdoptProgramFd(UniqueFd fd);

// Follows #! and #!resolve (up to kMaxShebangDepth levels, the two kinds
// never mixed) from `file` and validates the final ELF. `script_path` is what
// replaces argv[0] when `file` is a script. #!resolve goes where the context
// says; a #! path is refused (NOT_SUPPORTED) where the context forbids them.
// An empty file is OUT_OF_RANGE (as fdio's read of the first line).
Result<Program> ResolveProgram(ProgramFile file, const std::string& script_path,
                               const char* const* argv, const SpawnContext& context);

// #!resolve NAME as the context says: its package roots, or its launcher's
// Resolver.
Result<resolver::Resolution> ResolveName(const std::string& name, const SpawnContext& context);

// As Fuchsia's get_dynamic_linker, before any process exists: a PT_INTERP
// program given a loader (a library directory) without a private namespace
// needs its dynamic linker in that loader. NOT_FOUND names the interpreter
// and the loader (fdio's callers see INTERNAL, FdioStatus).
Status CheckLoader(const Program& program, int loader_fd, bool clone_namespace);

// The exec of a PT_INTERP program fails with ENOENT (NOT_FOUND) only when
// its interpreter is missing where the child looks: say which file.
Error NameTheInterpreter(const Error& e, const Program& program);

// fdio_spawn_vmo's last step: NOT_FOUND from anything but opening the path
// means a dependency of the launch was missing (a #! interpreter, the dynamic
// linker, a file that is not a program), and is reported as INTERNAL so that
// callers do not read it as "no such program". The message is kept.
Error FdioStatus(const Error& e);

}  // namespace capspawn::spawn

#endif  // CAPSPAWN_SRC_SPAWN_PROGRAM_H_
