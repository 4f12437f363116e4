// capspawn_spawn* through the launcher (CAPSPAWN_LAUNCHER): the client-side
// translation of fdio's flags and actions into the Launcher protocol's
// explicit arguments, environment, names and handles, as fdio does on Fuchsia.
// Validation that needs no process (actions, the program file, #!) runs here
// with the same code, statuses and messages as an in-process spawn; what is
// left is the daemon's. See docs/launcher.md.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/c_error.h"
#include "container/config.h"
#include "job/spawn_hooks.h"
#include "launcher/client_internal.h"
#include "namespace/namespace.h"
#include "protocol/wire.h"
#include "spawn/actions.h"
#include "spawn/program.h"

extern char** environ;

namespace capspawn::launcher_internal {
namespace {

// The in-process rule for namespace entries: a duplicate keeps the first, a
// nested one is dropped (the launcher itself refuses overlapping names).
class Kept {
 public:
  bool Overlaps(const std::string& p) const {
    for (const std::string& k : kept_) {
      if (Under(p, k) || Under(k, p)) return true;
    }
    return false;
  }
  void Add(std::string p) { kept_.push_back(std::move(p)); }

 private:
  static bool Under(const std::string& p, const std::string& root) {
    return p.size() >= root.size() && p.compare(0, root.size(), root) == 0 &&
           (p.size() == root.size() || p[root.size()] == '/');
  }
  std::vector<std::string> kept_;
};

// capspawn_spawn* keep one launcher connection per thread between spawns: a
// connection's state resets after every Launch, so reusing it is safe, and a
// spawn then costs no connect, and the daemon no accept and peer lookup.
// The daemon acts with the credentials the kernel recorded at connect
// (SO_PEERCRED), so the connection is replaced when the socket path, the
// process (after fork) or the caller's effective ids or groups differ from
// then; and it is dropped whenever an exchange did not end with a reply.
class ThreadConnection {
 public:
  Result<protocol::Reply> Exchange(const char* socket, std::span<const protocol::Outgoing> batch) {
    const bool reused = Matches(socket);
    if (!reused) {
      Status connected = Reconnect(socket);
      if (!connected.ok()) return connected.error();
    }
    size_t sent = 0;
    Status st = protocol::SendAll(sock_.get(), batch, &sent);
    if (!st.ok() && reused && sent == 0 && st.status() == CAPSPAWN_ERR_PEER_CLOSED) {
      // The daemon closed it since (it was restarted): nothing of this
      // request reached it, so a new connection may carry it whole.
      st = Reconnect(socket);
      if (st.ok()) st = protocol::SendAll(sock_.get(), batch);
    }
    if (!st.ok()) {
      sock_.reset();
      return st.error();
    }
    Result<protocol::Reply> reply = protocol::ReceiveReply(sock_.get());
    if (!reply.ok()) sock_.reset();
    return reply;
  }

 private:
  bool Matches(const char* socket) const {
    if (!sock_ || pid_ != getpid() || euid_ != geteuid() || egid_ != getegid() || path_ != socket) {
      return false;
    }
    return Groups() == groups_;
  }
  Status Reconnect(const char* socket) {
    sock_.reset();
    Result<UniqueFd> fresh = protocol::Connect(socket);
    if (!fresh.ok()) return fresh.error();
    sock_ = std::move(fresh.value());
    path_ = socket;
    pid_ = getpid();
    euid_ = geteuid();
    egid_ = getegid();
    groups_ = Groups();
    return {};
  }
  static std::vector<gid_t> Groups() {
    std::vector<gid_t> g(static_cast<size_t>(std::max(getgroups(0, nullptr), 0)));
    int n = g.empty() ? 0 : getgroups(static_cast<int>(g.size()), g.data());
    g.resize(static_cast<size_t>(std::max(n, 0)));
    return g;
  }

  UniqueFd sock_;
  std::string path_;
  pid_t pid_ = -1;
  uid_t euid_ = 0;
  gid_t egid_ = 0;
  std::vector<gid_t> groups_;
};

thread_local ThreadConnection t_connection;

// The whole request (Add* then `kind`) exchanged; the daemon's reply.
Result<protocol::Reply> Translate(protocol::RequestKind kind, int job, uint32_t flags,
                                  const char* path, UniqueFd program_fd, const char* const* argv,
                                  const char* const* env, size_t action_count,
                                  const capspawn_action_t* actions, const char* socket) {
  Result<spawn::SpawnConfig> collected = spawn::CollectActions(flags, action_count, actions);
  if (!collected.ok()) return collected.error();
  spawn::SpawnConfig& cfg = collected.value();
  Result<bool> checked = spawn::CheckCall(flags, argv, cfg);
  if (!checked.ok()) return checked.error();
  const bool clone_ns = *checked;
  // The container actions are not in the protocol yet: refused, never dropped.
  for (size_t i = 0; i < action_count; ++i) {
    if (const char* name = container::ContainerActionName(actions[i].action)) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "action " + std::to_string(i) + " (" + name +
                       "): not carried through the launcher (CAPSPAWN_LAUNCHER) yet");
    }
  }
  for (const spawn::NsEntry& e : cfg.ns_entries) {
    if (e.path == "/") {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "action " + std::to_string(e.action_index) +
                       ": a root directory entry (\"/\") is not carried through the launcher "
                       "(CAPSPAWN_LAUNCHER) yet");
    }
  }

  std::vector<protocol::HandleRef> handles;
  if (job != CAPSPAWN_INVALID_HANDLE) {
    // The same checks (and messages) as in-process; the daemon repeats them.
    Result<job_internal::SpawnTarget> t = job_internal::PrepareSpawn(job);
    if (!t.ok()) return t.error().Context("job " + std::to_string(job));
    if (flags & CAPSPAWN_CLONE_JOB) {
      bool given = false;
      for (const spawn::TypedHandle& h : cfg.typed)
        given |= CAPSPAWN_PA_TYPE(h.id) == CAPSPAWN_PA_JOB_DEFAULT;
      if (!given) handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_JOB_DEFAULT, 0), job});
    }
  }
  bool stdio_open[3] = {};
  for (int t = 0; t < 3; ++t) stdio_open[t] = (flags & CAPSPAWN_CLONE_STDIO) && spawn::IsOpen(t);

  Result<spawn::ProgramFile> file =
      path ? spawn::OpenProgramPath(path) : spawn::AdoptProgramFd(std::move(program_fd));
  if (!file.ok()) return file.error();
  std::string script_path = path ? path : (argv[0] ? argv[0] : "");
  Result<spawn::Program> program =
      spawn::ResolveProgram(std::move(file.value()), script_path, argv);
  if (!program.ok()) return program.error();

  // Names: the in-process order and rules, so the launcher sees no overlap.
  std::vector<protocol::NameRef> names;
  std::vector<UniqueFd> opened;  // directories opened here, for CLONE_DIR and CLONE_NAMESPACE
  Kept kept;
  for (const spawn::NsEntry& e : cfg.ns_entries) {
    if (e.path == "/") {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "mount / (action " + std::to_string(e.action_index) +
                                                  "): an entry cannot replace the root");
    }
    if (!ns::IsNormalisedAbsolute(e.path)) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "mount " + e.path + " (action " +
                                                  std::to_string(e.action_index) +
                                                  "): the path is not absolute and normalised");
    }
    if (kept.Overlaps(e.path)) continue;
    kept.Add(e.path);
    names.push_back({e.path, e.fd});
  }
  if (!clone_ns) {
    for (const std::string& d : cfg.clone_dirs) {
      if (kept.Overlaps(d)) continue;
      UniqueFd dir(open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!dir) continue;  // as in-process: a missing directory gives nothing
      kept.Add(d);
      names.push_back({d, dir.get()});
      opened.push_back(std::move(dir));
    }
  }
  UniqueFd cwd;
  if (clone_ns) {
    UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return Error::FromErrno(errno, "open / (the client's namespace)");
    cwd.reset(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));  // none if it was removed
    names.insert(names.begin(), protocol::NameRef{"/", root.get()});
    opened.push_back(std::move(root));
  }

  // Handles: fd placements, stdio, typed handles, the loader.
  bool set[3] = {};
  for (const engine::FdAssignment& f : cfg.fds) {
    if (f.target < 3) set[f.target] = true;
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, f.target), f.source});
  }
  for (int t = 0; t < 3; ++t) {
    if (!set[t] && stdio_open[t]) handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, t), t});
  }
  for (const spawn::TypedHandle& h : cfg.typed) handles.push_back({h.id, h.fd});
  if (cfg.loader_fd >= 0) {
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0), cfg.loader_fd});
  } else if (program->loader) {
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0), program->loader.get()});
  }

  std::vector<std::string_view> args;
  if (program->argv) {
    args.assign(program->argv->begin(), program->argv->end());
  } else {
    for (size_t i = 0; argv[i]; ++i) args.emplace_back(argv[i]);
  }
  std::vector<std::string_view> vars;
  const char* const* base = env ? env : (flags & CAPSPAWN_CLONE_ENVIRON) ? environ : nullptr;
  for (size_t i = 0; base && base[i]; ++i) vars.emplace_back(base[i]);

  std::vector<protocol::Outgoing> batch;
  Status st = AppendStrings(&batch, protocol::RequestKind::kAddArgs, args);
  if (st.ok() && !vars.empty()) {
    st = AppendStrings(&batch, protocol::RequestKind::kAddEnvirons, vars);
  }
  if (st.ok() && !names.empty()) st = AppendNames(&batch, names);
  if (st.ok() && !handles.empty()) st = AppendHandles(&batch, handles);
  if (!st.ok()) return st.error();
  protocol::LaunchRef info;
  info.executable = program->fd.get();
  info.job = job;
  info.name = cfg.name ? &*cfg.name : nullptr;
  info.default_loader = flags & CAPSPAWN_DEFAULT_LDSVC;
  info.cwd = cwd.get();
  batch.push_back(protocol::EncodeLaunch(kind, info));
  return t_connection.Exchange(socket, batch);
}

}  // namespace

capspawn_status_t SpawnViaLauncher(const char* socket, int job, uint32_t flags, bool vmo,
                                   const char* path, int executable_fd, const char* const* argv,
                                   const char* const* env, size_t action_count,
                                   const capspawn_action_t* actions, int* process_out,
                                   char* err_msg_out) {
  Result<Process> r = Error(CAPSPAWN_ERR_INTERNAL, "unreached");
  if (!vmo && path == nullptr) {
    spawn::ConsumeActionHandles(action_count, actions);
    r = Error(CAPSPAWN_ERR_INVALID_ARGS, "path is NULL");
  } else if (vmo) {
    // Always consumed; a fd that is not open is not ours to close.
    UniqueFd program(executable_fd >= 0 && fcntl(executable_fd, F_GETFD) >= 0 ? executable_fd : -1);
    if (!program) {
      spawn::ConsumeActionHandles(action_count, actions);
      r = Error(CAPSPAWN_ERR_BAD_HANDLE,
                "executable fd " + std::to_string(executable_fd) + " is not an open fd");
    } else {
      r = ProcessFromReply(Translate(protocol::RequestKind::kLaunch, job, flags, nullptr,
                                     std::move(program), argv, env, action_count, actions, socket));
    }
  } else {
    r = ProcessFromReply(Translate(protocol::RequestKind::kLaunch, job, flags, path, UniqueFd(),
                                   argv, env, action_count, actions, socket));
  }
  if (r.ok()) {
    if (process_out) *process_out = r->release();
    return CAPSPAWN_OK;
  }
  return Fail(r.error(), err_msg_out);
}

capspawn_status_t CreateViaLauncher(const char* socket, int job, uint32_t flags, const char* path,
                                    int executable_fd, const char* const* argv,
                                    const char* const* env, size_t action_count,
                                    const capspawn_action_t* actions,
                                    capspawn_start_data_t* data_out, char* err_msg_out) {
  UniqueFd program(executable_fd >= 0 ? executable_fd : -1);
  Result<ProcessStartData> r =
      StartDataFromReply(Translate(protocol::RequestKind::kCreateWithoutStarting, job, flags, path,
                                   std::move(program), argv, env, action_count, actions, socket));
  if (!r.ok()) return Fail(r.error(), err_msg_out);
  data_out->process = r->process.release();
  data_out->root_vmar = r->root_vmar.release();
  data_out->thread = r->thread;
  data_out->entry = r->entry;
  data_out->stack = r->stack;
  data_out->base = r->base;
  data_out->vdso_base = r->vdso_base;
  return CAPSPAWN_OK;
}

}  // namespace capspawn::launcher_internal
