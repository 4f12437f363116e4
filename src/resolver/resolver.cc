// SPDX-License-Identifier: Apache-2.0
#include "resolver/resolver.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <capspawn/spawn.h>

namespace capspawn::resolver {
namespace {

constexpr size_t kMaxComponent = 255;

bool ComponentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '+';
}

Status CheckComponent(std::string_view c, std::string_view name, const char* what) {
  auto bad = [&](const std::string& why) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "resolve name '" + std::string(name.substr(0, 256)) + "': " + what + " " + why);
  };
  if (c.empty()) return bad("is empty");
  if (c.size() > kMaxComponent) return bad("is longer than 255 bytes");
  if (c == "." || c == "..") return bad("is '" + std::string(c) + "'");
  for (char ch : c) {
    if (!ComponentChar(ch)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(ch));
      return bad(std::string("has the byte ") + hex + " (allowed: A-Z a-z 0-9 . _ + -)");
    }
  }
  return {};
}

// openat2 beneath `dir`: no absolute path, "..", or symlink leaves it, and no
// /proc magic link is followed.
int OpenBeneath(int dir, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long r = syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how);
  return r < 0 ? -1 : static_cast<int>(r);
}

Error OpenFailure(int err, const std::string& what) {
  if (err == EXDEV || err == ELOOP) {
    return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                 what + ": a symlink or '..' leads outside the package root");
  }
  if (err == ENOSYS) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED, what + ": openat2 needs Linux 5.6");
  }
  return Error::FromErrno(err, what);
}

}  // namespace

Result<ParsedName> ParseName(std::string_view name) {
  if (name.empty()) return Error(CAPSPAWN_ERR_INVALID_ARGS, "resolve name is empty");
  if (name.size() > CAPSPAWN_MAX_RESOLVE_NAME_SIZE) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "resolve name of " + std::to_string(name.size()) +
                                                " bytes is longer than " +
                                                std::to_string(CAPSPAWN_MAX_RESOLVE_NAME_SIZE));
  }
  ParsedName out;
  size_t slash = name.find('/');
  std::string_view package = name.substr(0, slash);
  std::string_view binary = slash == std::string_view::npos ? package : name.substr(slash + 1);
  Status st = CheckComponent(package, name, "the package");
  if (st.ok()) st = CheckComponent(binary, name, "the binary");
  if (!st.ok()) return st.error();
  out.package = package;
  out.binary = binary;
  return out;
}

Result<PackageRoots> PackageRoots::Open(const std::vector<std::string>& dirs) {
  PackageRoots roots;
  for (const std::string& d : dirs) {
    UniqueFd fd(open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return Error::FromErrno(errno, "open package root " + d);
    roots.roots_.push_back(std::move(fd));
    roots.paths_.push_back(d);
  }
  return roots;
}

Result<Resolution> PackageRoots::Resolve(std::string_view name) const {
  Result<ParsedName> parsed = ParseName(name);
  if (!parsed.ok()) return parsed.error();
  const std::string& package = parsed->package;
  for (size_t i = 0; i < roots_.size(); ++i) {
    const int root = roots_[i].get();
    const std::string where = paths_[i] + "/" + package;
    UniqueFd pkg(OpenBeneath(root, package, O_PATH | O_DIRECTORY));
    if (!pkg) {
      if (errno == ENOENT) continue;
      if (errno == ENOTDIR) continue;  // a file of that name is not a package
      return OpenFailure(errno, "open package " + where);
    }
    const std::string bin = package + "/bin/" + parsed->binary;
    Resolution out;
    out.executable.reset(OpenBeneath(root, bin, O_RDONLY | O_NONBLOCK));
    if (!out.executable && errno == EACCES) {
      out.executable.reset(OpenBeneath(root, bin, O_PATH));  // execute-only
    }
    if (!out.executable) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return Error(CAPSPAWN_ERR_NOT_FOUND,
                     "package '" + package + "' (" + where + ") has no bin/" + parsed->binary);
      }
      return OpenFailure(errno, "open " + paths_[i] + "/" + bin);
    }
    struct stat st;
    if (fstat(out.executable.get(), &st) != 0) {
      return Error::FromErrno(errno, "fstat " + paths_[i] + "/" + bin);
    }
    if (!S_ISREG(st.st_mode)) {
      return Error(CAPSPAWN_ERR_WRONG_TYPE, paths_[i] + "/" + bin + " is not a regular file");
    }
    // Executable by this process's effective ids (the launcher's worker
    // runs as its client): an execute-only file is fine, one it may neither
    // read nor execute is not.
    if (syscall(SYS_faccessat2, out.executable.get(), "", X_OK, AT_EMPTY_PATH | AT_EACCESS) != 0) {
      return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                   paths_[i] + "/" + bin + " is not executable: " + std::strerror(errno));
    }
    out.loader.reset(OpenBeneath(root, package + "/lib", O_PATH | O_DIRECTORY));
    if (!out.loader && errno != ENOENT) {
      return OpenFailure(errno, "open " + where + "/lib");
    }
    return out;
  }
  std::string searched;
  for (const std::string& p : paths_) searched += (searched.empty() ? "" : ", ") + p;
  return Error(CAPSPAWN_ERR_NOT_FOUND,
               "package '" + package + "' not found" +
                   (paths_.empty() ? " (no package roots configured)" : " in " + searched));
}

}  // namespace capspawn::resolver
