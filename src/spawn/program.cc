// SPDX-License-Identifier: Apache-2.0
#include "spawn/program.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "resolver/client.h"
#include "resolver/resolver.h"
#include "spawn/request.h"
#include "spawn/shebang.h"

namespace capspawn::spawn {
namespace {

// One read covers the ELF header, the program headers of ordinary binaries and
// any #! line.
constexpr size_t kHeadSize = 4096;

bool HasDotDot(std::string_view path) {
  for (size_t at = path.find(".."); at != std::string_view::npos; at = path.find("..", at + 1)) {
    if ((at == 0 || path[at - 1] == '/') && (at + 2 == path.size() || path[at + 2] == '/')) {
      return true;
    }
  }
  return false;
}

Error OpenError(int err, const std::string& path) {
  std::string what = "open " + path;
  if (err == ENOENT || err == ENOTDIR) {
    std::string hint;
    // fdio removes ".." from the text; Linux walks it (docs/spawn.md).
    if (HasDotDot(path)) hint = " (\"..\" is resolved by the kernel: what precedes it must exist)";
    return Error(CAPSPAWN_ERR_NOT_FOUND, what + ": " + std::strerror(err) + hint);
  }
  return Error::FromErrno(err, what);
}

// The regular-file and execute-bit checks, and the size, from one fstat.
Result<ProgramFile> Describe(UniqueFd fd, bool readable, const std::string& what,
                             capspawn_status_t not_regular) {
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Error::FromErrno(errno, "fstat " + what);
  if (!S_ISREG(st.st_mode)) return Error(not_regular, what + " is not a regular file");
  if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED, what + " is not executable (no x permission bit)");
  }
  return ProgramFile{std::move(fd), static_cast<uint64_t>(st.st_size), readable};
}

}  // namespace

Result<ProgramFile> OpenProgramPath(const char* path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  bool readable = true;
  if (!fd && errno == ENXIO) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE, std::string(path) + " is not a regular file");
  }
  if (!fd && errno == EACCES) {
    // An execute-only file: exec it without reading it first.
    fd.reset(open(path, O_PATH | O_CLOEXEC));
    if (!fd) {
      return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                   std::string("open ") + path + ": " + std::strerror(errno));
    }
    readable = false;
  }
  if (!fd) return OpenError(errno, path);
  return Describe(std::move(fd), readable, path, CAPSPAWN_ERR_BAD_HANDLE);
}

Result<ProgramFile> AdoptProgramFd(UniqueFd fd) {
  const std::string what = "executable fd " + std::to_string(fd.get());
  int fl = fcntl(fd.get(), F_GETFL);
  if (!fd || fl < 0) return Error(CAPSPAWN_ERR_BAD_HANDLE, what + " is not an open fd");
  if ((fl & O_PATH) == 0 && (fl & O_ACCMODE) == O_WRONLY) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED, what + " is not readable");
  }
  return Describe(std::move(fd), (fl & O_PATH) == 0, what, CAPSPAWN_ERR_WRONG_TYPE);
}

Result<resolver::Resolution> ResolveName(const std::string& name, const SpawnContext& context) {
  if (context.package_roots) return context.package_roots->Resolve(name);
  if (context.launcher_socket) return resolver::ResolveVia(context.launcher_socket, name);
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
               "#!resolve needs a resolver: set CAPSPAWN_LAUNCHER to a capspawn-launcherd socket");
}

Result<Program> ResolveProgram(ProgramFile file, const std::string& script_path,
                               const char* const* argv, const SpawnContext& context) {
  Program out;
  std::string current = script_path;
  bool seen_plain = false, seen_resolve = false;
  for (int depth = 0;; ++depth) {
    if (!file.readable) break;  // execute-only: the kernel reads it, we cannot
    uint8_t head[kHeadSize];
    ssize_t n = pread(file.fd.get(), head, sizeof head, 0);
    if (n < 0) return Error::FromErrno(errno, "read " + current);
    std::span<const uint8_t> bytes(head, static_cast<size_t>(n));
    if (n == 0) {
      // fdio reads the first line from the VMO, which fails past its end.
      return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                   current + ": the file is empty (not even a '#!' line or an ELF header)");
    }
    if (n >= 4 && std::memcmp(head, ELFMAG, SELFMAG) == 0) {
      Result<elf::ElfHeaders> h = elf::ParseHeaders(file.fd.get(), file.size, bytes);
      if (!h.ok()) return h.error().Context(current);
      out.headers = std::move(h.value());
      break;
    }
    Result<std::optional<Shebang>> sb = ParseShebang(bytes, static_cast<size_t>(n) < sizeof head);
    if (!sb.ok()) return sb.error().Context(current);
    if (!sb->has_value()) {
      // Fuchsia reports an unloadable file as it reports a bad ELF.
      return Error(elf::kBadFormatStatus, current + ": not an ELF executable nor a #! script");
    }
    const Shebang& s = **sb;
    if (depth + 1 > kMaxShebangDepth) {
      return Error(CAPSPAWN_ERR_IO_INVALID,
                   current + ": more than " + std::to_string(kMaxShebangDepth) + " levels of #!");
    }
    if (s.resolve) {
      if (seen_plain) {
        return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                     current + ": #!resolve reached through #! (the two kinds do not mix)");
      }
      seen_resolve = true;
      // As fdio: the resolved program replaces the file, argv stays as it is.
      Result<resolver::Resolution> r = ResolveName(s.interpreter, context);
      if (!r.ok()) {
        // fdio reports a name the resolver does not know as an internal error.
        capspawn_status_t st =
            r.status() == CAPSPAWN_ERR_NOT_FOUND ? CAPSPAWN_ERR_INTERNAL : r.status();
        return Error(st, current + ": #!resolve " + s.interpreter + ": " + r.error().message());
      }
      out.loader = std::move(r->loader);
      Result<ProgramFile> resolved = AdoptProgramFd(std::move(r->executable));
      if (!resolved.ok()) return resolved.error().Context("#!resolve " + s.interpreter);
      file = std::move(resolved.value());
      current = "#!resolve " + s.interpreter;
      continue;
    }
    if (seen_resolve) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   current + ": a #! line reached through #!resolve (the two kinds do not mix)");
    }
    seen_plain = true;
    if (!context.interpreter_paths_allowed) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   current +
                       ": the launcher does not open #! interpreters on a client's behalf "
                       "(the client follows #! before it sends the program)");
    }
    // argv becomes: interpreter, [its argument], the script, the old argv[1..].
    std::vector<std::string> next;
    next.push_back(s.interpreter);
    if (s.arg) next.push_back(*s.arg);
    next.push_back(current);
    if (out.argv) {
      next.insert(next.end(), out.argv->begin() + 1, out.argv->end());
    } else if (argv && argv[0]) {
      for (size_t i = 1; argv[i]; ++i) next.emplace_back(argv[i]);
    }
    out.argv = std::move(next);
    Result<ProgramFile> interp = OpenProgramPath(s.interpreter.c_str());
    if (!interp.ok()) return interp.error().Context("#! interpreter of " + current);
    file = std::move(interp.value());
    current = s.interpreter;
  }
  out.fd = std::move(file.fd);
  return out;
}

Status CheckLoader(const Program& program, int loader_fd, bool clone_namespace) {
  if (clone_namespace || loader_fd < 0 || !program.headers || !program.headers->is_dynamic()) {
    return {};
  }
  Result<UniqueFd> linker = elf::GetDynamicLinker(loader_fd, *program.headers);
  if (!linker.ok()) return linker.error().Context("the program's loader");
  return {};
}

Error NameTheInterpreter(const Error& e, const Program& program) {
  if (e.status() != CAPSPAWN_ERR_NOT_FOUND || !program.headers || !program.headers->interp) {
    return e;
  }
  return Error(e.status(), e.message() + " (the program's interpreter " + *program.headers->interp +
                               " is not in the child's filesystem)");
}

Error FdioStatus(const Error& e) {
  if (e.status() != CAPSPAWN_ERR_NOT_FOUND) return e;
  return Error(CAPSPAWN_ERR_INTERNAL, e.message());
}

}  // namespace capspawn::spawn
