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
#include <getopt.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include <capspawn/start.h>
#include <capspawn/status.h>

#include "commands.h"
#include "options.h"

namespace {

using capspawn::cli::kExitFailure;
using capspawn::cli::kExitUsage;

// "BAD_STATE" for CAPSPAWN_ERR_BAD_STATE.
std::string ShortName(capspawn_status_t status) {
  std::string name = capspawn_status_string(status);
  for (const char* prefix : {"CAPSPAWN_ERR_", "CAPSPAWN_"}) {
    if (name.rfind(prefix, 0) == 0) return name.substr(strlen(prefix));
  }
  return name;
}

void PrintStartData(const capspawn_start_data_t& d) {
  printf(
      "{\"pid\":%d,\"thread\":%d,\"process\":%d,\"root_vmar\":%d,"
      "\"entry\":\"0x%" PRIx64 "\",\"stack\":\"0x%" PRIx64 "\",\"base\":\"0x%" PRIx64
      "\",\"vdso_base\":\"0x%" PRIx64 "\"}\n",
      d.thread, d.thread, d.process, d.root_vmar, d.entry, d.stack, d.base, d.vdso_base);
}

int StartUsage(const std::string& message) {
  fprintf(stderr, "capspawn start: %s\n(see 'capspawn start --help')\n", message.c_str());
  return kExitUsage;
}

constexpr char kStartHelp[] = R"(Usage: capspawn start PID
       capspawn start --fd N

Start a process that waits before its first instruction: one created by
'capspawn run --suspended' (or capspawn_create_without_starting). The process
is named by its PID, or by a pidfd capspawn inherited as fd N. capspawn sends
it SIGCONT through a pidfd and exits.

Options:
      --fd N       the process is the pidfd N (inherited), not a PID
  -h, --help       show this help and exit

Exit status: 0 started; 2 wrong command line; 125 capspawn failed, with
"capspawn: STATUS: message" on stderr (NOT_FOUND: no such process;
BAD_STATE: the process is not stopped; BAD_HANDLE: fd N is not a pidfd).
)";

}  // namespace

int RunSuspended(
    const std::function<capspawn_status_t(capspawn_start_data_t*, std::string*)>& create,
    bool quiet) {
  fflush(stdout);
  fflush(stderr);
  pid_t helper = fork();
  if (helper < 0) {
    if (!quiet) fprintf(stderr, "capspawn: %s: fork: %s\n", "INTERNAL", strerror(errno));
    return kExitFailure;
  }
  if (helper == 0) {
    // Not a group leader (just forked), so setsid cannot fail.
    setsid();
    capspawn_start_data_t data = {};
    std::string message;
    capspawn_status_t status = create(&data, &message);
    if (status != CAPSPAWN_OK) {
      if (!quiet) fprintf(stderr, "capspawn: %s: %s\n", ShortName(status).c_str(), message.c_str());
      fflush(stderr);
      _exit(kExitFailure);
    }
    PrintStartData(data);
    fflush(stdout);
    _exit(ferror(stdout) ? kExitFailure : 0);
  }
  int st = 0;
  while (waitpid(helper, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : kExitFailure;
}

int CmdStart(int argc, char** argv) {
  static const option kOptions[] = {
      {"fd", required_argument, nullptr, 'f'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  int fd = -1;
  int c;
  while ((c = getopt_long(argc, argv, "+h", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'h':
        fputs(kStartHelp, stdout);
        return 0;
      case 'f': {
        char* end = nullptr;
        long v = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || v < 0 || v > INT32_MAX) {
          return StartUsage(std::string("--fd '") + optarg + "': expected an fd number");
        }
        fd = static_cast<int>(v);
        break;
      }
      default:
        return StartUsage(std::string("unknown option '") + argv[optind - 1] + "'");
    }
  }
  const int rest = argc - optind;
  if ((fd >= 0 && rest != 0) || (fd < 0 && rest != 1)) {
    return StartUsage("expected exactly one PID, or --fd N");
  }
  std::string what;
  int pidfd = fd;
  if (fd < 0) {
    const char* text = argv[optind];
    char* end = nullptr;
    long pid = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || pid <= 0 || pid > INT32_MAX) {
      return StartUsage(std::string("'") + text + "' is not a PID");
    }
    what = "process " + std::to_string(pid);
    pidfd = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
    if (pidfd < 0) {
      int err = errno;
      capspawn_status_t st =
          err == ESRCH ? CAPSPAWN_ERR_NOT_FOUND : capspawn_status_from_errno(err);
      fprintf(stderr, "capspawn: %s: %s: pidfd_open: %s\n", ShortName(st).c_str(), what.c_str(),
              strerror(err));
      return kExitFailure;
    }
  } else {
    what = "pidfd " + std::to_string(fd);
  }
  capspawn_status_t status = capspawn_start(pidfd);
  if (fd < 0) close(pidfd);
  if (status != CAPSPAWN_OK) {
    const char* why = status == CAPSPAWN_ERR_BAD_STATE    ? "is not stopped (running, or exited)"
                      : status == CAPSPAWN_ERR_BAD_HANDLE ? "is not a process"
                                                          : "could not be started";
    fprintf(stderr, "capspawn: %s: %s %s\n", ShortName(status).c_str(), what.c_str(), why);
    return kExitFailure;
  }
  return 0;
}
