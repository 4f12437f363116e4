#include "spawn/program.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "spawn/shebang.h"

namespace capspawn::spawn {
namespace {

// One read covers the ELF header, the program headers of ordinary binaries and
// any #! line.
constexpr size_t kHeadSize = 4096;

Error OpenError(int err, const std::string& path) {
  std::string what = "open " + path;
  if (err == ENOENT || err == ENOTDIR) {
    return Error(CAPSPAWN_ERR_NOT_FOUND, what + ": " + std::strerror(err));
  }
  return Error::FromErrno(err, what);
}

Status CheckStat(int fd, const std::string& what, capspawn_status_t not_regular) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Error::FromErrno(errno, "fstat " + what);
  if (!S_ISREG(st.st_mode)) return Error(not_regular, what + " is not a regular file");
  if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED, what + " is not executable (no x permission bit)");
  }
  return {};
}

}  // namespace

Result<UniqueFd> OpenProgramPath(const char* path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd && errno == ENXIO) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE, std::string(path) + " is not a regular file");
  }
  if (!fd && errno == EACCES) {
    // An execute-only file: exec it without reading it first.
    fd.reset(open(path, O_PATH | O_CLOEXEC));
    if (!fd)
      return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                   std::string("open ") + path + ": " + std::strerror(errno));
  }
  if (!fd) return OpenError(errno, path);
  Status st = CheckStat(fd.get(), path, CAPSPAWN_ERR_BAD_HANDLE);
  if (!st.ok()) return st.error();
  return fd;
}

Status CheckProgramFd(int fd) {
  const std::string what = "executable fd " + std::to_string(fd);
  int fl = fcntl(fd, F_GETFL);
  if (fd < 0 || fl < 0) return Error(CAPSPAWN_ERR_BAD_HANDLE, what + " is not an open fd");
  if ((fl & O_PATH) == 0 && (fl & O_ACCMODE) == O_WRONLY) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED, what + " is not readable");
  }
  return CheckStat(fd, what, CAPSPAWN_ERR_WRONG_TYPE);
}

Result<Program> ResolveProgram(UniqueFd fd, const std::string& script_path,
                               const char* const* argv) {
  Program out;
  std::string current = script_path;
  for (int depth = 0;; ++depth) {
    const bool readable = (fcntl(fd.get(), F_GETFL) & O_PATH) == 0;
    if (!readable) break;  // execute-only: the kernel reads it, we cannot
    uint8_t head[kHeadSize];
    ssize_t n = pread(fd.get(), head, sizeof head, 0);
    if (n < 0) return Error::FromErrno(errno, "read " + current);
    std::span<const uint8_t> bytes(head, static_cast<size_t>(n));
    if (n >= 4 && std::memcmp(head, ELFMAG, SELFMAG) == 0) {
      Result<elf::ElfHeaders> h = elf::ParseHeaders(fd.get(), bytes);
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
    if (s.resolve) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   current + ": #!resolve needs the resolver, which is not built yet");
    }
    if (depth + 1 > kMaxShebangDepth) {
      return Error(CAPSPAWN_ERR_IO_INVALID,
                   current + ": more than " + std::to_string(kMaxShebangDepth) + " levels of #!");
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
    Result<UniqueFd> interp = OpenProgramPath(s.interpreter.c_str());
    if (!interp.ok()) return interp.error().Context("#! interpreter of " + current);
    fd = std::move(interp.value());
    current = s.interpreter;
  }
  out.fd = std::move(fd);
  return out;
}

}  // namespace capspawn::spawn
