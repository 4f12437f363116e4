// SPDX-License-Identifier: Apache-2.0
// capspawn-oci exec [--process FILE | ARGS...] [--detach] [--pid-file FILE]
//                   [--console-socket S] [--tty] [--env E] [--cwd D] [--user U:G]
//                   [--additional-gids G] [--cap C] [--no-new-privs]
//                   [--preserve-fds N] ID
// Without --detach it waits for the process, forwarding signals, and exits
// with its code (128 + N when signal N ended it); with --detach it returns
// once the process runs (containerd's shim, a subreaper, reaps it).
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <vector>

#include <capspawn/job.h>
#include <capspawn/spawn.h>

#include "commands.h"
#include "console.h"
#include "container.h"
#include "exec.h"
#include "log.h"
#include "util.h"
#include "wait.h"

namespace capspawn::oci {
namespace {

pid_t PidOf(int pidfd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(pidfd));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Pid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(4)));
  }
  return 0;
}

bool ParseGids(const std::string& text, std::vector<uint32_t>* out) {
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string g = text.substr(i, j - i);
    if (g.empty() || g.size() > 10 || g.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    unsigned long long v = std::stoull(g);
    if (v >= 0xFFFFFFFFull) return false;
    out->push_back(static_cast<uint32_t>(v));
    i = j + 1;
  }
  return true;
}

}  // namespace

int CmdExec(const Globals& g, int argc, char** argv) {
  static const option kOptions[] = {
      {"process", required_argument, nullptr, 'p'},
      {"detach", no_argument, nullptr, 'd'},
      {"pid-file", required_argument, nullptr, 'P'},
      {"console-socket", required_argument, nullptr, 'c'},
      {"tty", no_argument, nullptr, 't'},
      {"env", required_argument, nullptr, 'e'},
      {"cwd", required_argument, nullptr, 'w'},
      {"user", required_argument, nullptr, 'u'},
      {"additional-gids", required_argument, nullptr, 'g'},
      {"cap", required_argument, nullptr, 'C'},
      {"no-new-privs", no_argument, nullptr, 'n'},
      {"preserve-fds", required_argument, nullptr, 'F'},
      // runc's, not offered: a clear refusal rather than "bad option".
      {"apparmor", required_argument, nullptr, 'A'},
      {"process-label", required_argument, nullptr, 'L'},
      {"cgroup", required_argument, nullptr, 'G'},
      {"ignore-paused", no_argument, nullptr, 'I'},
      {nullptr, 0, nullptr, 0},
  };
  ExecOptions o;
  bool detach = false;
  std::string pid_file, console_socket;
  int preserve = 0;
  opterr = 0;
  int c, index = -1;
  while ((c = getopt_long(argc, argv, "+p:dte:u:", kOptions, &index)) != -1) {
    switch (c) {
      case 'p':
        o.process_file = optarg;
        break;
      case 'd':
        detach = true;
        break;
      case 'P':
        pid_file = optarg;
        break;
      case 'c':
        console_socket = optarg;
        break;
      case 't':
        o.tty = true;
        break;
      case 'e':
        o.env.push_back(optarg);
        break;
      case 'w':
        o.cwd = optarg;
        break;
      case 'u':
        o.user = optarg;
        break;
      case 'g':
        if (!ParseGids(optarg, &o.additional_gids)) {
          return UsageError("exec", std::string("--additional-gids '") + optarg +
                                        "' is not a comma-separated list of gids");
        }
        break;
      case 'C':
        o.caps.push_back(optarg);
        break;
      case 'n':
        o.no_new_privs = true;
        break;
      case 'F': {
        char* end = nullptr;
        long n = strtol(optarg, &end, 10);
        if (!*optarg || *end || n < 0 || n > 1000) {
          return UsageError("exec",
                            std::string("--preserve-fds '") + optarg + "' is not a count 0..1000");
        }
        preserve = static_cast<int>(n);
        break;
      }
      case 'A':
      case 'L':
      case 'G':
      case 'I':
        return Fail(Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                          std::string("exec: --") + kOptions[index].name +
                              " is not supported by capspawn-oci (no AppArmor or SELinux "
                              "labels, no sub-cgroups, no exec into a paused container)"));
      default:
        return UsageError("exec", std::string("bad option '") + argv[optind - 1] + "'");
    }
  }
  if (optind >= argc) return UsageError("exec", "needs a container ID");
  const std::string id = argv[optind];
  for (int i = optind + 1; i < argc; ++i) o.args.push_back(argv[i]);
  if (o.process_file.empty() && o.args.empty()) {
    return UsageError("exec", "needs --process FILE or the command to run after ID");
  }
  if (!o.process_file.empty() && !o.args.empty()) {
    return UsageError("exec", "--process FILE and a command after ID exclude each other");
  }

  State s;
  std::optional<Locked> lock;
  {
    Result<Locked> l = LockContainer(g, id, &s);
    if (!l.ok()) return Fail(l.error());
    lock.emplace(std::move(l.value()));
  }
  ContainerStatus status = CurrentStatus(s);
  if (status != ContainerStatus::kRunning && status != ContainerStatus::kCreated) {
    return Fail(Error(CAPSPAWN_ERR_BAD_STATE,
                      "cannot exec in container '" + s.id + "': it is " + StatusName(status)));
  }
  Result<UniqueFd> init = OpenInit(s);
  if (!init.ok()) return Fail(init.error());
  std::string text;
  if (Status st = ReadSmallFile(s.bundle + "/config.json", &text, kMaxConfigBytes); !st.ok()) {
    return Fail(st.error().Context("exec: the container's bundle"));
  }
  Result<Config> cfg = ParseConfig(text);
  if (!cfg.ok()) return Fail(cfg.error().Context("exec: the container's bundle"));
  Result<Process> process = ExecProcess(*cfg, o);
  if (!process.ok()) return Fail(process.error());
  if (process->terminal && console_socket.empty()) {
    return Fail(Error(CAPSPAWN_ERR_INVALID_ARGS, "exec: a terminal needs --console-socket"));
  }
  if (!process->terminal && !console_socket.empty()) {
    return Fail(Error(CAPSPAWN_ERR_INVALID_ARGS,
                      "exec: --console-socket given but the process has no terminal"));
  }
  Result<ExecPlan> plan = PlanExec(s, init->get(), *cfg, std::move(process.value()));
  if (!plan.ok()) return Fail(plan.error());

  std::optional<Job> job;
  if (!s.job.empty()) {
    Result<Job> j = Job::Open(s.job);
    if (!j.ok()) return Fail(j.error().Context("exec: the container's job"));
    job.emplace(std::move(j.value()));
  }
  std::optional<Pty> pty;
  if (plan->process.terminal) {
    Result<Pty> p = OpenPty(plan->process.console_size);
    if (!p.ok()) return Fail(p.error());
    pty = std::move(p.value());
  }
  int stdio[3] = {0, 1, 2};
  if (pty) stdio[0] = stdio[1] = stdio[2] = pty->slave.get();
  ActionList list;
  BuildExecActions(*plan, stdio, preserve, &list);
  std::vector<const char*> args, envp;
  for (const std::string& a : plan->process.args) args.push_back(a.c_str());
  args.push_back(nullptr);
  for (const std::string& e : plan->env) envp.push_back(e.c_str());
  envp.push_back(nullptr);

  // Signals that arrive while we wait go to the process (without a signalfd
  // the wait goes on without forwarding).
  UniqueFd sfd;
  if (!detach) {
    if (Result<UniqueFd> f = ForwardSignals("exec", false); f.ok()) sfd = std::move(f.value());
  }
  // The child runs our code in the container's pid namespace until its
  // exec, sharing our memory: non-dumpable, no process there may open its
  // /proc/PID/exe (CVE-2019-5736) or its memory without CAP_SYS_PTRACE.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Fail(Error::FromErrno(errno, "exec: prctl(PR_SET_DUMPABLE)"));
  }
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
  int pidfd = -1;
  capspawn_status_t st =
      capspawn_spawn_vmo(job ? job->fd().get() : -1, 0, plan->program.release(), args.data(),
                         envp.data(), list.actions.size(), list.actions.data(), &pidfd, err);
  if (st != CAPSPAWN_OK) {
    return Fail(Error(st, "exec in container '" + s.id + "': " + Explain(err, list)));
  }
  UniqueFd process_fd(pidfd);
  const pid_t pid = PidOf(pidfd);
  auto kill_fail = [&](const Error& e) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    siginfo_t info;
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED);
    return Fail(e);
  };
  if (pty) {
    pty->slave.reset();
    if (Status cs = SendConsole(console_socket, pty->master.get(), pty->slave_name); !cs.ok()) {
      return kill_fail(cs.error());
    }
    pty->master.reset();
  }
  if (!pid_file.empty()) {
    if (Status w = WriteFileAtomically(Absolute(pid_file), std::to_string(pid)); !w.ok()) {
      return kill_fail(w.error().Context("--pid-file"));
    }
  }
  lock.reset();  // other commands on the container may run while this one waits
  Log(LogLevel::kDebug, "exec in " + s.id + ": pid " + std::to_string(pid));
  if (detach) return 0;
  return WaitForwarding("exec", pidfd, pid, sfd.get());
}

}  // namespace capspawn::oci
