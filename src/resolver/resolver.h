// SPDX-License-Identifier: Apache-2.0
// The Resolver: a name ("PACKAGE" or "PACKAGE/BINARY") to an executable fd and
// a loader (the package's lib/ directory), looked up beneath configured
// package roots only. See docs/launcher.md for the name syntax.
#ifndef CAPSPAWN_SRC_RESOLVER_RESOLVER_H_
#define CAPSPAWN_SRC_RESOLVER_RESOLVER_H_

#include <string>
#include <string_view>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::resolver {

struct Resolution {
  UniqueFd executable;  // O_RDONLY (O_PATH for an execute-only file)
  UniqueFd loader;      // the package's lib/ (O_PATH | O_DIRECTORY), or empty
};

struct ParsedName {
  std::string package;
  std::string binary;  // bin/<binary>; the package's name when not given
};

// INVALID_ARGS for an empty or over-long (> CAPSPAWN_MAX_RESOLVE_NAME_SIZE)
// name, or one that is not PACKAGE or PACKAGE/BINARY with each component made
// of [A-Za-z0-9._+-], at most 255 bytes, and neither "." nor "..".
Result<ParsedName> ParseName(std::string_view name);

// Directories that hold packages (each a directory with bin/ and maybe lib/).
class PackageRoots {
 public:
  PackageRoots() = default;
  // Opens each root (O_PATH | O_DIRECTORY); the error names the one that failed.
  static Result<PackageRoots> Open(const std::vector<std::string>& dirs);

  // Searches the roots in order for the package. Every path is opened with
  // openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the root, so no
  // name, ".." or symlink reaches outside it. Statuses: INVALID_ARGS (name),
  // NOT_FOUND (no such package, or no such binary in it), ACCESS_DENIED
  // (permission, not executable, or a symlink leading out of the root),
  // WRONG_TYPE (the binary is not a regular file).
  Result<Resolution> Resolve(std::string_view name) const;

  bool empty() const { return roots_.empty(); }
  std::vector<int> fds() const {
    std::vector<int> out;
    for (const UniqueFd& r : roots_) out.push_back(r.get());
    return out;
  }
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  std::vector<UniqueFd> roots_;
  std::vector<std::string> paths_;
};

}  // namespace capspawn::resolver

#endif  // CAPSPAWN_SRC_RESOLVER_RESOLVER_H_
