// SPDX-License-Identifier: Apache-2.0
// `capspawn run`: turns the parsed options into one capspawn_spawn_etc (or
// capspawn_spawn_vmo) call through the public C API, then waits for the child
// and exits with its return code.
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <capspawn/job.h>
#include <capspawn/spawn.h>
#include <capspawn/status.h>

#include "commands.h"
#include "container_actions.h"
#include "listen.h"
#include "options.h"
#include "voice.h"

extern char** environ;

namespace capspawn::cli {
namespace {

// A failure before or during the spawn: a status and a message naming what failed.
struct Failure {
  capspawn_status_t status = CAPSPAWN_OK;
  std::string message;
  explicit operator bool() const { return status != CAPSPAWN_OK; }
};

Failure ErrnoFailure(int err, const std::string& what) {
  return {capspawn_status_from_errno(err), what + ": " + strerror(err)};
}

// Fds capspawn opened for the child; closed unless handed to the spawn, which
// consumes them whether it succeeds or not.
class OwnedFds {
 public:
  OwnedFds() = default;
  OwnedFds(const OwnedFds&) = delete;
  OwnedFds& operator=(const OwnedFds&) = delete;
  ~OwnedFds() {
    for (int fd : fds_) close(fd);
  }
  int Add(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  void HandedOver() { fds_.clear(); }

 private:
  std::vector<int> fds_;
};

// ---- environment, program and job -------------------------------------

// The explicit environment the options describe, or *explicit_env = false
// when none of them was given (the flags then decide).
Failure BuildEnvironment(const RunOptions& o, bool* explicit_env, std::vector<std::string>* env) {
  *explicit_env = !o.env.empty();
  if (o.env.empty()) return {};
  if (o.flags & CAPSPAWN_CLONE_ENVIRON) {
    for (char** e = environ; *e != nullptr; ++e) env->emplace_back(*e);
  }
  std::string error;
  capspawn_status_t status = ApplyEnvOptions(o.env, env, &error);
  if (status != CAPSPAWN_OK) return {status, error};
  return {};
}

// PROGRAM as given when it has a '/', else the first executable regular file
// of that name in capspawn's PATH, as a shell finds it.
Failure ResolveProgram(const std::string& program, std::string* path) {
  if (program.find('/') != std::string::npos) {
    *path = program;
    return {};
  }
  const char* search = getenv("PATH");
  if (search == nullptr || *search == '\0') search = "/usr/local/bin:/usr/bin:/bin";
  std::string dirs = search;
  bool found_not_executable = false;
  for (size_t start = 0; start <= dirs.size();) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    struct stat st;
    if (!program.empty() && stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(candidate.c_str(), X_OK) == 0) {
        *path = candidate;
        return {};
      }
      found_not_executable = true;
    }
    start = colon + 1;
  }
  if (found_not_executable) {
    return {CAPSPAWN_ERR_ACCESS_DENIED, "'" + program + "': found in PATH but not executable"};
  }
  return {CAPSPAWN_ERR_NOT_FOUND, "'" + program + "': not found in PATH (" + dirs + ")"};
}

bool IsFdNumber(const std::string& s) {
  return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

// Fails unless fd is open in capspawn. Checked before capspawn opens anything
// itself, so a closed SRC can never silently name one of capspawn's own fds.
Failure CheckOpen(int fd, const std::string& option) {
  if (fcntl(fd, F_GETFD) < 0) {
    return {CAPSPAWN_ERR_BAD_HANDLE, option + ": fd " + std::to_string(fd) + " is not open"};
  }
  return {};
}

Failure CheckSourceFds(const RunOptions& o) {
  for (const ActionOption& a : o.actions) {
    if (a.source_fd < 0) continue;
    if (Failure f = CheckOpen(a.source_fd, a.option)) return f;
  }
  if (o.start_data_fd >= 0) {
    if (Failure f =
            CheckOpen(o.start_data_fd, "--start-data-fd " + std::to_string(o.start_data_fd)))
      return f;
  }
  if (IsFdNumber(o.job)) return CheckOpen(std::stoi(o.job), "--job " + o.job);
  return {};
}

// A JOB path as `capspawn job` reads it: absolute, or ./ ../ relative to the
// working directory, or else relative to the default job (capspawn's cgroup).
Failure JobPath(const std::string& job, std::string* path) {
  if (job[0] == '/' || job == "." || job == ".." || job.rfind("./", 0) == 0 ||
      job.rfind("../", 0) == 0) {
    *path = job;
    return {};
  }
  int default_job = -1;
  char err_msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t status = capspawn_job_default(&default_job, err_msg);
  if (status != CAPSPAWN_OK) return {status, "--job " + job + ": the default job: " + err_msg};
  char base[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(default_job);
  ssize_t len = readlink(link.c_str(), base, sizeof(base) - 1);
  int err = errno;
  close(default_job);
  if (len < 0) return ErrnoFailure(err, "--job " + job + ": readlink " + link);
  *path = std::string(base, len) + "/" + job;
  return {};
}

Failure OpenJob(const std::string& job, OwnedFds* owned, int* job_fd) {
  *job_fd = -1;
  if (job.empty()) return {};
  if (IsFdNumber(job)) {
    *job_fd = std::stoi(job);  // capspawn's own fd; the spawn does not take the job
    return {};
  }
  std::string path;
  if (Failure f = JobPath(job, &path)) return f;
  int fd = -1;
  char err_msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t status = capspawn_job_open(path.c_str(), &fd, err_msg);
  if (status != CAPSPAWN_OK) return {status, "--job " + job + ": " + err_msg};
  *job_fd = owned->Add(fd);
  return {};
}

// capspawn started with fd 0, 1 or 2 closed would otherwise hand its own next
// open (a namespace directory, a job, its signal pipe) to the child as stdio
// under CLONE_STDIO. /dev/null there is what the child gets for a missing fd anyway.
Failure FillStdio() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    int null_fd = open("/dev/null", O_RDWR);  // the lowest free fd: this one
    if (null_fd < 0)
      return ErrnoFailure(errno, "open /dev/null for closed fd " + std::to_string(fd));
  }
  return {};
}

// ---- actions -----------------------------------------------------------

// ADD_HANDLE, or ADD_NAMED_HANDLE when the option gave a name.
void SetHandle(capspawn_action_t* act, const ActionOption& a, int fd) {
  if (a.name.empty()) {
    act->h.id = a.id;
    act->h.handle = fd;
  } else {
    act->action = CAPSPAWN_ACTION_ADD_NAMED_HANDLE;
    act->named.id = a.id;
    act->named.handle = fd;
    act->named.name = a.name.c_str();
  }
}

// The library names actions by index and flags by their C names; the user
// typed options. "action 2" becomes the option's text, "CLONE_NAMESPACE"
// the flag's spelling.
// `extra` names capspawn's own actions, which come after the user's.
std::string InTermsOfOptions(std::string message, const RunOptions& o,
                             const std::vector<std::string>& extra, const std::string& job_fd) {
  struct Word {
    const char* constant;
    const char* option;
  };
  static constexpr Word kWords[] = {
      {"CLONE_NAMESPACE", "--clone=namespace"},
      {"DEFAULT_LDSVC", "--clone=ldsvc"},
      {"CLONE_UTC_CLOCK", "--clone=utc-clock"},
      {"CLONE_STDIO", "--clone=stdio"},
      {"CLONE_ENVIRON", "--clone=environ"},
      {"CLONE_JOB", "--clone=job"},
      {"PA_LDSVC_LOADER", "--ldsvc"},
      {"PA_CLOCK_UTC", "clock_utc"},
      {"PA_NS_DIR", "ns_dir"},
      {"ADD_NS_ENTRY", "--ns"},
      {"SET_NAME", "--name"},
  };
  auto is_word = [](char c) {
    return (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
  };
  for (const Word& w : kWords) {
    const size_t len = strlen(w.constant);
    for (size_t at = message.find(w.constant); at != std::string::npos;
         at = message.find(w.constant, at)) {
      size_t start = at;
      if (message.compare(start >= 9 ? start - 9 : 0, 9, "CAPSPAWN_") == 0 && start >= 9) {
        start -= 9;
      }
      const bool whole = (start == 0 || !is_word(message[start - 1])) &&
                         (at + len == message.size() || !is_word(message[at + len]));
      if (!whole) {
        at += len;
        continue;
      }
      message.replace(start, at + len - start, w.option);
      at = start + strlen(w.option);
    }
  }
  // "action N" -> "--fd 3=9"; capspawn's own extra actions come after the user's.
  for (size_t at = message.find("action "); at != std::string::npos;
       at = message.find("action ", at + 1)) {
    size_t end = at + 7;
    while (end < message.size() && message[end] >= '0' && message[end] <= '9') ++end;
    if (end == at + 7) continue;
    const size_t index = std::stoul(message.substr(at + 7, end - at - 7));
    if (index < o.actions.size()) {
      message.replace(at, end - at, o.actions[index].option);
    } else if (index - o.actions.size() < extra.size()) {
      message.replace(at, end - at, extra[index - o.actions.size()]);
    }
  }
  if (!job_fd.empty()) {
    const std::string lib = "job " + job_fd;
    if (message.rfind(lib, 0) == 0) message.replace(0, lib.size(), "--job " + o.job);
  }
  return message;
}

// The user's options as actions, then capspawn's implied id maps (their
// labels appended to *extra).
Failure BuildActions(const RunOptions& o, OwnedFds* owned, ContainerStorage* storage,
                     std::vector<capspawn_action_t>* actions, std::vector<std::string>* extra) {
  for (const ActionOption& a : o.actions) {
    capspawn_action_t act = {};
    act.action = a.action;
    if (a.action >= CAPSPAWN_ACTION_NEW_NAMESPACES && a.action <= CAPSPAWN_ACTION_JOIN_NAMESPACE) {
      std::vector<int> opened;
      Failure f;
      bool ok = BuildContainerAction(o, a, storage, &act, &opened, &f.status, &f.message);
      for (int fd : opened) owned->Add(fd);
      if (!ok) return f;
      actions->push_back(act);
      continue;
    }
    switch (a.action) {
      case CAPSPAWN_ACTION_CLONE_FD:
      case CAPSPAWN_ACTION_TRANSFER_FD:
        act.fd.local_fd = a.source_fd;
        act.fd.target_fd = a.target_fd;
        break;
      case CAPSPAWN_ACTION_ADD_HANDLE: {
        if (a.listen) {  // --listen ADDR: a socket of capspawn's own, handed over
          capspawn_status_t status = CAPSPAWN_OK;
          std::string why;
          int socket = OpenListen(a.address, &status, &why);
          if (socket < 0) return {status, a.option + ": " + why};
          SetHandle(&act, a, owned->Add(socket));
          break;
        }
        if (!a.dir.empty()) {  // --ldsvc DIR
          int dir = open(a.dir.c_str(), O_DIRECTORY | O_PATH | O_CLOEXEC);
          if (dir < 0) return ErrnoFailure(errno, a.option + ": open " + a.dir);
          act.h.id = a.id;
          act.h.handle = owned->Add(dir);
          break;
        }
        // ADD_HANDLE consumes its fd: hand a copy so capspawn's own stays valid.
        int copy = fcntl(a.source_fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
          return ErrnoFailure(errno, a.option + ": dup fd " + std::to_string(a.source_fd));
        SetHandle(&act, a, owned->Add(copy));
        break;
      }
      case CAPSPAWN_ACTION_SET_NAME:
        act.name.data = a.path.c_str();
        break;
      case CAPSPAWN_ACTION_ADD_NS_ENTRY:
      case CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY: {
        int dir = open(a.dir.c_str(), O_DIRECTORY | O_PATH | O_CLOEXEC);
        if (dir < 0) return ErrnoFailure(errno, a.option + ": open " + a.dir);
        act.ns.prefix = a.path.c_str();
        act.ns.handle = owned->Add(dir);
        break;
      }
      case CAPSPAWN_ACTION_CLONE_DIR:
      case CAPSPAWN_ACTION_ADD_NS_TMPFS:
      case CAPSPAWN_ACTION_ADD_NS_PROC:
      case CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL:
        act.dir.prefix = a.path.c_str();
        break;
    }
    actions->push_back(act);
  }
  for (const capspawn_action_t& m : ImpliedIdMaps(o)) {
    actions->push_back(m);
    extra->push_back(m.action == CAPSPAWN_ACTION_ADD_UID_MAP
                         ? "the uid map capspawn adds for --uid/--gid"
                         : "the gid map capspawn adds for --uid/--gid");
  }
  return {};
}

// ---- waiting -----------------------------------------------------------

// Signals sent to capspawn by another process reach the child too.
constexpr int kForwardedSignals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
int g_signal_pipe = -1;  // write end, for the handler
// Through a launcher, until there is a child to relay to, a signal ends
// capspawn as if no handler were installed: a spawn waiting on a launcher
// that never answers must not outlive a SIGTERM (SA_RESTART would resume its
// recvmsg). (In-process the spawn is quick: the signal is relayed once it is
// done.)
volatile sig_atomic_t g_waiting_for_launcher = 0;

void OnSignal(int signo, siginfo_t* info, void*) {
  if (g_waiting_for_launcher) {
    signal(signo, SIG_DFL);
    sigset_t self;
    sigemptyset(&self);
    sigaddset(&self, signo);
    sigprocmask(SIG_UNBLOCK, &self, nullptr);  // delivered now, not after the handler
    raise(signo);
    return;
  }
  // From the terminal (SI_KERNEL) the child, in our process group, has its
  // own copy already; only a kill(2)-style sender (si_code <= 0) is relayed.
  if (info->si_code > 0) return;
  int saved = errno;
  unsigned char byte = static_cast<unsigned char>(signo);
  ssize_t ignored = write(g_signal_pipe, &byte, 1);  // full pipe: the signal is pending anyway
  (void)ignored;
  errno = saved;
}

Failure InstallSignalRelay(int pipe_fds[2]) {
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoFailure(errno, "pipe2");
  g_signal_pipe = pipe_fds[1];
  struct sigaction sa = {};
  sa.sa_sigaction = OnSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwardedSignals) sigaction(sig, &sa, nullptr);
  return {};
}

int PidOf(int pidfd) {
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

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Waits until the child exits, relaying signals, or until the deadline
// (< 0: none). Returns false when the deadline passed first, true otherwise
// (the caller then collects the exit with capspawn_process_wait).
bool WaitForExit(int pidfd, int signal_pipe, int64_t deadline_ns) {
  while (true) {
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {signal_pipe, POLLIN, 0}};
    timespec timeout;
    timespec* timeout_ptr = nullptr;
    if (deadline_ns >= 0) {
      int64_t left = deadline_ns - MonotonicNs();
      if (left <= 0) return false;
      timeout = {static_cast<time_t>(left / 1000000000LL), static_cast<long>(left % 1000000000LL)};
      timeout_ptr = &timeout;
    }
    if (ppoll(fds, 2, timeout_ptr, nullptr) < 0) {
      if (errno == EINTR) continue;  // a signal: its byte is in the pipe
      return true;                   // cannot poll: capspawn_process_wait blocks instead
    }
    if (fds[1].revents & POLLIN) {
      unsigned char signals[64];
      ssize_t n = read(signal_pipe, signals, sizeof(signals));
      for (ssize_t i = 0; i < n; ++i) {
        syscall(SYS_pidfd_send_signal, pidfd, static_cast<int>(signals[i]), nullptr, 0);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) return true;
  }
}

// ---- the command -------------------------------------------------------

class Run {
 public:
  explicit Run(RunOptions options) : o_(std::move(options)) {}

  int Execute() {
    SetQuiet(o_.quiet);
    if (!o_.unbuilt_option.empty()) {
      return Fail({CAPSPAWN_ERR_NOT_SUPPORTED, o_.unbuilt_option + " is not built yet"});
    }
    // The library routes capspawn_spawn* through the daemon this names; a
    // child given capspawn's environment spawns through it too.
    if (!o_.launcher.empty()) setenv("CAPSPAWN_LAUNCHER", o_.launcher.c_str(), 1);
    WarnAboutDroppedStdio();
    if (Failure f = Spawn()) return Fail(f);
    if (o_.suspended) return suspended_exit_;
    if (o_.print_pid) fprintf(stderr, "capspawn: pid %d\n", PidOf(process_));

    int64_t deadline = o_.timeout_ns >= 0 ? MonotonicNs() + o_.timeout_ns : -1;
    bool timed_out = !WaitForExit(process_, signal_pipe_[0], deadline);
    if (timed_out) capspawn_process_kill(process_);
    int64_t code = 0;
    capspawn_status_t status = capspawn_process_wait(process_, -1, &code);
    if (status != CAPSPAWN_OK) {
      return Fail({status, "wait for pid " + std::to_string(PidOf(process_)) + " failed"});
    }
    if (timed_out) {
      Report(CAPSPAWN_ERR_TIMED_OUT, o_.command[0] + " ran longer than --timeout; killed it");
      return kExitTimeout;
    }
    return code >= 0 ? static_cast<int>(code) : kExitSignalBase + static_cast<int>(-code);
  }

  ~Run() {
    if (process_ >= 0) close(process_);
    for (int fd : signal_pipe_) {
      if (fd >= 0) close(fd);
    }
  }

 private:
  bool ActionSetsFd(int target) const {
    for (const ActionOption& a : o_.actions) {
      if ((a.action == CAPSPAWN_ACTION_CLONE_FD || a.action == CAPSPAWN_ACTION_TRANSFER_FD) &&
          a.target_fd == target) {
        return true;
      }
      if (a.action == CAPSPAWN_ACTION_ADD_HANDLE && !a.listen && a.dir.empty() &&
          CAPSPAWN_PA_TYPE(a.id) == CAPSPAWN_PA_FD &&
          static_cast<int>(CAPSPAWN_PA_ARG(a.id) & ~CAPSPAWN_FLAG_USE_FOR_STDIO) == target) {
        return true;
      }
    }
    return false;
  }

  // --clone=LIST replaces the default set: a list without stdio leaves the
  // child's fds 0-2 on /dev/null, which looks like a program that printed
  // nothing. Said once, unless an option hands one of those fds itself.
  void WarnAboutDroppedStdio() const {
    if (o_.clone_list.empty() || (o_.flags & CAPSPAWN_CLONE_STDIO)) return;
    if (ActionSetsFd(0) || ActionSetsFd(1) || ActionSetsFd(2)) return;
    Warn("--clone=" + o_.clone_list +
         " replaces the default set (all): the child gets no stdio, its fds 0-2 are "
         "/dev/null; add 'stdio' to the list to keep them");
  }

  // Where `run --suspended` writes the start data, and what that means for
  // the child's stdout (docs/cli.md, "Create without starting").
  Failure PlanSuspended(SuspendedOutput* out, bool* null_stdout) const {
    *null_stdout = false;
    if (!o_.suspended) return {};  // the parser refused the --start-* options without it
    out->start_data_fd = o_.start_data_fd >= 0 ? o_.start_data_fd : 1;
    out->start_data_file = o_.start_data_file;
    out->start_deadline_ns = o_.start_deadline_ns;
    const char* launcher = getenv("CAPSPAWN_LAUNCHER");
    if (o_.start_deadline_ns > 0 && launcher != nullptr && *launcher != '\0') {
      return {CAPSPAWN_ERR_NOT_SUPPORTED,
              "--start-deadline through the launcher: the daemon creates (and holds) the process, "
              "so capspawn cannot see it start; not built (docs/cli.md)"};
    }
    // The default: the start data on capspawn's stdout, which the child
    // then does not share, so $(capspawn run --suspended ...) never waits on it.
    *null_stdout = o_.start_data_file.empty() && out->start_data_fd == 1 &&
                   (o_.flags & CAPSPAWN_CLONE_STDIO) && !ActionSetsFd(1);
    return {};
  }

  Failure Spawn() {
    if (Failure f = CheckSourceFds(o_)) return f;
    if (Failure f = FillStdio()) return f;
    SuspendedOutput suspended_output;
    bool null_stdout = false;
    if (Failure f = PlanSuspended(&suspended_output, &null_stdout)) return f;
    bool explicit_env = false;
    std::vector<std::string> env;
    if (Failure f = BuildEnvironment(o_, &explicit_env, &env)) return f;
    std::string path;
    if (Failure f = ResolveProgram(o_.command[0], &path)) return f;

    OwnedFds job_owner;  // the spawn does not take the job: closed when done here
    int job = -1;
    if (Failure f = OpenJob(o_.job, &job_owner, &job)) return f;
    job_fd_text_ = job >= 0 && !IsFdNumber(o_.job) ? std::to_string(job) : "";
    int executable = -1;
    if (o_.vmo) {
      executable = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (executable < 0) return ErrnoFailure(errno, "--vmo: open " + path);
    }
    // Closed here unless handed to capspawn_spawn_vmo, which consumes it.
    OwnedFds owned_executable;
    if (executable >= 0) owned_executable.Add(executable);
    OwnedFds owned;
    std::vector<capspawn_action_t> actions;
    ContainerStorage storage;
    extra_labels_.clear();
    if (Failure f = BuildActions(o_, &owned, &storage, &actions, &extra_labels_)) return f;
    OwnedFds null_owner;
    if (null_stdout) {  // after the user's actions, so their indices stay
      int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (null_fd < 0) return ErrnoFailure(errno, "open /dev/null for the child's stdout");
      null_owner.Add(null_fd);
      capspawn_action_t act = {};
      act.action = CAPSPAWN_ACTION_CLONE_FD;
      act.fd.local_fd = null_fd;
      act.fd.target_fd = 1;
      actions.push_back(act);
      extra_labels_.push_back("capspawn's /dev/null for fd 1");
    }
    g_waiting_for_launcher = !o_.launcher.empty();
    if (Failure f = InstallSignalRelay(signal_pipe_)) return f;

    std::vector<const char*> argv;
    for (const std::string& a : o_.command) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::vector<const char*> envp;
    for (const std::string& e : env) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    const char* const* environ_arg = explicit_env ? envp.data() : nullptr;

    if (o_.suspended) {  // create without starting: cmd_start.cc
      suspended_exit_ = RunSuspended(
          [&](capspawn_start_data_t* data, std::string* message) {
            char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
            owned.HandedOver();
            owned_executable.HandedOver();
            capspawn_status_t st = capspawn_create_without_starting(
                job, o_.flags, o_.vmo ? nullptr : path.c_str(), executable, argv.data(),
                environ_arg, actions.size(), actions.data(), data, err);
            *message = err[0] != '\0' ? InTermsOfOptions(err, o_, extra_labels_, job_fd_text_)
                                      : "create " + path + " failed";
            return st;
          },
          suspended_output);
      return {};
    }
    char err_msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
    capspawn_status_t status;
    if (o_.vmo) {
      owned_executable.HandedOver();
      status = capspawn_spawn_vmo(job, o_.flags, executable, argv.data(), environ_arg,
                                  actions.size(), actions.data(), &process_, err_msg);
    } else {
      status = capspawn_spawn_etc(job, o_.flags, path.c_str(), argv.data(), environ_arg,
                                  actions.size(), actions.data(), &process_, err_msg);
    }
    owned.HandedOver();  // the actions' fds are consumed, success or not
    if (status != CAPSPAWN_OK) {
      process_ = -1;
      return {status, err_msg[0] != '\0'
                          ? InTermsOfOptions(err_msg, o_, extra_labels_, job_fd_text_)
                          : "spawn " + path + " failed"};
    }
    g_waiting_for_launcher = 0;
    return {};
  }

  static void Report(capspawn_status_t status, const std::string& message) {
    capspawn::cli::Report(status, message);
  }
  static int Fail(const Failure& f) { return capspawn::cli::Fail(f.status, f.message); }

  RunOptions o_;
  int process_ = -1;
  int signal_pipe_[2] = {-1, -1};
  int suspended_exit_ = 0;
  std::string job_fd_text_;                // the job fd capspawn opened, as the library names it
  std::vector<std::string> extra_labels_;  // capspawn's own actions, after the user's
};

}  // namespace
}  // namespace capspawn::cli

int CmdRun(int argc, char** argv) {
  using capspawn::cli::ParseResult;
  ParseResult parsed = capspawn::cli::ParseRunOptions(argc, argv);
  switch (parsed.outcome) {
    case ParseResult::Outcome::kHelp:
      capspawn::cli::PrintRunHelp(stdout);
      return 0;
    case ParseResult::Outcome::kUsageError:
      return capspawn::cli::Usage("run", parsed.error);
    case ParseResult::Outcome::kRun:
      break;
  }
  return capspawn::cli::Run(std::move(parsed.options)).Execute();
}
