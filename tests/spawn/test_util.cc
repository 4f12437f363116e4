// SPDX-License-Identifier: Apache-2.0
#include "test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace capspawn_test {

const char* ChildPath() { return CAPSPAWN_TEST_SPAWN_CHILD; }
const char* DynChildPath() { return CAPSPAWN_TEST_SPAWN_CHILD_DYN; }
bool ChildIsStatic() { return CAPSPAWN_TEST_SPAWN_CHILD_STATIC != 0; }

TempDir::TempDir() {
  char tmpl[] = "/tmp/capspawn-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  nftw(
      path_.c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

std::string TempDir::WriteFile(const std::string& name, const std::string& content, mode_t mode) {
  std::string p = Path(name);
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || !capspawn_test::WriteAll(fd, content)) {
    std::perror(p.c_str());
    std::abort();
  }
  fchmod(fd, mode);
  close(fd);
  return p;
}

std::string TempDir::CopyFile(const std::string& from, const std::string& name, mode_t mode) {
  return WriteFile(name, ReadFileBytes(from), mode);
}

FdSwap::FdSwap(int target, int replacement)
    : target_(target), saved_(fcntl(target, F_DUPFD_CLOEXEC, 100)) {
  if (replacement >= 0) {
    dup2(replacement, target);
  } else {
    close(target);
  }
}

FdSwap::~FdSwap() {
  if (saved_ >= 0) {
    dup2(saved_, target_);
    close(saved_);
  } else {
    close(target_);
  }
}

Pipe MakePipe(bool cloexec) {
  int p[2];
  if (pipe2(p, cloexec ? O_CLOEXEC : 0) != 0) {
    std::perror("pipe2");
    std::abort();
  }
  return Pipe{UniqueFd(p[0]), UniqueFd(p[1])};
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ReadAll(int fd, int timeout_ms) {
  std::string out;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      std::fprintf(stderr, "ReadAll: no EOF on fd %d after %d ms\n", fd, timeout_ms);
      return out;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

capspawn_action_t CloneFd(int local_fd, int target_fd) {
  capspawn_action_t a{};
  a.action = CAPSPAWN_ACTION_CLONE_FD;
  a.fd.local_fd = local_fd;
  a.fd.target_fd = target_fd;
  return a;
}

capspawn_action_t TransferFd(int local_fd, int target_fd) {
  capspawn_action_t a{};
  a.action = CAPSPAWN_ACTION_TRANSFER_FD;
  a.fd.local_fd = local_fd;
  a.fd.target_fd = target_fd;
  return a;
}

capspawn_action_t AddHandle(uint32_t id, int handle) {
  capspawn_action_t a{};
  a.action = CAPSPAWN_ACTION_ADD_HANDLE;
  a.h.id = id;
  a.h.handle = handle;
  return a;
}

capspawn_action_t SetName(const char* name) {
  capspawn_action_t a{};
  a.action = CAPSPAWN_ACTION_SET_NAME;
  a.name.data = name;
  return a;
}

capspawn_action_t AddNsEntry(const char* prefix, int handle) {
  capspawn_action_t a{};
  a.action = CAPSPAWN_ACTION_ADD_NS_ENTRY;
  a.ns.prefix = prefix;
  a.ns.handle = handle;
  return a;
}

capspawn_action_t CloneDir(const char* prefix) {
  capspawn_action_t a{};
  a.action = CAPSPAWN_ACTION_CLONE_DIR;
  a.dir.prefix = prefix;
  return a;
}

void ProcessFd::Cleanup() {
  if (!fd_) return;
  capspawn_process_kill(fd_.get());
  int64_t rc;
  capspawn_process_wait(fd_.get(), -1, &rc);
  fd_.reset();
}

void MoveAboveStdio(ProcessFd& fd) {
  if (fd && fd.get() < 3) {
    int old = fd.release();
    fd = ProcessFd(fcntl(old, F_DUPFD_CLOEXEC, 3));
    close(old);
  }
}

namespace {

std::vector<const char*> CStrings(const Strings& v) {
  std::vector<const char*> out;
  for (const std::string& s : v) out.push_back(s.c_str());
  out.push_back(nullptr);
  return out;
}

Spawned Finish(capspawn_status_t st, int process, const char* err) {
  Spawned s;
  s.status = st;
  s.err = err;
  s.raw_process_out = process;
  if (st == CAPSPAWN_OK) s.process.reset(process);
  return s;
}

ChildRun Collect(Spawned s, UniqueFd read_end) {
  ChildRun run;
  run.status = s.status;
  run.err = s.err;
  if (s.status != CAPSPAWN_OK) return run;
  if (read_end) run.output = ReadAll(read_end.get());
  run.return_code = Wait(s.process.get());
  run.report = ParseReport(run.output);
  return run;
}

}  // namespace

Spawned Spawn(uint32_t flags, const std::string& path, const Strings& argv, const Env& env,
              const std::vector<capspawn_action_t>& actions, int job) {
  std::vector<const char*> cargv = CStrings(argv);
  std::vector<const char*> cenv;
  if (env) cenv = CStrings(*env);
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  std::memset(err, 0, sizeof err);
  int process = -1;
  capspawn_status_t st =
      capspawn_spawn_etc(job, flags, path.c_str(), cargv.data(), env ? cenv.data() : nullptr,
                         actions.size(), actions.empty() ? nullptr : actions.data(), &process, err);
  return Finish(st, process, err);
}

Spawned SpawnVmo(uint32_t flags, int executable_fd, const Strings& argv, const Env& env,
                 const std::vector<capspawn_action_t>& actions) {
  std::vector<const char*> cargv = CStrings(argv);
  std::vector<const char*> cenv;
  if (env) cenv = CStrings(*env);
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH];
  std::memset(err, 0, sizeof err);
  int process = -1;
  capspawn_status_t st =
      capspawn_spawn_vmo(-1, flags, executable_fd, cargv.data(), env ? cenv.data() : nullptr,
                         actions.size(), actions.empty() ? nullptr : actions.data(), &process, err);
  return Finish(st, process, err);
}

ChildRun RunChild(uint32_t flags, const std::string& path, const Strings& argv, const Env& env,
                  std::vector<capspawn_action_t> actions, int report_target) {
  UniqueFd read_end;
  if (report_target >= 0) {
    Pipe p = MakePipe();
    read_end = std::move(p.read);
    actions.push_back(TransferFd(p.write.release(), report_target));
  }
  return Collect(Spawn(flags, path, argv, env, actions), std::move(read_end));
}

ChildRun RunChildVmo(uint32_t flags, int executable_fd, const Strings& argv, const Env& env,
                     std::vector<capspawn_action_t> actions, int report_target) {
  UniqueFd read_end;
  if (report_target >= 0) {
    Pipe p = MakePipe();
    read_end = std::move(p.read);
    actions.push_back(TransferFd(p.write.release(), report_target));
  }
  return Collect(SpawnVmo(flags, executable_fd, argv, env, actions), std::move(read_end));
}

int64_t Wait(int process) {
  int64_t rc = 0;
  capspawn_status_t st = capspawn_process_wait(process, -1, &rc);
  if (st != CAPSPAWN_OK) {
    std::fprintf(stderr, "capspawn_process_wait(%d): %s\n", process, capspawn_status_string(st));
    return INT64_MIN;
  }
  return rc;
}

bool FdIsOpen(int fd) { return fcntl(fd, F_GETFD) >= 0; }

int CountOpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the directory's own fd
}

std::string FdDev(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return "";
  return std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
}

uint64_t FdIno(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  return st.st_ino;
}

std::vector<pid_t> LiveChildren() {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc/self/task");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
    pid_t pid;
    while (in >> pid) out.push_back(pid);
  }
  closedir(d);
  return out;
}

bool HasWaitableChild() {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  // WNOWAIT: look without reaping. ECHILD: no child at all.
  int r = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  return !(r < 0 && errno == ECHILD);
}

pid_t PidOfPidfd(int pidfd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(pidfd));
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 4, "Pid:") == 0) return std::atoi(line.c_str() + 4);
  }
  return -1;
}

std::string CommOf(pid_t pid) {
  std::string s = ReadFileBytes("/proc/" + std::to_string(pid) + "/comm");
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

bool NamesActionIndex(const std::string& message, int index) {
  const std::string digits = std::to_string(index);
  for (size_t at = message.find("action"); at != std::string::npos;
       at = message.find("action", at + 1)) {
    size_t p = at + 6;
    // Up to 3 separators (" ", "s[", " #") between the word and the number.
    for (int skip = 0; skip <= 3 && p <= message.size(); ++skip, ++p) {
      if (message.compare(p, digits.size(), digits) == 0 &&
          (p + digits.size() == message.size() || !isdigit(message[p + digits.size()]))) {
        return true;
      }
      if (p < message.size() && isdigit(message[p])) break;
    }
  }
  return false;
}

std::string CommOfName(const std::string& name) { return name.substr(0, 15); }

}  // namespace capspawn_test
