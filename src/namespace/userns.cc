// SPDX-License-Identifier: Apache-2.0
// Whether a non-root caller can get a user namespace, and if not, which host
// setting says no: the error must tell the user what to change.
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "namespace/namespace.h"

namespace capspawn::ns {
namespace {

// The first line of a /proc/sys file, or "" when it does not exist.
std::string ReadSetting(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status Check() {
  const std::string hint =
      "; a private namespace for a non-root caller needs an unprivileged user namespace "
      "(run as root, or enable them on the host)";
  if (ReadSetting("/proc/sys/user/max_user_namespaces") == "0") {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0" + hint);
  }
  if (ReadSetting("/proc/sys/kernel/unprivileged_userns_clone") == "0") {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "unprivileged user namespaces are disabled: "
                 "/proc/sys/kernel/unprivileged_userns_clone is 0" +
                     hint);
  }
  if (ReadSetting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1") {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "AppArmor restricts unprivileged user namespaces: "
                 "/proc/sys/kernel/apparmor_restrict_unprivileged_userns is 1" +
                     hint);
  }
  return {};
}

}  // namespace

Status CheckUserNamespaces() {
  static const Status result = Check();
  return result;
}

}  // namespace capspawn::ns
