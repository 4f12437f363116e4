// SPDX-License-Identifier: Apache-2.0
// `capspawn run --suspended` (the create half) and `capspawn start`.
//
// Why a session of its own: the process waits in a group stop, and POSIX has
// the kernel send SIGHUP then SIGCONT to every process of a process group that
// becomes orphaned while one of its members is stopped. When capspawn was
// started by a job-control shell (its own process group, the shell in another
// one of the same session), capspawn's exit would orphan the group of the
// stopped child, which SIGHUP would then kill. A forked helper that calls
// setsid() creates the process instead; the child shares the helper's new
// session, and a group in another session than its parent's is never
// signalled that way.
//
// The helper is the process's parent. With --start-deadline it stays, its
// stdio on /dev/null, until the process is started (the kernel reports the
// SIGCONT to the parent: waitid WCONTINUED) or exits, and kills it at the
// deadline otherwise.
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include <capspawn/start.h>
#include <capspawn/status.h>

#include "commands.h"
#include "options_table.h"
#include "voice.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn::cli {
namespace {

std::string StartDataJson(const capspawn_start_data_t& d) {
  nlohmann::ordered_json j;
  j["pid"] = d.thread;
  j["thread"] = d.thread;
  j["process"] = d.process;
  j["root_vmar"] = d.root_vmar;
  j["entry"] = JsonAddress(d.entry);
  j["stack"] = JsonAddress(d.stack);
  j["base"] = JsonAddress(d.base);
  j["vdso_base"] = JsonAddress(d.vdso_base);
  return j.dump() + "\n";
}

bool WriteAll(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// In the helper, once capspawn has its answer: waits until the process is
// started or gone, or kills it at the deadline. Never returns.
[[noreturn]] void WatchDeadline(int pidfd, int signal_fd, int64_t deadline) {
  for (;;) {
    siginfo_t info = {};
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
               WCONTINUED | WEXITED | WNOHANG) == 0 &&
        info.si_pid != 0) {
      _exit(0);  // started (CLD_CONTINUED), or it exited and is now reaped
    }
    int64_t left = deadline - MonotonicNs();
    if (left <= 0) {
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED);
      _exit(0);
    }
    timespec timeout = {static_cast<time_t>(left / 1000000000LL),
                        static_cast<long>(left % 1000000000LL)};
    pollfd p = {signal_fd, POLLIN, 0};
    if (ppoll(&p, 1, &timeout, nullptr) > 0) {
      signalfd_siginfo si;
      while (read(signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      }
    }
  }
}

// The watching helper holds nothing of capspawn's but these two (and stdio
// on /dev/null): a pipe capspawn had open must not stay open until the deadline.
void KeepOnly(int a, int b) {
  const int low = a < b ? a : b, high = a < b ? b : a;
  if (low > 3) syscall(SYS_close_range, 3u, static_cast<unsigned>(low - 1), 0u);
  if (high > low + 1) {
    syscall(SYS_close_range, static_cast<unsigned>(low + 1), static_cast<unsigned>(high - 1), 0u);
  }
  syscall(SYS_close_range, static_cast<unsigned>(high + 1), ~0u, 0u);
}

// Nothing may wait on the helper's stdio once capspawn has exited.
void DetachStdio() {
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2 && null_fd >= 0; ++fd) dup2(null_fd, fd);
  if (null_fd > 2) close(null_fd);
}

constexpr char kStartHelp[] = R"(Usage: capspawn start [-q] PID
       capspawn start [-q] --fd N

Start a process that waits before its first instruction: one created by
'capspawn run --suspended' (or capspawn_create_without_starting). The process
is named by its PID, or by a pidfd capspawn inherited as fd N. capspawn sends
it SIGCONT through a pidfd, prints "started process PID" and exits.

Options:
      --fd N       the process is the pidfd N (inherited), not a PID
  -q, --quiet      print nothing on success
  -h, --help       show this help and exit

'capspawn ps --suspended' lists the processes waiting to be started.

Exit status: 0 started; 2 wrong command line; 125 capspawn failed, with
"capspawn: STATUS: message" on stderr (NOT_FOUND: no such process;
BAD_STATE: the process is not stopped; BAD_HANDLE: fd N is not a pidfd).
)";

int PidOfPidfd(int pidfd) {
  std::string path = "/proc/self/fdinfo/" + std::to_string(pidfd);
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) return -1;
  int pid = -1;
  char line[256];
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (sscanf(line, "Pid: %d", &pid) == 1) break;
  }
  fclose(f);
  return pid;
}

}  // namespace

int RunSuspended(
    const std::function<capspawn_status_t(capspawn_start_data_t*, std::string*)>& create,
    const SuspendedOutput& output) {
  int out_fd = output.start_data_fd;
  int file_fd = -1;
  if (!output.start_data_file.empty()) {
    file_fd = open(output.start_data_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (file_fd < 0) {
      int err = errno;
      return Fail(capspawn_status_from_errno(err),
                  "--start-data " + output.start_data_file + ": open: " + strerror(err));
    }
    out_fd = file_fd;
  }
  // The helper's answer: one byte, the exit code, once the start data is out.
  int answer[2];
  if (pipe2(answer, O_CLOEXEC) != 0) return Fail(capspawn_status_from_errno(errno), "pipe2");
  // SIGCHLD reaches the helper's signalfd: blocked before the fork, so that a
  // start between the create and the watch is not missed.
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);
  fflush(stdout);
  fflush(stderr);
  pid_t helper = fork();
  if (helper < 0) {
    int err = errno;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return Fail(capspawn_status_from_errno(err), std::string("fork: ") + strerror(err));
  }
  if (helper == 0) {
    close(answer[0]);
    setsid();  // not a group leader (just forked), so it cannot fail
    capspawn_start_data_t data = {};
    std::string message;
    unsigned char code = kExitOk;
    capspawn_status_t status = create(&data, &message);
    if (status != CAPSPAWN_OK) {
      Report(status, message);
      code = kExitFailure;
    } else if (!WriteAll(out_fd, StartDataJson(data))) {
      int err = errno;
      Report(capspawn_status_from_errno(err),
             "write the start data to fd " + std::to_string(out_fd) + ": " + strerror(err));
      capspawn_process_kill(data.process);  // nobody could start it
      code = kExitFailure;
    }
    if (write(answer[1], &code, 1) != 1) code = kExitFailure;
    close(answer[1]);
    if (code != kExitOk || output.start_deadline_ns <= 0) _exit(code);
    DetachStdio();
    int signal_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    KeepOnly(data.process, signal_fd);
    WatchDeadline(data.process, signal_fd, MonotonicNs() + output.start_deadline_ns);
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  close(answer[1]);
  if (file_fd >= 0) close(file_fd);
  unsigned char code = kExitFailure;
  ssize_t n;
  do {
    n = read(answer[0], &code, 1);
  } while (n < 0 && errno == EINTR);
  close(answer[0]);
  if (n != 1) code = kExitFailure;  // the helper died before answering
  // No start data: no file of it either.
  if (code != kExitOk && !output.start_data_file.empty()) unlink(output.start_data_file.c_str());
  // Without a deadline the helper has exited (or is about to): reap it. With
  // one it lives on, and its new parent reaps it.
  if (output.start_deadline_ns <= 0 || code != kExitOk) {
    while (waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  return code;
}

}  // namespace capspawn::cli

int CmdStart(int argc, char** argv) {
  using namespace capspawn::cli;
  const CommandOptions* table = FindCommandOptions("start");
  opterr = 0;
  int fd = -1;
  int c;
  while ((c = getopt_long(argc, argv, table->short_options, table->long_options, nullptr)) != -1) {
    switch (c) {
      case 'h':
        fputs(kStartHelp, stdout);
        return 0;
      case 'q':
        SetQuiet(true);
        break;
      case 'f': {
        char* end = nullptr;
        long v = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || v < 0 || v > INT32_MAX) {
          return Usage("start", std::string("--fd '") + optarg + "': expected an fd number");
        }
        fd = static_cast<int>(v);
        break;
      }
      default:
        return Usage("start", GetoptError(table->long_options, argv));
    }
  }
  const int rest = argc - optind;
  if ((fd >= 0 && rest != 0) || (fd < 0 && rest != 1)) {
    return Usage("start", "expected exactly one PID, or --fd N");
  }
  std::string what;
  int pidfd = fd;
  if (fd < 0) {
    const char* text = argv[optind];
    char* end = nullptr;
    long pid = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || pid <= 0 || pid > INT32_MAX) {
      return Usage("start", std::string("'") + text + "' is not a PID");
    }
    what = "process " + std::to_string(pid);
    pidfd = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
    if (pidfd < 0) {
      int err = errno;
      capspawn_status_t st =
          err == ESRCH ? CAPSPAWN_ERR_NOT_FOUND : capspawn_status_from_errno(err);
      return Fail(st, what + ": pidfd_open: " + strerror(err));
    }
  } else {
    what = "pidfd " + std::to_string(fd);
  }
  capspawn_status_t status = capspawn_start(pidfd);
  int pid = PidOfPidfd(pidfd);
  if (fd < 0) close(pidfd);
  if (status != CAPSPAWN_OK) {
    const char* why = status == CAPSPAWN_ERR_BAD_STATE    ? "is not stopped (running, or exited)"
                      : status == CAPSPAWN_ERR_BAD_HANDLE ? "is not a process"
                                                          : "could not be started";
    return Fail(status, what + " " + why);
  }
  Confirm("started", "process " + std::to_string(pid));
  return 0;
}
