// SPDX-License-Identifier: Apache-2.0
// ProcessBuilder: fills the same spawn request as capspawn_spawn_vmo (flags
// 0: the process gets only what the builder was given), with the exec stop
// asked for, then turns the stopped child into a BuiltProcess.
#include <capspawn/process_builder.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>
#include <utility>

#include <capspawn/processargs.h>
#include <capspawn/spawn.h>

#include "builder/inspect.h"
#include "spawn/actions.h"
#include "spawn/request.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace capspawn {
namespace {

bool IsDirectory(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

// A fd number the caller claims to own but that is not open: not ours to close.
void Forget(UniqueFd& fd) { (void)fd.release(); }

}  // namespace

// ---- BuiltProcess ------------------------------------------------------------

BuiltProcess::BuiltProcess(BuiltProcess&& other) noexcept
    : process(std::move(other.process)),
      thread(other.thread),
      root_vmar(std::move(other.root_vmar)),
      entry(other.entry),
      stack(other.stack),
      base(other.base),
      vdso_base(other.vdso_base),
      elf_headers(std::move(other.elf_headers)),
      started_(other.started_) {}

BuiltProcess& BuiltProcess::operator=(BuiltProcess&& other) noexcept {
  if (this == &other) return *this;
  KillIfNotStarted();
  process = std::move(other.process);
  thread = other.thread;
  root_vmar = std::move(other.root_vmar);
  entry = other.entry;
  stack = other.stack;
  base = other.base;
  vdso_base = other.vdso_base;
  elf_headers = std::move(other.elf_headers);
  started_ = other.started_;
  return *this;
}

BuiltProcess::~BuiltProcess() { KillIfNotStarted(); }

void BuiltProcess::KillIfNotStarted() {
  if (started_ || !process.valid()) return;
  // Nothing half-created survives: kill (traced or stopped alike) and reap.
  (void)process.Kill();
  siginfo_t info;
  while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(process.pidfd().get()), &info,
                WEXITED) != 0 &&
         errno == EINTR) {
  }
  started_ = true;
}

Status BuiltProcess::start() {
  if (!process.valid()) return Error(CAPSPAWN_ERR_BAD_STATE, "start: no process (moved out?)");
  if (started_) return Error(CAPSPAWN_ERR_BAD_STATE, "start: the process was already started");
  Status st = process.Signal(SIGCONT);
  if (!st.ok()) return st.error().Context("start: SIGCONT");
  started_ = true;
  return {};
}

// ---- ProcessBuilder ----------------------------------------------------------

ProcessBuilder::ProcessBuilder(std::string name, int job, UniqueFd executable)
    : name_(std::move(name)), executable_(std::move(executable)) {
  if (!spawn::IsOpen(executable_.get())) {
    const int fd = executable_.get();
    Forget(executable_);
    status_ = Error(CAPSPAWN_ERR_BAD_HANDLE,
                    "process builder: executable fd " + std::to_string(fd) + " is not an open fd");
    return;
  }
  if (job != CAPSPAWN_INVALID_HANDLE) {
    if (!spawn::IsOpen(job) || !IsDirectory(job)) {
      status_ = Error(CAPSPAWN_ERR_BAD_HANDLE, "process builder: job fd " + std::to_string(job) +
                                                   " is not an open job (cgroup directory) fd");
      return;
    }
    // Borrowed: our own copy lives as long as the builder.
    job_.reset(fcntl(job, F_DUPFD_CLOEXEC, 3));
    if (!job_) status_ = Error::FromErrno(errno, "process builder: dup job fd");
  }
}

void ProcessBuilder::add_arguments(std::vector<std::string> args) {
  if (!status_.ok()) return;
  for (std::string& a : args) args_.push_back(std::move(a));
}

void ProcessBuilder::add_environment_variables(std::vector<std::string> vars) {
  if (!status_.ok()) return;
  for (std::string& v : vars) env_.push_back(std::move(v));
}

Status ProcessBuilder::add_namespace_entries(std::vector<NamespaceEntry> entries) {
  if (!status_.ok()) return status_;
  for (size_t i = 0; i < entries.size(); ++i) {
    NamespaceEntry& e = entries[i];
    const std::string what = "namespace entry '" + e.path + "'";
    if (!spawn::IsOpen(e.directory.get()) || !IsDirectory(e.directory.get())) {
      const int fd = e.directory.get();
      if (!spawn::IsOpen(fd)) Forget(e.directory);
      return Error(CAPSPAWN_ERR_BAD_HANDLE,
                   what + ": fd " + std::to_string(fd) + " is not an open directory");
    }
    if (e.path.empty() || e.path[0] != '/') {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, what + ": the path is not absolute");
    }
  }
  for (NamespaceEntry& e : entries) entries_.push_back(std::move(e));
  return {};
}

Status ProcessBuilder::add_handles(std::vector<StartupHandle> handles) {
  if (!status_.ok()) return status_;
  for (size_t i = 0; i < handles.size(); ++i) {
    StartupHandle& h = handles[i];
    char id[16];
    std::snprintf(id, sizeof id, "0x%x", h.id);
    const std::string what = "handle " + std::to_string(i) + " (id " + id + ")";
    if (!spawn::IsOpen(h.handle.get())) {
      const int fd = h.handle.get();
      Forget(h.handle);
      return Error(CAPSPAWN_ERR_BAD_HANDLE, what + ": fd " + std::to_string(fd) + " is not open");
    }
    if (Status st = spawn::CheckHandleType(h.id, what); !st.ok()) return st;
    if (CAPSPAWN_PA_TYPE(h.id) == CAPSPAWN_PA_LDSVC_LOADER && !IsDirectory(h.handle.get())) {
      return Error(CAPSPAWN_ERR_BAD_HANDLE,
                   what + ": a loader must be an open directory (a library directory)");
    }
  }
  // Validated first, added after, so an error adds none of them.
  for (StartupHandle& h : handles) {
    if (CAPSPAWN_PA_TYPE(h.id) == CAPSPAWN_PA_LDSVC_LOADER) {
      // As Fuchsia's add_handles: a loader goes to set_loader_service().
      loader_ = std::move(h.handle);
    } else {
      handles_.push_back(std::move(h));
    }
  }
  return {};
}

Status ProcessBuilder::set_loader_service(UniqueFd lib_dir) {
  if (!status_.ok()) return status_;
  if (!spawn::IsOpen(lib_dir.get()) || !IsDirectory(lib_dir.get())) {
    const int fd = lib_dir.get();
    if (!spawn::IsOpen(fd)) Forget(lib_dir);
    return Error(CAPSPAWN_ERR_BAD_HANDLE,
                 "loader service: fd " + std::to_string(fd) + " is not an open directory");
  }
  loader_ = std::move(lib_dir);  // a second call replaces (and closes) the first
  return {};
}

void ProcessBuilder::set_min_stack_size(size_t size) {
  if (status_.ok()) min_stack_size_ = size;
}

capspawn_action_t& ProcessBuilder::AddAction(uint32_t action) {
  capspawn_action_t a = {};
  a.action = action;
  container_actions_.push_back(a);
  return container_actions_.back();
}

void ProcessBuilder::set_new_namespaces(uint32_t flags) {
  AddAction(CAPSPAWN_ACTION_NEW_NAMESPACES).new_ns.flags = flags;
}
void ProcessBuilder::set_hostname(std::string hostname) {
  strings_.push_back(std::move(hostname));
  AddAction(CAPSPAWN_ACTION_SET_HOSTNAME).name.data = strings_.back().c_str();
}
void ProcessBuilder::add_mount(ContainerMount m) {
  strings_.push_back(std::move(m.target));
  const char* target = strings_.back().c_str();
  strings_.push_back(std::move(m.data));
  const char* data = strings_.back().empty() ? nullptr : strings_.back().c_str();
  mount_fds_.push_back(std::move(m.source));
  mounts_.push_back({m.kind, m.flags, target, mount_fds_.back().get(), data});
  AddAction(CAPSPAWN_ACTION_ADD_MOUNT).mount.spec = &mounts_.back();
}
void ProcessBuilder::add_masked_path(std::string path) {
  strings_.push_back(std::move(path));
  AddAction(CAPSPAWN_ACTION_MASK_PATH).dir.prefix = strings_.back().c_str();
}
void ProcessBuilder::add_read_only_path(std::string path) {
  strings_.push_back(std::move(path));
  AddAction(CAPSPAWN_ACTION_READ_ONLY_PATH).dir.prefix = strings_.back().c_str();
}
void ProcessBuilder::add_devices(std::string dir) {
  strings_.push_back(std::move(dir));
  AddAction(CAPSPAWN_ACTION_ADD_DEVICES).dir.prefix = strings_.back().c_str();
}
void ProcessBuilder::set_capabilities(const capspawn_capabilities_t& sets) {
  caps_.push_back(sets);
  AddAction(CAPSPAWN_ACTION_SET_CAPABILITIES).caps.sets = &caps_.back();
}
void ProcessBuilder::set_no_new_privs() { AddAction(CAPSPAWN_ACTION_SET_NO_NEW_PRIVS); }
void ProcessBuilder::set_new_session() { AddAction(CAPSPAWN_ACTION_NEW_SESSION); }
void ProcessBuilder::set_rlimit(uint32_t resource, uint64_t soft, uint64_t hard) {
  rlimits_.push_back({resource, soft, hard});
  AddAction(CAPSPAWN_ACTION_SET_RLIMIT).rlimit.limit = &rlimits_.back();
}
void ProcessBuilder::set_ids(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups) {
  capspawn_action_t& a = AddAction(CAPSPAWN_ACTION_SET_IDS);
  a.ids.uid = uid;
  a.ids.gid = gid;
  if (groups.empty()) return;
  groups_.push_back(std::move(groups));
  capspawn_action_t& g = AddAction(CAPSPAWN_ACTION_SET_GROUPS);
  g.groups.list = groups_.back().data();
  g.groups.count = groups_.back().size();
}
void ProcessBuilder::set_umask(uint32_t mask) {
  AddAction(CAPSPAWN_ACTION_SET_UMASK).number.value = static_cast<int32_t>(mask);
}
void ProcessBuilder::add_uid_map(uint32_t inside, uint32_t outside, uint32_t count) {
  capspawn_action_t& a = AddAction(CAPSPAWN_ACTION_ADD_UID_MAP);
  a.idmap.inside = inside;
  a.idmap.outside = outside;
  a.idmap.count = count;
}
void ProcessBuilder::add_gid_map(uint32_t inside, uint32_t outside, uint32_t count) {
  capspawn_action_t& a = AddAction(CAPSPAWN_ACTION_ADD_GID_MAP);
  a.idmap.inside = inside;
  a.idmap.outside = outside;
  a.idmap.count = count;
}
void ProcessBuilder::set_seccomp_filter(std::vector<capspawn_sock_filter_t> program) {
  filters_.push_back(std::move(program));
  capspawn_action_t& a = AddAction(CAPSPAWN_ACTION_SET_SECCOMP_FILTER);
  a.seccomp.program = filters_.back().data();
  a.seccomp.count = filters_.back().size();
}
void ProcessBuilder::set_working_directory(std::string path) {
  strings_.push_back(std::move(path));
  AddAction(CAPSPAWN_ACTION_SET_CWD).dir.prefix = strings_.back().c_str();
}
void ProcessBuilder::add_sysctl(std::string key, std::string value) {
  strings_.push_back(std::move(key));
  const char* k = strings_.back().c_str();
  strings_.push_back(std::move(value));
  capspawn_action_t& a = AddAction(CAPSPAWN_ACTION_SET_SYSCTL);
  a.sysctl.key = k;
  a.sysctl.value = strings_.back().c_str();
}
void ProcessBuilder::set_oom_score_adj(int score) {
  AddAction(CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ).number.value = score;
}
void ProcessBuilder::set_death_signal(int signal) {
  AddAction(CAPSPAWN_ACTION_SET_DEATH_SIGNAL).number.value = signal;
}
void ProcessBuilder::join_namespace(uint32_t type, UniqueFd ns) {
  join_fds_.push_back(std::move(ns));
  capspawn_action_t& a = AddAction(CAPSPAWN_ACTION_JOIN_NAMESPACE);
  a.join.type = type;
  a.join.fd = join_fds_.back().get();
}

Result<BuiltProcess> ProcessBuilder::build() {
  if (!status_.ok()) return status_.error();
  if (built_) return Error(CAPSPAWN_ERR_BAD_STATE, "build: already built once");
  built_ = true;

  // As Fuchsia's build(), a dynamic program's linker must come from its
  // loader: the request path checks that before the process exists.

  // The same actions capspawn_spawn_vmo would take: one validation, one
  // request path. Their fds are consumed from here on.
  std::vector<capspawn_action_t> actions;
  actions.reserve(entries_.size() + handles_.size() + 2);
  for (NamespaceEntry& e : entries_) {
    capspawn_action_t a = {};
    a.action = CAPSPAWN_ACTION_ADD_NS_ENTRY;
    a.ns.prefix = e.path.c_str();
    a.ns.handle = e.directory.release();
    actions.push_back(a);
  }
  for (StartupHandle& h : handles_) {
    capspawn_action_t a = {};
    if (h.name.empty()) {
      a.action = CAPSPAWN_ACTION_ADD_HANDLE;
      a.h.id = h.id;
      a.h.handle = h.handle.release();
    } else {  // checked, with the id, by the spawn (CollectActions)
      a.action = CAPSPAWN_ACTION_ADD_NAMED_HANDLE;
      a.named.id = h.id;
      a.named.handle = h.handle.release();
      a.named.name = h.name.c_str();
    }
    actions.push_back(a);
  }
  if (loader_) {
    capspawn_action_t a = {};
    a.action = CAPSPAWN_ACTION_ADD_HANDLE;
    a.h.id = CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0);
    a.h.handle = loader_.release();
    actions.push_back(a);
  }
  if (!name_.empty()) {
    capspawn_action_t a = {};
    a.action = CAPSPAWN_ACTION_SET_NAME;
    a.name.data = name_.c_str();
    actions.push_back(a);
  }
  for (const capspawn_action_t& a : container_actions_) actions.push_back(a);
  for (UniqueFd& fd : mount_fds_) (void)fd.release();  // consumed by the actions now
  Result<spawn::SpawnConfig> config = spawn::CollectActions(0, actions.size(), actions.data());
  if (!config.ok()) {
    // "action N": entries first, then handles, in the order they were added.
    return config.error().Context("build");
  }
  for (spawn::NsEntry& e : config->ns_entries) {
    if (e.action_index < entries_.size()) e.read_only = entries_[e.action_index].read_only;
  }

  std::vector<const char*> argv;
  argv.reserve(args_.size() + 1);
  for (const std::string& a : args_) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  envp.reserve(env_.size() + 1);
  for (const std::string& e : env_) envp.push_back(e.c_str());
  envp.push_back(nullptr);

  spawn::Request request;
  request.job = job_ ? job_.get() : CAPSPAWN_INVALID_HANDLE;
  request.flags = 0;
  request.program_fd = std::move(executable_);
  request.argv = argv.data();
  request.env = envp.data();
  request.config = std::move(config.value());
  request.min_stack_size = min_stack_size_;
  request.stop_at_exec = true;
  Result<spawn::Launched> launched = spawn::Execute(std::move(request));
  if (!launched.ok()) return launched.error();
  return builder::FinishBuild(std::move(launched.value()));
}

}  // namespace capspawn
