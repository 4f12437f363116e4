// SPDX-License-Identifier: Apache-2.0
#include "container/pid_init.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace capspawn::container {

// The init's bytes (pid1.c, embedded at build time by cmake/embed_binary.cmake).
extern __attribute__((visibility("hidden"))) const unsigned char kPid1Image[];
extern __attribute__((visibility("hidden"))) const std::size_t kPid1Image_size;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

Result<UniqueFd> PidInitExecutable(const std::string& label) {
  const std::string what = label + ": the pid-1 init: ";
  // MFD_EXEC says so where vm.memfd_noexec asks (Linux 6.3+); older kernels
  // refuse the flag and allow exec anyway.
  int fd = memfd_create("capspawn-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create("capspawn-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    if (errno == EACCES) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   what + "memfd_create: executable memfds are forbidden here (vm.memfd_noexec)");
    }
    return Error::FromErrno(errno, what + "memfd_create");
  }
  UniqueFd memfd(fd);
  size_t done = 0;
  while (done < kPid1Image_size) {
    ssize_t n = write(fd, kPid1Image + done, kPid1Image_size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::FromErrno(n < 0 ? errno : EIO, what + "write the memfd");
    done += static_cast<size_t>(n);
  }
  // Execute-only: the kernel then makes the init non-dumpable from its exec
  // on (would_dump), so a program without CAP_SYS_PTRACE never gets a window
  // to trace it. Sealed: nothing that reaches the file (/proc/1/exe) can
  // change the init.
  if (fchmod(fd, 0111) != 0) return Error::FromErrno(errno, what + "fchmod");
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    return Error::FromErrno(errno, what + "fcntl(F_ADD_SEALS)");
  }
  return memfd;
}

}  // namespace capspawn::container
