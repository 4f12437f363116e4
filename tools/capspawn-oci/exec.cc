// SPDX-License-Identifier: Apache-2.0
#include "exec.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "plan.h"
#include "seccomp_profile.h"
#include "util.h"

namespace capspawn::oci {
namespace {

capspawn_action_t Of(uint32_t tag) {
  capspawn_action_t a{};
  a.action = tag;
  return a;
}

void Add(ActionList* out, const capspawn_action_t& a, std::string label) {
  out->actions.push_back(a);
  out->labels.push_back(std::move(label));
}

bool ParseId(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (v >= 0xFFFFFFFFull) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

ino_t Inode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The kinds an exec joins, by their /proc/PID/ns names.
constexpr std::pair<int, const char*> kJoined[] = {
    {CLONE_NEWPID, "pid"}, {CLONE_NEWNET, "net"},       {CLONE_NEWIPC, "ipc"},
    {CLONE_NEWUTS, "uts"}, {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWNS, "mnt"},
};

}  // namespace

Result<Process> ExecProcess(const Config& container, const ExecOptions& o) {
  Process p;
  if (!o.process_file.empty()) {
    std::string text;
    if (Status st = ReadSmallFile(o.process_file, &text); !st.ok()) {
      return st.error().Context("--process");
    }
    Result<Config> parsed = ParseProcessJson(text);
    if (!parsed.ok()) return parsed.error();
    if (!parsed->refused.empty()) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "--process: " + parsed->refused.front() + ": not supported by capspawn");
    }
    p = parsed->process;
  } else {
    p = container.process;
    p.args = o.args;
    p.terminal = o.tty;
  }
  for (const std::string& e : o.env) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "--env '" + e + "' is not NAME=VALUE");
    }
    std::erase_if(p.env,
                  [&](const std::string& x) { return x.compare(0, eq + 1, e, 0, eq + 1) == 0; });
    p.env.push_back(e);
  }
  if (!o.cwd.empty()) {
    if (o.cwd[0] != '/')
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "--cwd '" + o.cwd + "' is not absolute");
    p.cwd = o.cwd;
  }
  if (!o.user.empty()) {
    const size_t colon = o.user.find(':');
    uint32_t uid = 0, gid = p.user.gid;
    if (!ParseId(o.user.substr(0, colon), &uid) ||
        (colon != std::string::npos && !ParseId(o.user.substr(colon + 1), &gid))) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "--user '" + o.user + "' is not UID[:GID] (numbers, as runc takes them)");
    }
    p.user.uid = uid;
    p.user.gid = colon == std::string::npos ? 0 : gid;  // runc: a uid alone runs with gid 0
  }
  for (uint32_t g : o.additional_gids) p.user.additional_gids.push_back(g);
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities = Capabilities{};
    Capabilities& c = *p.capabilities;
    for (const std::string& name : o.caps) {
      const int n = CapabilityNumber(name);
      if (n < 0)
        return Error(CAPSPAWN_ERR_INVALID_ARGS, "--cap '" + name + "' is not a capability");
      for (auto* set : {&c.bounding, &c.effective, &c.permitted}) {
        if (!*set) *set = std::vector<int>{};
        (*set)->push_back(n);
      }
      // As runc: ambient only when the process has inheritable capabilities
      // (an ambient capability must be inheritable too).
      if (c.inheritable && !c.inheritable->empty()) {
        if (!c.ambient) c.ambient = std::vector<int>{};
        c.ambient->push_back(n);
        c.inheritable->push_back(n);
      }
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  if (p.args.empty() || p.args[0].empty()) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "exec: no program to run (process.args is empty)");
  }
  return p;
}

Result<ExecPlan> PlanExec(const State& s, int init_pidfd, const Config& container,
                          Process process) {
  ExecPlan plan;
  const std::string proc = "/proc/" + std::to_string(s.pid) + "/";
  if (Inode(proc + "ns/user") != Inode("/proc/self/ns/user")) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "exec in container '" + s.id +
                     "': it has a user namespace of its own, and the library cannot join one "
                     "(setns into a user namespace needs a process that shares no memory)");
  }
  for (const auto& [type, name] : kJoined) {
    const std::string path = proc + "ns/" + name;
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::FromErrno(errno, "exec in container '" + s.id + "': open " + path);
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return Error::FromErrno(errno, "fstat " + path);
    if (st.st_ino == Inode(std::string("/proc/self/ns/") + name))
      continue;  // ours: nothing to join
    plan.joins.emplace_back(type, name);
    plan.ns_fds.push_back(std::move(fd));
  }
  plan.root.reset(open((proc + "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!plan.root) return Error::FromErrno(errno, "exec: open " + proc + "root");
  // Everything above was opened through the pid: the init still alive (its
  // pidfd pins the number while it is) means it was the init's.
  if (syscall(SYS_pidfd_send_signal, init_pidfd, 0, nullptr, 0) != 0) {
    return Error(CAPSPAWN_ERR_BAD_STATE, "container '" + s.id + "' is stopped");
  }
  Config view = container;
  view.process = process;
  Result<UniqueFd> exe = OpenProgram(plan.root.get(), view, &plan.program_path);
  if (!exe.ok()) return exe.error();
  plan.program = std::move(exe.value());
  char magic[2] = {};
  if (pread(plan.program.get(), magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!') {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "exec: process.args[0] '" + plan.program_path +
                     "' is a script: the library would look for its interpreter outside the "
                     "container");
  }
  plan.env = process.env;
  if (EnvValue(plan.env, "HOME").empty()) {
    std::erase_if(plan.env, [](const std::string& e) { return e.rfind("HOME=", 0) == 0; });
    plan.env.push_back("HOME=" + HomeInRootfs(plan.root.get(), process.user.uid));
  }
  if (container.linux.seccomp) {
    Result<std::vector<capspawn_sock_filter_t>> prog = CompileSeccomp(*container.linux.seccomp);
    if (!prog.ok()) return prog.error();
    plan.seccomp = std::move(prog.value());
  }
  plan.process = std::move(process);
  return plan;
}

void BuildExecActions(ExecPlan& plan, const int stdio[3], int preserve, ActionList* out) {
  const Process& p = plan.process;
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] < 0 || fcntl(stdio[i], F_GETFD) < 0) continue;
    capspawn_action_t a = Of(CAPSPAWN_ACTION_CLONE_FD);
    a.fd = {stdio[i], i};
    Add(out, a,
        p.terminal ? "the terminal as fd " + std::to_string(i) : "our fd " + std::to_string(i));
  }
  for (int fd = 3; fd < 3 + preserve; ++fd) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_CLONE_FD);
    a.fd = {fd, fd};
    Add(out, a, "--preserve-fds: fd " + std::to_string(fd));
  }
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_JOIN_NAMESPACE);
    a.join = {static_cast<uint32_t>(plan.joins[i].first), plan.ns_fds[i].get()};
    Add(out, a, "the container's " + plan.joins[i].second + " namespace");
  }
  if (p.oom_score_adj) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ);
    a.number = {*p.oom_score_adj};
    Add(out, a, "process.oomScoreAdj");
  }
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const Rlimit& l = p.rlimits[i];
    out->rlimits.push_back({static_cast<uint32_t>(l.resource), l.soft, l.hard});
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_RLIMIT);
    a.rlimit = {&out->rlimits.back()};
    Add(out, a, "process.rlimits[" + std::to_string(i) + "] (" + l.type + ")");
  }
  if (p.user.umask) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_UMASK);
    a.number = {static_cast<int32_t>(*p.user.umask)};
    Add(out, a, "process.user.umask");
  }
  {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_CWD);
    a.dir = {p.cwd.c_str()};
    Add(out, a, "process.cwd");
  }
  {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_IDS);
    a.ids = {p.user.uid, p.user.gid};
    Add(out, a, "process.user (uid, gid)");
  }
  if (!p.user.additional_gids.empty()) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_GROUPS);
    a.groups = {p.user.additional_gids.data(), p.user.additional_gids.size()};
    Add(out, a, "process.user.additionalGids");
  }
  {
    out->capabilities = CapabilityMasks(p);
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_CAPABILITIES);
    a.caps = {&out->capabilities};
    Add(out, a, "process.capabilities");
  }
  if (p.no_new_privileges)
    Add(out, Of(CAPSPAWN_ACTION_SET_NO_NEW_PRIVS), "process.noNewPrivileges");
  if (plan.seccomp) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_SECCOMP_FILTER);
    a.seccomp = {plan.seccomp->data(), plan.seccomp->size()};
    Add(out, a, "linux.seccomp");
  }
  out->name = plan.program_path.substr(plan.program_path.rfind('/') + 1);
  capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_NAME);
  a.name = {out->name.c_str()};
  Add(out, a, "process.args[0]: the process name");
}

}  // namespace capspawn::oci
