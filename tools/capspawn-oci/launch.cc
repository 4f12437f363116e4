// The forked helper that calls capspawn_create_without_starting.
#include "launch.h"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <capspawn/processargs.h>
#include <capspawn/start.h>

#include "log.h"
#include "state.h"

namespace capspawn::oci {
namespace {

// What the helper reports through its pipe.
struct Report {
  capspawn_status_t status;
  pid_t pid;
  char message[CAPSPAWN_ERR_MSG_MAX_LENGTH];
};

void Send(int fd, capspawn_status_t status, pid_t pid, const std::string& message) {
  Report r{};
  r.status = status;
  r.pid = pid;
  snprintf(r.message, sizeof r.message, "%s", message.c_str());
  ssize_t ignored = write(fd, &r, sizeof r);
  (void)ignored;
}

// The helper's own attributes, inherited by the process it creates.
Status SetInherited(const LaunchSpec& spec, bool new_keyring) {
  umask(spec.umask);
  for (size_t i = 0; i < spec.rlimits.size(); ++i) {
    const Rlimit& l = spec.rlimits[i];
    rlimit r{static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)};
    if (setrlimit(l.resource, &r) != 0) {
      return Error::FromErrno(
          errno, "config.json: process.rlimits[" + std::to_string(i) + "]: setrlimit " + l.type);
    }
  }
  if (spec.oom_score_adj) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    std::string v = std::to_string(*spec.oom_score_adj);
    bool ok = fd >= 0 && write(fd, v.data(), v.size()) == static_cast<ssize_t>(v.size());
    int err = errno;
    if (fd >= 0) close(fd);
    if (!ok) return Error::FromErrno(err, "config.json: process.oomScoreAdj: write " + v);
  }
  if (new_keyring) {
    // A fresh anonymous session keyring, as runc gives each container. Hosts
    // whose seccomp forbids keyctl are tolerated, as runc tolerates them.
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0 && errno != ENOSYS &&
        errno != EPERM && errno != EACCES) {
      return Error::FromErrno(errno, "keyctl(KEYCTL_JOIN_SESSION_KEYRING)");
    }
  }
  if (spec.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Error::FromErrno(errno, "config.json: process.noNewPrivileges: prctl");
  }
  return {};
}

[[noreturn]] void Helper(LaunchSpec& spec, int job, const int stdio[3], bool new_keyring,
                         int report) {
  if (setsid() < 0) {
    Send(report, capspawn_status_from_errno(errno), 0, std::string("setsid: ") + strerror(errno));
    _exit(0);
  }
  if (Status st = SetInherited(spec, new_keyring); !st.ok()) {
    Send(report, st.status(), 0, st.error().message());
    _exit(0);
  }
  std::vector<capspawn_action_t> actions;
  std::vector<std::string> labels;  // what each action stands for in config terms
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] < 0 || fcntl(stdio[i], F_GETFD) < 0) continue;
    capspawn_action_t a{};
    a.action = CAPSPAWN_ACTION_CLONE_FD;
    a.fd = {stdio[i], i};
    actions.push_back(a);
    labels.push_back(spec.terminal ? "the terminal as fd " + std::to_string(i)
                                   : "our fd " + std::to_string(i) + " (stdio)");
  }
  for (NsEntry& e : spec.entries) {
    capspawn_action_t a{};
    a.action = e.action;
    if (e.action == CAPSPAWN_ACTION_ADD_NS_ENTRY ||
        e.action == CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY) {
      a.ns = {e.path.c_str(), e.dir.release()};
    } else {
      a.dir = {e.path.c_str()};
    }
    actions.push_back(a);
    labels.push_back(e.what);
  }
  if (spec.loader) {
    capspawn_action_t a{};
    a.action = CAPSPAWN_ACTION_ADD_HANDLE;
    a.h = {CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0), spec.loader.release()};
    actions.push_back(a);
    labels.push_back("process.args[0]: its interpreter's directory in the rootfs");
  }
  // The name exec by path would give (/proc/PID/comm): the file name the
  // program was found under, not the name of the file it leads to.
  std::string name = spec.executable_path.substr(spec.executable_path.rfind('/') + 1);
  {
    capspawn_action_t a{};
    a.action = CAPSPAWN_ACTION_SET_NAME;
    a.name = {name.c_str()};
    actions.push_back(a);
    labels.push_back("process.args[0]: the process name");
  }
  std::vector<const char*> argv, envp;
  for (const std::string& s : spec.argv) argv.push_back(s.c_str());
  argv.push_back(nullptr);
  for (const std::string& s : spec.env) envp.push_back(s.c_str());
  envp.push_back(nullptr);
  Log(LogLevel::kDebug, "helper: attributes set");
  capspawn_start_data_t data{};
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
  capspawn_status_t st =
      capspawn_create_without_starting(job, 0, nullptr, spec.executable.release(), argv.data(),
                                       envp.data(), actions.size(), actions.data(), &data, err);
  if (st != CAPSPAWN_OK) {
    // The library names the failing action by its index: say which config
    // field that action came from.
    std::string msg = err;
    size_t at = msg.find("action ");
    if (at != std::string::npos) {
      size_t index = strtoul(msg.c_str() + at + 7, nullptr, 10);
      if (index < labels.size())
        msg += " [action " + std::to_string(index) + " is " + labels[index] + "]";
    }
    Send(report, st, 0, msg);
    _exit(0);
  }
  Log(LogLevel::kDebug, "helper: created");
  Send(report, CAPSPAWN_OK, data.thread, "");
  _exit(0);
}

}  // namespace

Result<Launched> LaunchStopped(LaunchSpec& spec, int job, const int stdio[3], bool new_keyring) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe2");
  UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  pid_t helper = fork();
  if (helper < 0) return Error::FromErrno(errno, "fork");
  if (helper == 0) {
    rd.reset();
    Helper(spec, job, stdio, new_keyring, wr.get());
  }
  wr.reset();
  Report r{};
  ssize_t n;
  do {
    n = read(rd.get(), &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  int status = 0;
  while (waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof r)) {
    return Error(CAPSPAWN_ERR_INTERNAL, "the creating helper ended without a report (wait status " +
                                            std::to_string(status) + ")");
  }
  if (r.status != CAPSPAWN_OK) {
    r.message[sizeof r.message - 1] = '\0';
    return Error(r.status, std::string("create the container's process: ") + r.message);
  }
  Launched out;
  out.pid = r.pid;
  out.start_time = ProcessStartTime(r.pid);
  if (out.start_time == 0) {
    return Error(CAPSPAWN_ERR_INTERNAL,
                 "the container's process " + std::to_string(r.pid) + " vanished after creation");
  }
  return out;
}

}  // namespace capspawn::oci
