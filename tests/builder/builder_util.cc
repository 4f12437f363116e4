// SPDX-License-Identifier: Apache-2.0
#include "builder_util.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <capspawn/elf.h>
#include <capspawn/processargs.h>

namespace capspawn_test {

const char* TargetPath(Target t) {
  switch (t) {
    case Target::kStatic:
      return CAPSPAWN_TEST_PB_TARGET_STATIC;
    case Target::kStaticPie:
      return CAPSPAWN_TEST_PB_TARGET_STATIC_PIE;
    case Target::kDynamic:
      return CAPSPAWN_TEST_PB_TARGET_DYN;
  }
  return "";
}

const char* TargetName(Target t) {
  switch (t) {
    case Target::kStatic:
      return "static";
    case Target::kStaticPie:
      return "static_pie";
    case Target::kDynamic:
      return "dynamic";
  }
  return "";
}

std::string SystemLibDir() {
  UniqueFd self(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  std::string interp = "/lib64/ld-linux-x86-64.so.2";
  if (self) {
    auto h = capspawn::elf::ParseHeaders(self.get());
    if (h.ok() && h->interp) interp = *h->interp;
  }
  char real[PATH_MAX];
  if (!realpath(interp.c_str(), real)) return "/lib";
  std::string r = real;
  return r.substr(0, r.rfind('/'));
}

UniqueFd OpenExecutable(const std::string& path) {
  return UniqueFd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

UniqueFd OpenDirectory(const std::string& path) {
  return UniqueFd(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

capspawn::ProcessBuilder MakeBuilder(const std::string& path, const std::string& name) {
  UniqueFd exe = OpenExecutable(path);
  bool dynamic = false;
  if (exe) {
    auto h = capspawn::elf::ParseHeaders(exe.get());
    dynamic = h.ok() && h->is_dynamic();
  }
  capspawn::ProcessBuilder b(name, -1, std::move(exe));
  if (dynamic) (void)b.set_loader_service(OpenDirectory(SystemLibDir()));
  return b;
}

capspawn::StartupHandle FdHandle(int fd, int target) {
  return {CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, target), UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 3))};
}

std::map<uint64_t, uint64_t> ReadAuxv(pid_t pid) {
  std::map<uint64_t, uint64_t> out;
  std::string bytes = ReadFileBytes("/proc/" + std::to_string(pid) + "/auxv");
  for (size_t off = 0; off + 16 <= bytes.size(); off += 16) {
    uint64_t k, v;
    std::memcpy(&k, bytes.data() + off, 8);
    std::memcpy(&v, bytes.data() + off + 8, 8);
    if (k == AT_NULL) break;
    out[k] = v;
  }
  return out;
}

std::vector<Mapping> ReadMaps(pid_t pid) {
  std::vector<Mapping> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(in, line)) {
    Mapping m;
    char perms[8] = {}, dev[16] = {};
    int path_at = 0;
    unsigned long long start, end, offset, inode;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms, &offset,
                    dev, &inode, &path_at) < 6)
      continue;
    m.start = start;
    m.end = end;
    m.offset = offset;
    m.inode = inode;
    m.perms = perms;
    if (path_at > 0 && static_cast<size_t>(path_at) <= line.size()) m.path = line.substr(path_at);
    out.push_back(m);
  }
  return out;
}

char StateOf(pid_t pid) {
  std::string stat = ReadFileBytes("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

char SettledStateOf(pid_t pid) {
  char state = StateOf(pid);
  for (int i = 0; i < 200 && state == 'R'; ++i) {
    usleep(10000);
    state = StateOf(pid);
  }
  return state;
}

std::optional<Regs> PeekRegisters(pid_t pid, std::string* why) {
#if defined(__x86_64__)
  if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) {
    *why = std::string("PTRACE_SEIZE: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0) {
    *why = std::string("PTRACE_INTERRUPT: ") + std::strerror(errno);
    ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
    return std::nullopt;
  }
  int st = 0;
  if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) {
    *why = "no ptrace stop";
    ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
    return std::nullopt;
  }
  user_regs_struct r;
  bool ok = ptrace(PTRACE_GETREGS, pid, nullptr, &r) == 0;
  if (!ok) *why = std::string("PTRACE_GETREGS: ") + std::strerror(errno);
  ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  if (!ok) return std::nullopt;
  return Regs{r.rip, r.rsp};
#else
  (void)pid;
  *why = "x86_64 only";
  return std::nullopt;
#endif
}

bool Readable(int fd) {
  pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int64_t WaitCode(const capspawn::Process& p) {
  auto r = p.Wait(-1);
  return r.ok() ? r.value() : INT64_MIN;
}

}  // namespace capspawn_test
