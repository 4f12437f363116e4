// SPDX-License-Identifier: Apache-2.0
// Small file and time helpers.
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include <capspawn/fd.h>

#include "config.h"

namespace capspawn::oci {
namespace {

Status ReadAll(int fd, const std::string& what, std::string* out, size_t limit) {
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read " + what);
    }
    if (n == 0) return {};
    if (out->size() + static_cast<size_t>(n) > limit) {
      return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                   what + ": larger than " + std::to_string(limit) + " bytes");
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

Status WriteAll(int fd, const std::string& text, const std::string& what) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "write " + what);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Status ReadSmallFile(const std::string& path, std::string* out, size_t limit) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno(errno, "open " + path);
  return ReadAll(fd.get(), path, out, limit);
}

Status ReadSmallFileAt(int dir, const std::string& name, std::string* out, size_t limit) {
  UniqueFd fd(openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Error::FromErrno(errno, "open " + name);
  return ReadAll(fd.get(), name, out, limit);
}

Status WriteFileAtomically(int dir, const std::string& name, const std::string& text,
                           const std::string& where) {
  std::string tmp = name + ".tmp";
  UniqueFd fd(
      openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return Error::FromErrno(errno, "create " + where + "/" + tmp);
  if (Status st = WriteAll(fd.get(), text, where + "/" + tmp); !st.ok()) {
    unlinkat(dir, tmp.c_str(), 0);
    return st;
  }
  if (renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    int err = errno;
    unlinkat(dir, tmp.c_str(), 0);
    return Error::FromErrno(err, "rename " + where + "/" + tmp);
  }
  return {};
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  UniqueFd d(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) return Error::FromErrno(errno, "open " + dir);
  // The temporary name is hidden and unique to us, as runc's is.
  std::string tmp = "." + name + "." + std::to_string(getpid());
  UniqueFd fd(openat(d.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return Error::FromErrno(errno, "create " + dir + "/" + tmp);
  Status st = WriteAll(fd.get(), text, path);
  if (st.ok() && renameat(d.get(), tmp.c_str(), d.get(), name.c_str()) != 0) {
    st = Error::FromErrno(errno, "rename to " + path);
  }
  if (!st.ok()) unlinkat(d.get(), tmp.c_str(), 0);
  return st;
}

Status MakeDirs(const std::string& path, unsigned mode) {
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return Error::FromErrno(errno, "mkdir " + cur);
    }
    i = j + 1;
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Error::FromErrno(errno, "stat " + path);
  if (!S_ISDIR(st.st_mode)) return Error(CAPSPAWN_ERR_NOT_DIR, path + " is not a directory");
  return {};
}

std::string NowRfc3339() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

std::string Absolute(const std::string& path) {
  std::string p = path;
  if (p.empty() || p[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) return path;
    p = std::string(cwd) + "/" + p;
  }
  std::optional<std::string> n = NormaliseAbsolute(p);
  return n ? *n : p;
}

}  // namespace capspawn::oci
