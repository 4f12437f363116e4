// SPDX-License-Identifier: Apache-2.0
// `capspawn ps --suspended`: the processes created and never started.
//
// Such a process has exec'd and waits in a stop before its first instruction
// (docs/process-builder.md). The kernel shows exactly that: state T, the
// syscall it is stopped in is the execve/execveat that loaded it (the stop
// came on that syscall's way back to user mode), and its stack pointer is
// still the initial one the kernel set up (/proc/PID/stat's startstack). No
// registry is kept, so processes made by any creator (the CLI, the C API,
// the launcher) are found, and nothing goes stale.
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "options_table.h"
#include "voice.h"

namespace capspawn::cli {
namespace {

constexpr char kHelp[] =
    R"(Usage: capspawn ps --suspended [--json] [--older-than SECONDS] [--kill] [PID...]

List the processes that were created without starting ('capspawn run
--suspended', capspawn_create_without_starting, ProcessBuilder::build) and
are still waiting for their start: stopped at the return of the exec that
loaded them, before their first instruction. Each has exec'd and holds its
resources until someone starts or kills it. PIDs given: only those of them.

Options:
      --suspended           list the created-and-never-started processes
                            (the only listing 'ps' has)
      --older-than SECONDS  only those created more than SECONDS ago
      --kill                kill them (SIGKILL through a pidfd), printing
                            "killed process PID"
      --json                print a JSON array, one object per process:
                            pid, ppid, uid, age_seconds, name, exe, entry, stack
  -h, --help                show this help and exit

Columns: PID, PPID (the creator, or whoever adopted the process), UID, AGE
(seconds since creation), COMMAND (/proc/PID/comm).

As a user other than root, only your own processes can be examined
(/proc/PID/syscall needs ptrace access), so only they are listed.

Exit status: 0; 2 for a wrong command line; 125 when /proc cannot be read.

Examples:
  capspawn ps --suspended
  capspawn ps --suspended --older-than 300 --kill
)";

struct Suspended {
  pid_t pid = 0;
  pid_t ppid = 0;
  uid_t uid = 0;
  double age_seconds = 0;
  std::string name, exe;
  uint64_t entry = 0, stack = 0;
  int pidfd = -1;  // pins the process: a kill cannot reach a reused pid
};

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream s;
  s << f.rdbuf();
  *out = s.str();
  return !f.bad();
}

double UptimeSeconds() {
  std::string text;
  return ReadFile("/proc/uptime", &text) ? strtod(text.c_str(), nullptr) : 0;
}

bool IsExecSyscall(long nr) {
#ifdef SYS_execveat
  if (nr == SYS_execveat) return true;
#endif
  return nr == SYS_execve;
}

// Fills *s when process `pid` (pinned by `pidfd`) waits before its first
// instruction; false otherwise, or when it cannot be examined.
bool Examine(pid_t pid, Suspended* s, double uptime) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::string stat;
  if (!ReadFile(dir + "/stat", &stat)) return false;
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  // Fields after "pid (comm)": 3 state, 4 ppid, ... 22 starttime, ... 28 startstack.
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string w; fields >> w;) f.push_back(w);
  if (f.size() < 26 || f[0] != "T") return false;
  const uint64_t start_stack = strtoull(f[25].c_str(), nullptr, 10);
  std::string syscall_text;
  if (!ReadFile(dir + "/syscall", &syscall_text)) return false;  // not ours to examine
  std::istringstream sys(syscall_text);
  std::vector<std::string> w;
  for (std::string x; sys >> x;) w.push_back(x);
  if (w.size() < 3 || w[0] == "running") return false;
  const long nr = strtol(w[0].c_str(), nullptr, 10);
  const uint64_t sp = strtoull(w[w.size() - 2].c_str(), nullptr, 16);
  const uint64_t pc = strtoull(w[w.size() - 1].c_str(), nullptr, 16);
  if (!IsExecSyscall(nr) || sp != start_stack || start_stack == 0) return false;
  s->pid = pid;
  s->ppid = static_cast<pid_t>(atoi(f[1].c_str()));
  s->age_seconds = uptime - strtod(f[19].c_str(), nullptr) / sysconf(_SC_CLK_TCK);
  if (s->age_seconds < 0) s->age_seconds = 0;
  s->name = stat.substr(stat.find('(') + 1, close - stat.find('(') - 1);
  s->stack = sp;
  s->entry = pc;
  std::string status;
  if (ReadFile(dir + "/status", &status)) {
    size_t at = status.find("\nUid:");
    if (at != std::string::npos) s->uid = static_cast<uid_t>(strtoul(&status[at + 5], nullptr, 10));
  }
  char exe[4096];
  ssize_t n = readlink((dir + "/exe").c_str(), exe, sizeof exe - 1);
  if (n > 0) s->exe.assign(exe, static_cast<size_t>(n));
  return true;
}

}  // namespace
}  // namespace capspawn::cli

int CmdPs(int argc, char** argv) {
  using namespace capspawn::cli;
  const CommandOptions* table = FindCommandOptions("ps");
  bool suspended = false, json = false, kill = false;
  double older_than = -1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, table->short_options, table->long_options, nullptr)) != -1) {
    switch (c) {
      case 'h':
        fputs(kHelp, stdout);
        return 0;
      case 's':
        suspended = true;
        break;
      case 'j':
        json = true;
        break;
      case 'k':
        kill = true;
        break;
      case 'o': {
        char* end = nullptr;
        errno = 0;
        older_than = strtod(optarg, &end);
        if (errno != 0 || end == optarg || *end != '\0' || !(older_than >= 0)) {
          return Usage("ps", std::string("--older-than '") + optarg + "': expected seconds");
        }
        break;
      }
      default:
        return Usage("ps", GetoptError(table->long_options, argv));
    }
  }
  std::vector<pid_t> only;
  for (int i = optind; i < argc; ++i) {
    char* end = nullptr;
    long pid = strtol(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0' || pid <= 0 || pid > INT32_MAX) {
      return Usage("ps", std::string("'") + argv[i] + "' is not a PID");
    }
    only.push_back(static_cast<pid_t>(pid));
  }
  if (!suspended) {
    return Usage("ps", "give --suspended (the processes created and never started)");
  }
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    int err = errno;
    return Fail(capspawn_status_from_errno(err), std::string("open /proc: ") + strerror(err));
  }
  const double uptime = UptimeSeconds();
  std::vector<Suspended> found;
  while (dirent* d = readdir(proc)) {
    char* end = nullptr;
    long pid = strtol(d->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), pid) == only.end()) continue;
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
    if (pidfd < 0) continue;
    Suspended s;
    // Still alive after the reads: /proc/PID was this process, not a reuse.
    if (Examine(static_cast<pid_t>(pid), &s, uptime) &&
        syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0 &&
        (older_than < 0 || s.age_seconds > older_than)) {
      s.pidfd = pidfd;
      found.push_back(s);
    } else {
      close(pidfd);
    }
  }
  closedir(proc);

  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  if (!json && !kill) printf("%7s %7s %6s %8s %s\n", "PID", "PPID", "UID", "AGE", "COMMAND");
  int rc = kExitOk;
  for (Suspended& s : found) {
    bool killed = false;
    if (kill) {
      killed = syscall(SYS_pidfd_send_signal, s.pidfd, SIGKILL, nullptr, 0) == 0;
      if (!killed && errno != ESRCH) {
        rc = Fail(capspawn_status_from_errno(errno),
                  "kill process " + std::to_string(s.pid) + ": " + strerror(errno));
      }
    }
    if (json) {
      nlohmann::ordered_json j;
      j["pid"] = s.pid;
      j["ppid"] = s.ppid;
      j["uid"] = s.uid;
      j["age_seconds"] = static_cast<int64_t>(s.age_seconds);
      j["name"] = s.name;
      j["exe"] = s.exe;
      j["entry"] = JsonAddress(s.entry);
      j["stack"] = JsonAddress(s.stack);
      if (kill) j["killed"] = killed;
      list.push_back(j);
    } else if (killed) {
      Confirm("killed", "process " + std::to_string(s.pid));
    } else if (!kill) {
      printf("%7d %7d %6u %7llds %s\n", s.pid, s.ppid, s.uid, static_cast<long long>(s.age_seconds),
             s.name.c_str());
    }
    close(s.pidfd);
  }
  if (json) puts(list.dump().c_str());
  return rc;
}
