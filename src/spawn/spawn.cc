// capspawn_spawn*: fdio's spawn API, in-process.
#include <capspawn/spawn.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <capspawn/startup.h>

#include "base/c_error.h"
#include "container/plan.h"
#include "engine/launch.h"
#include "job/spawn_hooks.h"
#include "launcher/client_internal.h"
#include "namespace/namespace.h"
#include "spawn/actions.h"
#include "spawn/program.h"
#include "spawn/request.h"

extern char** environ;

namespace capspawn::spawn {
namespace {

constexpr int kFirstTypedFd = 3;  // SD_LISTEN_FDS_START

bool IsListenVar(const char* e) {
  return std::strncmp(e, "LISTEN_FDS=", 11) == 0 || std::strncmp(e, "LISTEN_PID=", 11) == 0 ||
         std::strncmp(e, "LISTEN_FDNAMES=", 15) == 0;
}

struct Environment {
  std::vector<char*> ptrs;
  std::string listen_fds, listen_names;
  char listen_pid[32];
};

// Keeps the caller's array when nothing is added; otherwise copies pointers.
char* const* BuildEnvironment(uint32_t flags, const char* const* explicit_env,
                              const std::vector<TypedHandle>& typed, Environment* out) {
  const char* const* base = explicit_env                       ? explicit_env
                            : (flags & CAPSPAWN_CLONE_ENVIRON) ? environ
                                                               : nullptr;
  static char* const kEmpty[] = {nullptr};
  if (typed.empty()) return base ? const_cast<char* const*>(base) : kEmpty;
  for (size_t i = 0; base && base[i]; ++i) {
    if (!IsListenVar(base[i])) out->ptrs.push_back(const_cast<char*>(base[i]));
  }
  out->listen_fds = "LISTEN_FDS=" + std::to_string(typed.size());
  out->listen_names = "LISTEN_FDNAMES=";
  for (size_t i = 0; i < typed.size(); ++i) {
    char name[40];
    capspawn_startup_handle_name(typed[i].id, name, sizeof name);
    if (i) out->listen_names += ':';
    out->listen_names += name;
  }
  std::snprintf(out->listen_pid, sizeof out->listen_pid,
                "LISTEN_PID=");  // pid: the child writes it
  out->ptrs.push_back(out->listen_fds.data());
  out->ptrs.push_back(out->listen_names.data());
  out->ptrs.push_back(out->listen_pid);
  out->ptrs.push_back(nullptr);
  return out->ptrs.data();
}

}  // namespace

Result<Launched> Execute(Request request) {
  SpawnConfig& cfg = request.config;
  const int job = request.job;
  const uint32_t flags = request.flags;
  const char* const path = request.path;
  const char* const* const argv = request.argv;
  const char* const* const env = request.env;

  Result<bool> checked = CheckCall(flags, argv, cfg);
  if (!checked.ok()) return checked.error();
  const bool clone_ns = *checked;

  // The job.
  engine::LaunchPlan plan;
  job_internal::SpawnTarget target;
  if (job != CAPSPAWN_INVALID_HANDLE) {
    Result<job_internal::SpawnTarget> t = job_internal::PrepareSpawn(job);
    if (!t.ok()) return t.error().Context("job " + std::to_string(job));
    target = std::move(t.value());
    plan.cgroup_fd = target.cgroup_fd.get();
    if (target.deny_new_process) {
      Result<const sock_fprog*> filter = job_internal::DenyNewProcessFilter();
      if (!filter.ok()) return filter.error().Context("job " + std::to_string(job) + " policy");
      plan.seccomp_filter = *filter;
    }
    if (flags & CAPSPAWN_CLONE_JOB) {
      bool given = false;
      for (const TypedHandle& h : cfg.typed)
        given |= CAPSPAWN_PA_TYPE(h.id) == CAPSPAWN_PA_JOB_DEFAULT;
      if (!given) cfg.typed.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0), job});
    }
  }

  // Which of the caller's stdio fds exist, before opening anything can take
  // a free low fd number.
  bool stdio_open[3] = {};
  for (int t = 0; t < 3; ++t) stdio_open[t] = (flags & CAPSPAWN_CLONE_STDIO) && IsOpen(t);

  // The program.
  Result<ProgramFile> file =
      path ? OpenProgramPath(path) : AdoptProgramFd(std::move(request.program_fd));
  if (!file.ok()) return file.error();
  std::string script_path = path ? path : (argv[0] ? argv[0] : "");
  Result<Program> program = ResolveProgram(std::move(file.value()), script_path, argv);
  if (!program.ok()) return program.error();

  // The filesystem: the caller's, or a private namespace built in the child.
  ns::Request nreq;
  nreq.clone_namespace = clone_ns;
  for (const NsEntry& e : cfg.ns_entries) {
    nreq.entries.push_back({e.path, e.fd, e.read_only, e.action_index, e.kind});
  }
  nreq.clone_dirs = cfg.clone_dirs;
  nreq.loader_fd = cfg.loader_fd >= 0 ? cfg.loader_fd : program->loader.get();
  nreq.default_ldsvc = (flags & CAPSPAWN_DEFAULT_LDSVC) != 0;
  nreq.headers = program->headers ? &*program->headers : nullptr;
  const bool container = !cfg.container.Empty();
  if (container) {
    nreq.container = &cfg.container;
    nreq.external_user_ns = container::NeedsUserNamespace(cfg.container, false);
  }
  Result<std::unique_ptr<ns::Plan>> nsplan = ns::PlanNamespace(nreq);
  if (!nsplan.ok()) return nsplan.error();
  std::unique_ptr<container::Plan> cplan;  // alive until Launch returns
  if (container) {
    Result<std::unique_ptr<container::Plan>> c =
        container::PlanContainer(cfg.container, nsplan.value() != nullptr);
    if (!c.ok()) return c.error();
    cplan = std::move(c.value());
  }

  // The fd table: actions, then stdio, then typed handles from fd 3.
  bool set[3] = {};
  for (const engine::FdAssignment& f : cfg.fds) {
    if (f.target < 3) set[f.target] = true;
    if (!cfg.typed.empty() && f.target >= kFirstTypedFd &&
        f.target < kFirstTypedFd + static_cast<int>(cfg.typed.size())) {
      return Error(CAPSPAWN_ERR_ALREADY_EXISTS,
                   "fd target " + std::to_string(f.target) +
                       " is taken by a typed startup handle (typed handles occupy fds 3.." +
                       std::to_string(kFirstTypedFd + cfg.typed.size() - 1) + ", as LISTEN_FDS)");
    }
  }
  plan.fds = std::move(cfg.fds);
  if (flags & CAPSPAWN_CLONE_STDIO) {
    for (int t = 0; t < 3; ++t) {
      if (!set[t] && stdio_open[t]) plan.fds.push_back({t, t});
    }
  }
  for (size_t i = 0; i < cfg.typed.size(); ++i) {
    plan.fds.push_back({cfg.typed[i].fd, kFirstTypedFd + static_cast<int>(i)});
  }

  Environment environment;
  plan.envp = BuildEnvironment(flags, env, cfg.typed, &environment);
  if (!cfg.typed.empty()) plan.listen_pid_env = environment.listen_pid;

  std::vector<char*> argv_storage;
  if (program->argv) {
    for (std::string& s : *program->argv) argv_storage.push_back(s.data());
    argv_storage.push_back(nullptr);
    plan.argv = argv_storage.data();
  } else {
    plan.argv = const_cast<char* const*>(argv);
  }
  plan.exec_fd = program->fd.get();
  if (cfg.name) plan.name = cfg.name->c_str();
  plan.stop_at_exec = request.stop_at_exec;
  plan.min_stack_size = request.min_stack_size;
  // The namespace plan stays alive and in place until Launch returns.
  if (cplan) container::ApplyEarly(*cplan, &plan);
  if (nsplan.value()) ns::Apply(*nsplan.value(), &plan);
  if (cplan) container::ApplyLate(*cplan, &plan);
  Result<Process> process = engine::Launch(plan);
  if (!process.ok()) return process.error();
  return Launched{std::move(process.value()), std::move(program->headers)};
}

Result<Launched> ExecuteActions(int job, uint32_t flags, const char* path, UniqueFd program_fd,
                                const char* const* argv, const char* const* env,
                                size_t action_count, const capspawn_action_t* actions,
                                bool stop_at_exec) {
  Result<SpawnConfig> collected = CollectActions(flags, action_count, actions);
  if (!collected.ok()) return collected.error();
  Request request;
  request.job = job;
  request.flags = flags;
  request.path = path;
  request.program_fd = std::move(program_fd);
  request.argv = argv;
  request.env = env;
  request.config = std::move(collected.value());
  request.stop_at_exec = stop_at_exec;
  return Execute(std::move(request));
}

namespace {

Result<Process> Spawn(int job, uint32_t flags, const char* path, UniqueFd program_fd,
                      const char* const* argv, const char* const* env, size_t action_count,
                      const capspawn_action_t* actions) {
  Result<Launched> launched = ExecuteActions(job, flags, path, std::move(program_fd), argv, env,
                                             action_count, actions, /*stop_at_exec=*/false);
  if (!launched.ok()) return launched.error();
  return std::move(launched.value().process);
}

capspawn_status_t Report(Result<Process> r, int* process_out, char* err_msg_out) {
  if (r.ok()) {
    if (process_out) {
      *process_out = r->release();
    }
    return CAPSPAWN_OK;
  }
  return Fail(r.error(), err_msg_out);
}

}  // namespace
}  // namespace capspawn::spawn

using capspawn::UniqueFd;
using capspawn::spawn::Report;
using capspawn::spawn::Spawn;

extern "C" capspawn_status_t capspawn_spawn(int job, uint32_t flags, const char* path,
                                            const char* const* argv, int* process_out) {
  return capspawn_spawn_etc(job, flags, path, argv, nullptr, 0, nullptr, process_out, nullptr);
}

extern "C" capspawn_status_t capspawn_spawn_etc(int job, uint32_t flags, const char* path,
                                                const char* const* argv, const char* const* environ,
                                                size_t action_count,
                                                const capspawn_action_t* actions, int* process_out,
                                                char* err_msg_out) {
  if (const char* launcher = capspawn::launcher_internal::ConfiguredLauncher()) {
    return capspawn::launcher_internal::SpawnViaLauncher(launcher, job, flags, false, path, -1,
                                                         argv, environ, action_count, actions,
                                                         process_out, err_msg_out);
  }
  if (!path) {
    capspawn::spawn::ConsumeActionHandles(action_count, actions);
    return Report(capspawn::Error(CAPSPAWN_ERR_INVALID_ARGS, "path is NULL"), process_out,
                  err_msg_out);
  }
  return Report(Spawn(job, flags, path, UniqueFd(), argv, environ, action_count, actions),
                process_out, err_msg_out);
}

extern "C" capspawn_status_t capspawn_spawn_vmo(int job, uint32_t flags, int executable_fd,
                                                const char* const* argv, const char* const* environ,
                                                size_t action_count,
                                                const capspawn_action_t* actions, int* process_out,
                                                char* err_msg_out) {
  if (const char* launcher = capspawn::launcher_internal::ConfiguredLauncher()) {
    return capspawn::launcher_internal::SpawnViaLauncher(launcher, job, flags, true, nullptr,
                                                         executable_fd, argv, environ, action_count,
                                                         actions, process_out, err_msg_out);
  }
  // Always consumed; a fd that is not open is not ours to close.
  UniqueFd program(executable_fd >= 0 && fcntl(executable_fd, F_GETFD) >= 0 ? executable_fd : -1);
  if (!program) {
    capspawn::spawn::ConsumeActionHandles(action_count, actions);
    return Report(
        capspawn::Error(CAPSPAWN_ERR_BAD_HANDLE,
                        "executable fd " + std::to_string(executable_fd) + " is not an open fd"),
        process_out, err_msg_out);
  }
  return Report(
      Spawn(job, flags, nullptr, std::move(program), argv, environ, action_count, actions),
      process_out, err_msg_out);
}
