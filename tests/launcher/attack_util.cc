// SPDX-License-Identifier: Apache-2.0
#include "attack_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace capspawn_test {
namespace {

bool BecomeNobody() {
  if (geteuid() != 0) return true;  // already unprivileged (the nobody run)
  if (setgroups(0, nullptr) != 0 || setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
      setresuid(kNobody, kNobody, kNobody) != 0) {
    return false;
  }
  // Changing uids made this process non-dumpable; an ordinary one is not.
  return prctl(PR_SET_DUMPABLE, 1) == 0;
}

int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(tasks.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string text = ReadFileBytes(tasks + "/" + e->d_name + "/children");
    size_t at = 0;
    while (at < text.size()) {
      size_t end = text.find(' ', at);
      if (end == std::string::npos) end = text.size();
      if (end > at) out.push_back(std::atoi(text.substr(at, end - at).c_str()));
      at = end + 1;
    }
  }
  closedir(d);
  return out;
}

std::vector<pid_t> Tree(pid_t root) {
  std::vector<pid_t> all = {root};
  for (size_t i = 0; i < all.size(); ++i) {
    for (pid_t c : ChildrenOf(all[i])) all.push_back(c);
  }
  return all;
}

int CountEntries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  int n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

}  // namespace

int RunAsNobody(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid < 0) return 250;
  if (pid == 0) {
    if (!BecomeNobody()) _exit(250);
    _exit(body() & 0xff);
  }
  int status = Reap(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

CommandResult RunCommandAsNobody(const Strings& argv, int timeout_ms) {
  CommandResult r;
  Pipe out = MakePipe();
  pid_t pid = fork();
  if (pid < 0) return r;
  if (pid == 0) {
    if (!BecomeNobody()) _exit(250);
    dup2(out.write.get(), 1);
    dup2(out.write.get(), 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  out.write.reset();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  for (;;) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    pollfd p{out.read.get(), POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) == 0) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    ssize_t n = read(out.read.get(), buf, sizeof buf);
    if (n <= 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  r.status = Reap(pid);
  return r;
}

VarTmpDir::VarTmpDir(const std::string& prefix) {
  std::string tmpl = "/var/tmp/" + prefix + "XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
  chmod(path_.c_str(), 0755);
}

VarTmpDir::~VarTmpDir() {
  if (!path_.empty())
    std::system(("chmod -R u+rwX '" + path_ + "'; rm -rf '" + path_ + "'").c_str());
}

bool CopyFileTo(const std::string& from, const std::string& to, mode_t mode) {
  UniqueFd in(open(from.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd out(open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!in || !out) return false;
  char buf[65536];
  for (ssize_t n; (n = read(in.get(), buf, sizeof buf)) > 0;) {
    if (write(out.get(), buf, static_cast<size_t>(n)) != n) return false;
  }
  return fchmod(out.get(), mode) == 0;
}

std::string Footprint::Describe() const {
  return std::to_string(processes) + " processes, " + std::to_string(threads) + " threads, " +
         std::to_string(fds) + " fds";
}

Footprint FootprintOf(pid_t root) {
  Footprint f;
  for (pid_t pid : Tree(root)) {
    const std::string proc = "/proc/" + std::to_string(pid);
    ++f.processes;
    f.threads += CountEntries(proc + "/task");
    f.fds += CountEntries(proc + "/fd");
  }
  return f;
}

bool FootprintReturnsTo(pid_t root, const Footprint& baseline, int timeout_ms, Footprint* last) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    *last = FootprintOf(root);
    if (last->processes <= baseline.processes && last->threads <= baseline.threads &&
        last->fds <= baseline.fds) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    usleep(20000);
  }
}

pid_t ServingProcess(pid_t root, pid_t client) {
  const std::string want = "Pid:\t" + std::to_string(client) + "\n";
  for (pid_t pid : Tree(root)) {
    const std::string proc = "/proc/" + std::to_string(pid);
    DIR* d = opendir((proc + "/fdinfo").c_str());
    if (!d) continue;
    bool found = false;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::string info = ReadFileBytes(proc + "/fdinfo/" + e->d_name);
      if (info.find("\n" + want) != std::string::npos) found = true;
    }
    closedir(d);
    if (found) return pid;
  }
  return -1;
}

long StatusKb(pid_t pid, const char* field) {
  std::string status = ReadFileBytes("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find(std::string("\n") + field + ":");
  if (at == std::string::npos) return -1;
  return std::strtol(status.c_str() + at + std::strlen(field) + 2, nullptr, 10);
}

}  // namespace capspawn_test
