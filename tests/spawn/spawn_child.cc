// SPDX-License-Identifier: Apache-2.0
// spawn_child: the program the spawn tests launch. It reports, as line-oriented
// text, everything it received (argv, environ, open fds, its name, typed startup
// handles, signal state), then does what its options ask (exit code, raise a
// signal, sleep, write through an fd...). The format is parsed by
// child_report.cc; see docs/testing.md.
//
// Options are recognised anywhere in argv (so #! tests can prepend interpreter
// arguments); anything else is ignored and only reported:
//   --report-fd N       write the report to fd N (default 1); -1: no report
//   --handles ID,ID     take these typed startup ids (hex) and report their fds
//   --ready-fd N        first write "R" to fd N and close it (the parent then
//                       knows the exec is complete)
//   --wait-fd N         before reporting, read fd N until EOF (lets the parent
//                       look at the process while it is known to be alive)
//   --write-fd N TEXT   write TEXT to fd N (after the report)
//   --spawn PATH CODE   spawn PATH with CLONE_ALL, argv {PATH, --exit, CODE},
//                       wait, and exit with its return code (nested spawn)
//   --exit N            exit with N (default 0)
//   --signal N          reset signal N to its default action and raise it
//   --sleep             block until killed
#include <capspawn/spawn.h>
#include <capspawn/startup.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

#ifdef __SANITIZE_ADDRESS__
// Sanitizer builds make this helper dynamic and instrumented. It also runs in
// private namespaces without /proc, where LeakSanitizer cannot work; leaks in
// a helper that exits at once are not what these tests look for.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif

namespace {

constexpr int kMaxScannedFd = 1024;

// Bytes that would break the space-separated format are written as \xHH.
std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? std::string("\\e") : out;  // "\e": the empty string
}

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "?";
  return std::string(buf, static_cast<size_t>(n));
}

const char* TypeName(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "reg";
    case S_IFDIR:
      return "dir";
    case S_IFCHR:
      return "chr";
    case S_IFBLK:
      return "blk";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "sock";
    case S_IFLNK:
      return "lnk";
    default:
      return "anon";  // anon inodes (eventfd, pidfd...) have no file type
  }
}

std::string DescribeFd(int fd) {
  char line[256];
  struct stat st;
  std::string type = "?";
  unsigned long long dev_major = 0, dev_minor = 0, ino = 0;
  if (fstat(fd, &st) == 0) {
    type = TypeName(st.st_mode);
    dev_major = major(st.st_dev);
    dev_minor = minor(st.st_dev);
    ino = st.st_ino;
  }
  int fl = fcntl(fd, F_GETFL);
  int fdfl = fcntl(fd, F_GETFD);
  std::snprintf(line, sizeof line, "fd %d type=%s flags=0x%x cloexec=%d dev=%llu:%llu ino=%llu ",
                fd, type.c_str(), fl < 0 ? 0 : fl, (fdfl >= 0 && (fdfl & FD_CLOEXEC)) ? 1 : 0,
                dev_major, dev_minor, ino);
  return line + std::string("path=") + Escape(ReadLink("/proc/self/fd/" + std::to_string(fd))) +
         "\n";
}

// Every open fd: the 0..1023 range by fcntl (opens nothing), then any higher
// ones from /proc/self/fd (excluding the directory's own fd).
std::string DescribeFds() {
  std::string out;
  for (int fd = 0; fd < kMaxScannedFd; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) out += DescribeFd(fd);
  }
  std::vector<int> high;
  if (DIR* d = opendir("/proc/self/fd")) {
    int self = dirfd(d);
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      int fd = std::atoi(e->d_name);
      if (fd >= kMaxScannedFd && fd != self) high.push_back(fd);
    }
    closedir(d);
  }
  for (int fd : high) out += DescribeFd(fd);
  return out;
}

std::string ReadSmallFile(const char* path) {
  std::string s;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  close(fd);
  return s;
}

std::string StatusField(const std::string& status, const char* name) {
  std::string key = std::string("\n") + name + ":\t";
  size_t at = status.find(key);
  if (at == std::string::npos) return "?";
  at += key.size();
  return status.substr(at, status.find('\n', at) - at);
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void DrainUntilEof(int fd) {
  char buf[256];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

struct Options {
  int report_fd = 1;
  int exit_code = 0;
  int signal = 0;
  bool sleep = false;
  int wait_fd = -1;
  int ready_fd = -1;
  std::vector<uint32_t> handles;
  std::vector<std::pair<int, std::string>> writes;
  const char* spawn_path = nullptr;
  const char* spawn_code = nullptr;
};

std::vector<uint32_t> ParseIds(const char* list) {
  std::vector<uint32_t> ids;
  const char* p = list;
  while (*p) {
    char* end = nullptr;
    unsigned long v = std::strtoul(p, &end, 16);
    if (end == p) break;
    ids.push_back(static_cast<uint32_t>(v));
    p = *end == ',' ? end + 1 : end;
  }
  return ids;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has1 = i + 1 < argc, has2 = i + 2 < argc;
    if (a == "--report-fd" && has1) {
      o.report_fd = std::atoi(argv[++i]);
    } else if (a == "--exit" && has1) {
      o.exit_code = std::atoi(argv[++i]);
    } else if (a == "--signal" && has1) {
      o.signal = std::atoi(argv[++i]);
    } else if (a == "--sleep") {
      o.sleep = true;
    } else if (a == "--ready-fd" && has1) {
      o.ready_fd = std::atoi(argv[++i]);
    } else if (a == "--wait-fd" && has1) {
      o.wait_fd = std::atoi(argv[++i]);
    } else if (a == "--handles" && has1) {
      o.handles = ParseIds(argv[++i]);
    } else if (a == "--write-fd" && has2) {
      int fd = std::atoi(argv[i + 1]);
      o.writes.emplace_back(fd, argv[i + 2]);
      i += 2;
    } else if (a == "--spawn" && has2) {
      o.spawn_path = argv[i + 1];
      o.spawn_code = argv[i + 2];
      i += 2;
    }
  }
  return o;
}

std::string BuildReport(int argc, char** argv, const std::string& fds, const Options& o) {
  std::string r = "capspawn-child-report 1\n";
  r += "pid " + std::to_string(getpid()) + "\n";
  r += "ppid " + std::to_string(getppid()) + "\n";
  std::string comm = ReadSmallFile("/proc/self/comm");
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  r += "comm " + Escape(comm) + "\n";
  r += "argc " + std::to_string(argc) + "\n";
  for (int i = 0; i < argc; ++i) r += "argv " + std::to_string(i) + " " + Escape(argv[i]) + "\n";
  for (char** e = environ; e && *e; ++e) r += "env " + Escape(*e) + "\n";
  r += fds;
  for (uint32_t id : o.handles) {
    int fd = capspawn_take_startup_handle(id);
    int again = capspawn_take_startup_handle(id);
    char line[128];
    std::snprintf(line, sizeof line, "handle 0x%x fd=%d again=%d\n", id, fd, again);
    r += line;
  }
  std::string status = "\n" + ReadSmallFile("/proc/self/status");
  r += "sig blk=" + StatusField(status, "SigBlk") + " ign=" + StatusField(status, "SigIgn") +
       " cgt=" + StatusField(status, "SigCgt") + "\n";
  std::string cgroup = ReadSmallFile("/proc/self/cgroup");
  size_t v2 = cgroup.find("0::");
  std::string cg = v2 == std::string::npos ? "?" : cgroup.substr(v2 + 3);
  cg = cg.substr(0, cg.find('\n'));
  r += "cgroup " + Escape(cg) + "\n";
  r += "end\n";
  return r;
}

int NestedSpawn(const char* path, const char* code) {
  const char* argv[] = {path, "--report-fd", "-1", "--exit", code, nullptr};
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  capspawn_status_t st =
      capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, path, argv, nullptr, 0, nullptr, &process, err);
  if (st != CAPSPAWN_OK) {
    std::fprintf(stderr, "spawn_child: nested spawn failed: %s: %s\n", capspawn_status_string(st),
                 err);
    return 200;
  }
  int64_t rc = 0;
  st = capspawn_process_wait(process, -1, &rc);
  close(process);
  return st == CAPSPAWN_OK ? static_cast<int>(rc) : 201;
}

}  // namespace

int main(int argc, char** argv) {
  // First, before this program opens anything itself.
  std::string fds = DescribeFds();
  Options o = ParseOptions(argc, argv);
  if (o.ready_fd >= 0) {
    WriteAll(o.ready_fd, "R");
    close(o.ready_fd);
  }
  if (o.wait_fd >= 0) DrainUntilEof(o.wait_fd);
  if (o.report_fd >= 0) {
    if (!WriteAll(o.report_fd, BuildReport(argc, argv, fds, o))) return 120;
    // The parent reads until EOF: the report fd must not stay open while sleeping.
    close(o.report_fd);
  }
  for (const auto& [fd, text] : o.writes) {
    if (!WriteAll(fd, text)) return 121;
  }
  if (o.spawn_path) return NestedSpawn(o.spawn_path, o.spawn_code);
  if (o.signal > 0) {
    signal(o.signal, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, o.signal);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(o.signal);
    return 122;  // the signal did not kill us
  }
  if (o.sleep) {
    for (;;) pause();
  }
  return o.exit_code;
}
