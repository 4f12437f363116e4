// SPDX-License-Identifier: Apache-2.0
#include "job/cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace capspawn::job_internal {
namespace {

std::string ErrnoText(int err) { return std::string(strerror(err)); }

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const char a = s[i + 1], b = s[i + 2], c = s[i + 3];
      if (a >= '0' && a <= '7' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

Result<std::string> ReadWholeFile(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 std::string("open ") + path + ": " + ErrnoText(errno) + " (is /proc mounted?)");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(CAPSPAWN_ERR_IO, std::string("read ") + path + ": " + ErrnoText(errno));
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// True when cgroup.procs is gone from `dir`: the cgroup was removed.
bool IsRemoved(int dir) {
  struct stat st;
  return fstatat(dir, "cgroup.procs", &st, 0) != 0 && errno == ENOENT;
}

}  // namespace

std::string FdPath(int fd) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[4096];
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n <= 0) return "fd " + std::to_string(fd);
  return std::string(buf, static_cast<size_t>(n));
}

Error CgroupError(int err, std::string_view action, std::string_view path) {
  std::string what = std::string(action) + " " + std::string(path) + ": ";
  switch (err) {
    case EACCES:
    case EPERM:
      return Error(CAPSPAWN_ERR_ACCESS_DENIED,
                   what + ErrnoText(err) +
                       " (cgroup writes need a delegated subtree: as root, `chown USER` the "
                       "directory and its cgroup.procs, cgroup.subtree_control and "
                       "cgroup.threads; moving a process also needs write access to "
                       "cgroup.procs of the common ancestor of its old and new cgroup, so "
                       "the caller should itself live inside the delegated subtree)");
    case ENOENT:
    case ENODEV:
      return Error(CAPSPAWN_ERR_BAD_STATE, what + ErrnoText(err) + " (the job was destroyed)");
    case EBADF:
      return Error(CAPSPAWN_ERR_BAD_HANDLE, what + ErrnoText(err));
    case ENOTDIR:
      return Error(CAPSPAWN_ERR_WRONG_TYPE, what + ErrnoText(err));
    case EEXIST:
      return Error(CAPSPAWN_ERR_ALREADY_EXISTS, what + ErrnoText(err));
    case EAGAIN:
      return Error(CAPSPAWN_ERR_NO_RESOURCES,
                   what + ErrnoText(err) + " (cgroup.max.descendants or cgroup.max.depth)");
    case ENOMEM:
      return Error(CAPSPAWN_ERR_NO_MEMORY, what + ErrnoText(err));
    case EINVAL:
      return Error(CAPSPAWN_ERR_INVALID_ARGS, what + ErrnoText(err));
    case EOPNOTSUPP:
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED, what + ErrnoText(err));
    case EROFS:
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   what + ErrnoText(err) +
                       " (the cgroup2 file system is mounted read-only here, as in many "
                       "containers: jobs need it writable, or a writable delegated subtree)");
    case EBUSY:
      return Error(CAPSPAWN_ERR_BAD_STATE, what + ErrnoText(err));
    default:
      return Error(CAPSPAWN_ERR_IO, what + ErrnoText(err));
  }
}

Status CheckCgroupDir(int fd) {
  struct statfs sfs;
  if (fd < 0 || fstatfs(fd, &sfs) != 0) {
    return Error(CAPSPAWN_ERR_BAD_HANDLE,
                 "job fd " + std::to_string(fd) + " is not an open file descriptor");
  }
  if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
    return Error(CAPSPAWN_ERR_WRONG_TYPE, "job fd " + std::to_string(fd) + " (" + FdPath(fd) +
                                              ") is not on a cgroup2 file system");
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(CAPSPAWN_ERR_WRONG_TYPE, "job fd " + std::to_string(fd) + " (" + FdPath(fd) +
                                              ") is not a cgroup directory");
  }
  return {};
}

Result<std::string> CgroupDirFrom(std::string_view proc_cgroup, std::string_view mountinfo) {
  std::string own;
  bool found = false;
  for (std::string_view line : Lines(proc_cgroup)) {
    if (line.substr(0, 3) == "0::") {
      own = std::string(line.substr(3));
      found = true;
      break;
    }
  }
  if (!found) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "/proc/self/cgroup has no \"0::\" line: this process is not in a cgroup v2 "
                 "hierarchy (jobs need cgroup v2)");
  }
  for (std::string_view line : Lines(mountinfo)) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
    size_t sep = line.find(" - ");
    if (sep == std::string_view::npos) continue;
    std::istringstream tail{std::string(line.substr(sep + 3))};
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head{std::string(line.substr(0, sep))};
    std::string id, parent, dev, root, mountpoint;
    head >> id >> parent >> dev >> root >> mountpoint;
    root = Unescape(root);
    mountpoint = Unescape(mountpoint);
    // The mount shows the subtree `root`; our cgroup must be inside it.
    std::string rel;
    if (root == "/") {
      rel = own;
    } else if (own == root) {
      rel = "/";
    } else if (own.rfind(root + "/", 0) == 0) {
      rel = own.substr(root.size());
    } else {
      continue;
    }
    if (rel == "/") return mountpoint;
    return (mountpoint == "/" ? "" : mountpoint) + rel;
  }
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
               "no cgroup2 file system containing this process's cgroup \"" + own +
                   "\" is mounted (none in /proc/self/mountinfo); jobs need cgroup v2 "
                   "(e.g. mount -t cgroup2 none /sys/fs/cgroup)");
}

Result<std::string> OwnCgroupDir() {
  Result<std::string> cgroup = ReadWholeFile("/proc/self/cgroup");
  if (!cgroup) return cgroup.error();
  Result<std::string> mountinfo = ReadWholeFile("/proc/self/mountinfo");
  if (!mountinfo) return mountinfo.error();
  return CgroupDirFrom(*cgroup, *mountinfo);
}

Result<UniqueFd> OpenCgroupDir(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT) {
      return Error(CAPSPAWN_ERR_NOT_FOUND, "open job " + path + ": " + ErrnoText(err));
    }
    return CgroupError(err, "open job", path);
  }
  if (Status s = CheckCgroupDir(fd.get()); !s) return s.error();
  return fd;
}

Result<UniqueFd> OpenParent(int dir) {
  UniqueFd parent(openat(dir, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent) return CgroupError(errno, "open parent of", FdPath(dir));
  struct statfs sfs;
  if (fstatfs(parent.get(), &sfs) != 0) return CgroupError(errno, "fstatfs", FdPath(dir) + "/..");
  if (sfs.f_type != CGROUP2_SUPER_MAGIC) return UniqueFd();
  // At the top of the mount ".." stays put inside a chroot-like root: compare inodes.
  struct stat a, b;
  if (fstat(dir, &a) == 0 && fstat(parent.get(), &b) == 0 && a.st_ino == b.st_ino &&
      a.st_dev == b.st_dev) {
    return UniqueFd();
  }
  return parent;
}

Result<std::string> ReadControl(int dir, const char* name) {
  UniqueFd fd(openat(dir, name, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT && !IsRemoved(dir)) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "read " + FdPath(dir) + "/" + name + ": the file does not exist");
    }
    return CgroupError(err, "read", FdPath(dir) + "/" + name);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return CgroupError(errno, "read", FdPath(dir) + "/" + name);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status WriteControl(int dir, const char* name, std::string_view value) {
  UniqueFd fd(openat(dir, name, O_WRONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT && !IsRemoved(dir)) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "write " + FdPath(dir) + "/" + name +
                       ": the file does not exist (the root cgroup has no cgroup.kill, "
                       "cgroup.freeze or limits; cgroup.kill needs Linux >= 5.14)");
    }
    return CgroupError(err, "write", FdPath(dir) + "/" + name);
  }
  ssize_t n;
  do {
    n = write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return CgroupError(errno, "write \"" + std::string(value) + "\" to", FdPath(dir) + "/" + name);
  return {};
}

bool HasWord(std::string_view text, std::string_view word) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i && text.substr(i, j - i) == word) return true;
    i = j;
  }
  return false;
}

int EventValue(std::string_view events, std::string_view key) {
  size_t pos = 0;
  while (pos < events.size()) {
    size_t end = events.find('\n', pos);
    if (end == std::string_view::npos) end = events.size();
    std::string_view line = events.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      return atoi(std::string(line.substr(key.size() + 1)).c_str());
    }
    pos = end + 1;
  }
  return -1;
}

int64_t DeadlineFromTimeout(int64_t timeout_ns) {
  if (timeout_ns < 0) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec + timeout_ns;
}

int PollMillisLeft(int64_t deadline_ns) {
  if (deadline_ns < 0) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t left = deadline_ns - (ts.tv_sec * 1000000000LL + ts.tv_nsec);
  if (left <= 0) return 0;
  int64_t ms = (left + 999999) / 1000000;
  return ms > 1 << 30 ? 1 << 30 : static_cast<int>(ms);
}

Status WaitEvent(int dir, std::string_view key, int want, int64_t timeout_ns) {
  const std::string path = FdPath(dir) + "/cgroup.events";
  UniqueFd fd(openat(dir, "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT && !IsRemoved(dir)) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "open " + path + ": the file does not exist (the root cgroup has none)");
    }
    return CgroupError(err, "open", path);
  }
  const int64_t deadline = DeadlineFromTimeout(timeout_ns);
  char buf[256];
  for (;;) {
    // kernfs remembers the event count at each read: a change after this read makes
    // the poll below return at once, so no transition is missed.
    ssize_t n = pread(fd.get(), buf, sizeof buf - 1, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return CgroupError(errno, "read", path);
    }
    int value = EventValue(std::string_view(buf, static_cast<size_t>(n)), key);
    if (value < 0) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   path + " has no \"" + std::string(key) + "\" entry (kernel too old?)");
    }
    if (value == want) return {};
    int ms = PollMillisLeft(deadline);
    if (ms == 0) {
      return Error(CAPSPAWN_ERR_TIMED_OUT, "waiting for \"" + std::string(key) + " " +
                                               std::to_string(want) + "\" in " + path);
    }
    struct pollfd p = {fd.get(), POLLPRI, 0};
    if (poll(&p, 1, ms) < 0 && errno != EINTR) return CgroupError(errno, "poll", path);
  }
}

Result<std::vector<std::string>> SubCgroups(int dir) {
  int copy = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return CgroupError(errno, "open", FdPath(dir));
  DIR* d = fdopendir(copy);
  if (d == nullptr) {
    int err = errno;
    close(copy);
    return CgroupError(err, "opendir", FdPath(dir));
  }
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    if (e->d_type != DT_DIR) continue;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<pid_t>> ProcsOf(int dir) {
  Result<std::string> text = ReadControl(dir, "cgroup.procs");
  if (!text) return text.error();
  std::vector<pid_t> pids;
  const std::string& s = *text;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = s.find('\n', i);
    if (end == std::string::npos) end = s.size();
    if (end > i) pids.push_back(static_cast<pid_t>(atol(s.substr(i, end - i).c_str())));
    i = end + 1;
  }
  return pids;
}

}  // namespace capspawn::job_internal
