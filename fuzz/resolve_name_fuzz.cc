// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over resolver names. Each input is a name, parsed and
// then resolved against a small package root made at start-up (a package
// "pkg" with bin/pkg, bin/tool, lib/, and symlinks leading inside and
// outside). Beyond "no crash": a name the parser accepts is PACKAGE or
// PACKAGE/BINARY of allowed bytes, never "." or ".."; whatever is resolved
// lies beneath the root; no fd leaks.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "resolver/resolver.h"

namespace {

namespace resolver = capspawn::resolver;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::string MakeRoot() {
  char dir[] = "/tmp/capspawn-resolve-fuzz.XXXXXX";
  Check(mkdtemp(dir) != nullptr);
  std::string root = dir;
  for (const char* d : {"/pkg", "/pkg/bin", "/pkg/lib", "/other", "/other/bin"}) {
    Check(mkdir((root + d).c_str(), 0755) == 0);
  }
  for (const char* f : {"/pkg/bin/pkg", "/pkg/bin/tool", "/other/bin/other"}) {
    int fd = open((root + f).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
    Check(fd >= 0);
    close(fd);
  }
  Check(symlink("/bin/true", (root + "/pkg/bin/out").c_str()) == 0);
  Check(symlink("../../other/bin/other", (root + "/pkg/bin/in").c_str()) == 0);
  Check(symlink("pkg", (root + "/alias").c_str()) == 0);
  Check(symlink("/", (root + "/escape").c_str()) == 0);
  return root;
}

bool Allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '+';
}

int OpenFds() {
  int n = 0;
  for (int fd = 0; fd < 256; ++fd) n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = MakeRoot();
  static const resolver::PackageRoots roots = [] {
    capspawn::Result<resolver::PackageRoots> r = resolver::PackageRoots::Open({root});
    Check(r.ok());
    return std::move(r.value());
  }();
  std::string_view name(reinterpret_cast<const char*>(data), size);
  const int before = OpenFds();
  capspawn::Result<resolver::ParsedName> parsed = resolver::ParseName(name);
  if (parsed.ok()) {
    Check(name.size() <= 2048);
    for (const std::string* c : {&parsed->package, &parsed->binary}) {
      Check(!c->empty() && c->size() <= 255 && *c != "." && *c != "..");
      for (char ch : *c) Check(Allowed(ch));
    }
  }
  {
    capspawn::Result<resolver::Resolution> r = roots.Resolve(name);
    Check(r.ok() == false || parsed.ok());
    if (r.ok()) {
      char link[64], target[4096];
      snprintf(link, sizeof link, "/proc/self/fd/%d", r->executable.get());
      ssize_t n = readlink(link, target, sizeof target - 1);
      Check(n > 0);
      Check(std::string_view(target, static_cast<size_t>(n)).substr(0, root.size()) == root);
    }
  }
  Check(OpenFds() == before);
  return 0;
}
