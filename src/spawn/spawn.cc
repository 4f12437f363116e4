// SPDX-License-Identifier: Apache-2.0
// The two steps every spawn takes (request.h): Prepare and Launch. (The C
// API over them, capspawn_spawn*, is src/api/spawn_c.cc.)
#include <capspawn/spawn.h>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <capspawn/startup.h>

#include "base/c_error.h"
#include "base/launcher_env.h"
#include "container/plan.h"
#include "engine/launch.h"
#include "job/spawn_hooks.h"
#include "namespace/namespace.h"
#include "spawn/actions.h"
#include "spawn/program.h"
#include "spawn/request.h"
#include "startup/child_env.h"

extern char** environ;

namespace capspawn::spawn {
namespace {

constexpr int kFirstTypedFd = 3;  // SD_LISTEN_FDS_START

using Environment = startup::ChildEnvironment;

// The base environment with the typed handles' LISTEN_* variables
// (src/startup/child_env.h).
char* const* BuildEnvironment(const char* const* base, const std::vector<TypedHandle>& typed,
                              Environment* out) {
  std::vector<startup::TypedEntry> entries;
  for (const TypedHandle& h : typed) {
    entries.push_back({h.id, h.name.empty() ? nullptr : h.name.c_str()});
  }
  return out->Build(base, entries);
}

std::vector<std::string_view> Views(const char* const* array) {
  std::vector<std::string_view> out;
  for (size_t i = 0; array && array[i]; ++i) out.emplace_back(array[i]);
  return out;
}
std::vector<std::string_view> Views(const StringList& list) {
  std::vector<std::string_view> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) out.push_back(list[i]);
  return out;
}

}  // namespace

SpawnContext InProcessContext() {
  SpawnContext c;
  c.launcher_socket = launcher_internal::ConfiguredLauncher();
  return c;
}

std::vector<std::string_view> Prepared::Args() const {
  if (program.argv)
    return std::vector<std::string_view>(program.argv->begin(), program.argv->end());
  return args_in_list ? Views(arg_list) : Views(argv);
}

std::vector<std::string_view> Prepared::Environment() const {
  return env_in_list ? Views(env_list) : Views(env);
}

Result<Prepared> Prepare(Request request, const SpawnContext& context) {
  Prepared p;
  p.cfg = std::move(request.config);
  SpawnConfig& cfg = p.cfg;
  const uint32_t flags = request.flags;
  const char* const* const argv = request.argv;

  Result<bool> checked = CheckCall(flags, argv, cfg);
  if (!checked.ok()) return checked.error();
  p.clone_namespace = *checked;
  p.default_ldsvc = (flags & CAPSPAWN_DEFAULT_LDSVC) != 0;

  // The job.
  p.job = request.job;
  if (p.job != CAPSPAWN_INVALID_HANDLE) {
    Result<job_internal::SpawnTarget> t = job_internal::PrepareSpawn(p.job);
    if (!t.ok()) return t.error().Context("job " + std::to_string(p.job));
    p.target = std::move(t.value());
    if (flags & CAPSPAWN_CLONE_JOB) {
      bool given = false;
      for (const TypedHandle& h : cfg.typed)
        given |= CAPSPAWN_PA_TYPE(h.id) == CAPSPAWN_PA_JOB_DEFAULT;
      if (!given) cfg.typed.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0), p.job});
    }
  }

  // Which of the caller's stdio fds exist, before opening anything can take
  // a free low fd number; those no action set are handed over.
  if (flags & CAPSPAWN_CLONE_STDIO) {
    bool set[3] = {};
    for (const engine::FdAssignment& f : cfg.fds) {
      if (f.target < 3) set[f.target] = true;
    }
    for (int t = 0; t < 3; ++t) {
      if (!set[t] && IsOpen(t)) cfg.fds.push_back({t, t});
    }
  }

  // The program.
  Result<ProgramFile> file =
      request.path ? OpenProgramPath(request.path) : AdoptProgramFd(std::move(request.program_fd));
  if (!file.ok()) return file.error();
  std::string script_path = request.path ? request.path : (argv[0] ? argv[0] : "");
  // From here on a NOT_FOUND is a missing dependency of the launch, which
  // fdio's callers see as INTERNAL.
  p.fdio_statuses = request.fdio_statuses;
  Result<Program> program = ResolveProgram(std::move(file.value()), script_path, argv, context);
  if (!program.ok()) return p.Fail(program.error());
  p.program = std::move(program.value());

  // The namespace entries, by fdio's rule (a duplicate keeps the first, a
  // nested one is dropped).
  if (!cfg.ns_entries.empty()) {
    std::vector<ns::Entry> entries;
    entries.reserve(cfg.ns_entries.size());
    for (const NsEntry& e : cfg.ns_entries) {
      entries.push_back({e.path, e.fd, e.read_only, e.action_index, e.kind});
    }
    Result<std::vector<size_t>> kept = ns::KeptEntries(entries);
    if (!kept.ok()) return kept.error();
    if (kept->size() != cfg.ns_entries.size()) {
      std::vector<NsEntry> only;
      only.reserve(kept->size());
      for (size_t i : *kept) only.push_back(std::move(cfg.ns_entries[i]));
      cfg.ns_entries = std::move(only);
    }
  }

  p.argv = argv;
  p.env = request.env ? request.env : (flags & CAPSPAWN_CLONE_ENVIRON) ? environ : nullptr;
  p.min_stack_size = request.min_stack_size;
  p.stop_at_exec = request.stop_at_exec;
  return p;
}

Result<Launched> Launch(Prepared& p, const SpawnContext& context) {
  SpawnConfig& cfg = p.cfg;
  engine::LaunchPlan plan;
  plan.cgroup_fd = p.target.cgroup_fd.get();
  if (p.target.deny_new_process) {
    Result<const sock_fprog*> filter = job_internal::DenyNewProcessFilter();
    if (!filter.ok()) return filter.error().Context("job " + std::to_string(p.job) + " policy");
    plan.seccomp_filter = *filter;
  }
  plan.inherited_filters = context.inherited_filters;

  // The filesystem: the caller's, or a private namespace built in the child.
  ns::Request nreq;
  nreq.clone_namespace = p.clone_namespace;
  for (const NsEntry& e : cfg.ns_entries) {
    nreq.entries.push_back({e.path, e.fd, e.read_only, e.action_index, e.kind});
  }
  nreq.clone_dirs = cfg.clone_dirs;
  nreq.loader_fd = cfg.loader_fd >= 0 ? cfg.loader_fd : p.program.loader.get();
  // A joined mount namespace is the child's filesystem as it is: no plan of
  // ours, and the interpreter is the kernel's to find there (docs/containers.md).
  const bool joins_mnt = cfg.container.Joined(CLONE_NEWNS) != nullptr;
  if (Status st = CheckLoader(p.program, nreq.loader_fd, p.clone_namespace || joins_mnt);
      !st.ok()) {
    return p.Fail(st.error());
  }
  nreq.default_ldsvc = p.default_ldsvc;
  nreq.headers = p.program.headers ? &*p.program.headers : nullptr;
  // The container actions: their filesystem part joins the namespace plan,
  // the rest is the container plan's child steps around it.
  const bool container = !cfg.container.Empty();
  if (container) {
    nreq.container = &cfg.container;
    nreq.external_user_ns = container::NeedsUserNamespace(cfg.container, false);
  }
  Result<std::unique_ptr<ns::Plan>> nsplan =
      joins_mnt ? Result<std::unique_ptr<ns::Plan>>(nullptr) : ns::PlanNamespace(nreq);
  if (!nsplan.ok()) return p.Fail(nsplan.error());
  std::unique_ptr<container::Plan> cplan;  // alive until Launch returns
  if (container) {
    Result<std::unique_ptr<container::Plan>> c =
        container::PlanContainer(cfg.container, nsplan.value() != nullptr);
    if (!c.ok()) return c.error();
    cplan = std::move(c.value());
  }

  // The fd table: actions and stdio, then typed handles from fd 3.
  for (const engine::FdAssignment& f : cfg.fds) {
    if (!cfg.typed.empty() && f.target >= kFirstTypedFd &&
        f.target < kFirstTypedFd + static_cast<int>(cfg.typed.size())) {
      return Error(CAPSPAWN_ERR_ALREADY_EXISTS,
                   "fd target " + std::to_string(f.target) +
                       " is taken by a typed startup handle (typed handles occupy fds 3.." +
                       std::to_string(kFirstTypedFd + cfg.typed.size() - 1) + ", as LISTEN_FDS)");
    }
  }
  plan.fds = cfg.fds;
  for (size_t i = 0; i < cfg.typed.size(); ++i) {
    plan.fds.push_back({cfg.typed[i].fd, kFirstTypedFd + static_cast<int>(i)});
  }

  std::vector<char*> env_ptrs;
  const char* const* base_env = p.env;
  if (p.env_in_list) {
    env_ptrs = p.env_list.Pointers();
    base_env = env_ptrs.data();
  }
  Environment environment;
  plan.envp = BuildEnvironment(base_env, cfg.typed, &environment);
  if (!cfg.typed.empty()) plan.listen_pid_env = environment.listen_pid();

  std::vector<char*> argv_storage;
  if (p.program.argv) {
    for (std::string& s : *p.program.argv) argv_storage.push_back(s.data());
    argv_storage.push_back(nullptr);
    plan.argv = argv_storage.data();
  } else if (p.args_in_list) {
    argv_storage = p.arg_list.Pointers();
    plan.argv = argv_storage.data();
  } else {
    plan.argv = const_cast<char* const*>(p.argv);
  }
  plan.exec_fd = p.program.fd.get();
  if (cfg.name) plan.name = cfg.name->c_str();
  plan.stop_at_exec = p.stop_at_exec;
  plan.min_stack_size = p.min_stack_size;
  engine::Credentials bound;
  if (p.stop_at_exec && context.created_death_signal != 0) {
    bound.parent_death_signal = context.created_death_signal;
    plan.credentials = &bound;
  }
  Launched out;
  plan.pid_out = &out.pid;
  // The namespace plan stays alive and in place until Launch returns.
  if (cplan) container::ApplyEarly(*cplan, &plan);
  if (nsplan.value()) ns::Apply(*nsplan.value(), &plan);
  if (cplan) container::ApplyLate(*cplan, &plan);
  Result<Process> process = engine::Launch(plan);
  if (!process.ok()) {
    return p.Fail(job_internal::JobLaunchError(NameTheInterpreter(process.error(), p.program),
                                               plan.cgroup_fd));
  }
  out.process = std::move(process.value());
  out.headers = std::move(p.program.headers);
  return out;
}

Result<Launched> Execute(Request request) {
  const SpawnContext context = InProcessContext();
  Result<Prepared> prepared = Prepare(std::move(request), context);
  if (!prepared.ok()) return prepared.error();
  return Launch(prepared.value(), context);
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
  request.fdio_statuses = true;
  return Execute(std::move(request));
}

}  // namespace capspawn::spawn
