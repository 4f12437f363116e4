// SPDX-License-Identifier: Apache-2.0
// capspawn_spawn* through the launcher (CAPSPAWN_LAUNCHER): the request is
// prepared here exactly as in-process (spawn::Prepare: the actions, the
// program and #!, the job, stdio, the environment, argv), then sent as the
// Launcher protocol's explicit arguments, environment, names (with their
// kind and read-only flag) and handles, as fdio does on Fuchsia. The daemon
// checks it all again, as the client. See docs/launcher.md.
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
#include "launcher/client_internal.h"
#include "namespace/container_config.h"
#include "namespace/namespace.h"
#include "protocol/wire.h"
#include "spawn/actions.h"
#include "spawn/request.h"

extern char** environ;

namespace capspawn::launcher_internal {
namespace {

// CLONE_DIR directories are dropped under an entry (the launcher itself
// refuses overlapping names).
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

protocol::NameKind KindOnTheWire(ns::EntryKind kind) {
  switch (kind) {
    case ns::EntryKind::kBind:
      return protocol::NameKind::kDirectory;
    case ns::EntryKind::kTmpfs:
      return protocol::NameKind::kTmpfs;
    case ns::EntryKind::kProc:
      return protocol::NameKind::kProc;
    case ns::EntryKind::kDevMinimal:
      return protocol::NameKind::kDevMinimal;
  }
  return protocol::NameKind::kDirectory;
}

// A Prepared request as the Launcher protocol's datagrams (Add* then `kind`).
// What the protocol cannot carry is NOT_SUPPORTED, naming it.
Result<std::vector<protocol::Outgoing>> Encode(protocol::RequestKind kind, const spawn::Prepared& p,
                                               std::vector<UniqueFd>* opened) {
  const spawn::SpawnConfig& cfg = p.cfg;
  if (p.min_stack_size != 0) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED, "a minimum stack size cannot be sent to the launcher");
  }
  // The container actions are not in the protocol yet: refused, never dropped.
  if (const auto& first = cfg.container.first_action) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 "action " + std::to_string(first->action_index) + " (" +
                     container::ContainerActionName(first->value) +
                     "): container actions are not carried through the launcher "
                     "(CAPSPAWN_LAUNCHER) yet");
  }
  // Names: the entries (Prepare kept the first of duplicates and dropped
  // nested ones), the CLONE_DIR directories opened here, "/" for the
  // client's whole filesystem.
  std::vector<protocol::NameRef> names;
  Kept kept;
  for (const spawn::NsEntry& e : cfg.ns_entries) {
    if (e.path == "/") {  // on the wire, "/" is the client's whole filesystem
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "action " + std::to_string(e.action_index) +
                       ": a root directory entry (\"/\") is not carried through the launcher "
                       "(CAPSPAWN_LAUNCHER) yet");
    }
    kept.Add(e.path);
    names.push_back(
        {e.path, e.fd, KindOnTheWire(e.kind), e.read_only, static_cast<uint32_t>(e.action_index)});
  }
  UniqueFd cwd;
  if (p.clone_namespace) {
    UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return Error::FromErrno(errno, "open / (the client's namespace)");
    cwd.reset(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));  // none if it was removed
    names.insert(names.begin(), protocol::NameRef{"/", root.get()});
    opened->push_back(std::move(root));
  } else {
    for (const std::string& d : cfg.clone_dirs) {
      if (kept.Overlaps(d)) continue;
      UniqueFd dir(open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!dir) continue;  // as in-process: a missing directory gives nothing
      kept.Add(d);
      names.push_back({d, dir.get()});
      opened->push_back(std::move(dir));
    }
  }
  // Handles: fd placements (stdio among them), typed handles, the loader.
  std::vector<protocol::HandleRef> handles;
  for (const engine::FdAssignment& f : cfg.fds) {
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_FD, f.target), f.source});
  }
  for (const spawn::TypedHandle& h : cfg.typed) handles.push_back({h.id, h.fd, h.name});
  if (cfg.loader_fd >= 0) {
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0), cfg.loader_fd});
  } else if (p.program.loader) {
    handles.push_back({CAPSPAWN_PA_HND(CAPSPAWN_PA_LDSVC_LOADER, 0), p.program.loader.get()});
  }

  std::vector<protocol::Outgoing> batch;
  const std::vector<std::string_view> args = p.Args();
  const std::vector<std::string_view> vars = p.Environment();
  Status st = AppendStrings(&batch, protocol::RequestKind::kAddArgs, args);
  if (st.ok() && !vars.empty()) {
    st = AppendStrings(&batch, protocol::RequestKind::kAddEnvirons, vars);
  }
  if (st.ok() && !names.empty()) st = AppendNames(&batch, names);
  if (st.ok() && !handles.empty()) st = AppendHandles(&batch, handles);
  if (!st.ok()) return st.error();
  protocol::LaunchRef info;
  info.executable = p.program.fd.get();
  info.job = p.job;
  // fdio keeps the first ZX_MAX_NAME_LEN - 1 bytes of a name, the protocol's
  // bound (Linux's comm keeps 15 of them anyway).
  std::optional<std::string> name = cfg.name;
  if (name && name->size() >= protocol::kMaxProcessNameBytes) {
    name->resize(protocol::kMaxProcessNameBytes - 1);
  }
  info.name = name ? &*name : nullptr;
  info.default_loader = p.default_ldsvc;
  info.cwd = cwd.get();
  batch.push_back(protocol::EncodeLaunch(kind, info));
  opened->push_back(std::move(cwd));
  return batch;
}

// The request prepared here, as in-process, then sent; the daemon's reply.
Result<protocol::Reply> Translate(protocol::RequestKind kind, int job, uint32_t flags,
                                  const char* path, UniqueFd program_fd, const char* const* argv,
                                  const char* const* env, size_t action_count,
                                  const capspawn_action_t* actions, const char* socket) {
  Result<spawn::SpawnConfig> collected = spawn::CollectActions(flags, action_count, actions);
  if (!collected.ok()) return collected.error();
  spawn::Request request;
  request.job = job;
  request.flags = flags;
  request.path = path;
  request.program_fd = std::move(program_fd);
  request.argv = argv;
  request.env = env;
  request.config = std::move(collected.value());
  request.fdio_statuses = true;
  spawn::SpawnContext context = spawn::InProcessContext();
  context.launcher_socket = socket;
  Result<spawn::Prepared> prepared = spawn::Prepare(std::move(request), context);
  if (!prepared.ok()) return prepared.error();
  std::vector<UniqueFd> opened;  // directories opened here, closed once sent
  Result<std::vector<protocol::Outgoing>> batch = Encode(kind, *prepared, &opened);
  if (!batch.ok()) return batch.error();
  Result<protocol::Reply> reply = t_connection.Exchange(socket, *batch);
  // The program was opened here: a NOT_FOUND from the daemon is a missing
  // dependency of the launch, INTERNAL to fdio's callers as in-process.
  if (reply.ok() && reply->status == CAPSPAWN_ERR_NOT_FOUND) reply->status = CAPSPAWN_ERR_INTERNAL;
  return reply;
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
