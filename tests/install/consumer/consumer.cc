// SPDX-License-Identifier: Apache-2.0
// A C++ program outside the tree, with every public header included, built
// with the compiler's default C++ standard (C++17 for g++ 12): spawns
// /bin/true with ProcessBuilder-free C++ (Process, UniqueFd, Result) and
// parses an ELF file with the pointer-and-size form C++17 callers get.
#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/job.h>
#include <capspawn/launcher.h>
#include <capspawn/process.h>
#include <capspawn/process_builder.h>
#include <capspawn/processargs.h>
#include <capspawn/result.h>
#include <capspawn/spawn.h>
#include <capspawn/start.h>
#include <capspawn/startup.h>
#include <capspawn/status.h>
#include <capspawn/version.h>
#include <fcntl.h>

#include <cstdio>
#include <string>
#include <vector>

int main() {
  const char* argv[] = {"true", nullptr};
  int pidfd = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  if (capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, "/bin/true", argv, nullptr, 0, nullptr, &pidfd,
                         err) != CAPSPAWN_OK) {
    std::fprintf(stderr, "spawn: %s\n", err);
    return 1;
  }
  capspawn::Process process{capspawn::UniqueFd(pidfd)};
  capspawn::Result<int64_t> rc = process.Wait(-1);
  capspawn::UniqueFd exe(open("/bin/true", O_RDONLY | O_CLOEXEC));
  capspawn::Result<capspawn::elf::ElfHeaders> h = capspawn::elf::ParseHeaders(exe.get());
  const std::vector<std::string> args = {"true"};
  std::printf("c++ consumer %s (C++ %ld): rc=%lld, /bin/true %s, interpreter %s, args %zu bytes\n",
              CAPSPAWN_VERSION_STRING, static_cast<long>(__cplusplus),
              rc.ok() ? static_cast<long long>(*rc) : -1LL, h.ok() ? "parsed" : "not parsed",
              h.ok() && h->interp ? h->interp->c_str() : "-", capspawn::elf::StringsBytes(args));
  return rc.ok() && *rc == 0 && h.ok() && capspawn::elf::StringsBytes(args) == 5 ? 0 : 1;
}
