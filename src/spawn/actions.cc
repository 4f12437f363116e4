// SPDX-License-Identifier: Apache-2.0
#include "spawn/actions.h"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "startup/child_env.h"
#include "startup/handle_types.h"

namespace capspawn::spawn {
namespace {

std::string ActionName(size_t i) { return "action " + std::to_string(i); }

int* ConsumedFd(const capspawn_action_t& a) {
  switch (a.action) {
    case CAPSPAWN_ACTION_TRANSFER_FD:
      return const_cast<int*>(&a.fd.local_fd);
    case CAPSPAWN_ACTION_ADD_HANDLE:
      return const_cast<int*>(&a.h.handle);
    case CAPSPAWN_ACTION_ADD_NAMED_HANDLE:
      return const_cast<int*>(&a.named.handle);
    case CAPSPAWN_ACTION_ADD_NS_ENTRY:
    case CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY:
      return const_cast<int*>(&a.ns.handle);
    default:
      return container::ConsumedMountFd(a);
  }
}

// Owns each consumed fd once; a fd named twice is owned by its first action.
// `open` (if given) receives the consumed fds that were open.
OwnedFds TakeConsumed(size_t count, const capspawn_action_t* actions,
                      std::unordered_set<int>* open = nullptr) {
  OwnedFds owned;
  std::unordered_set<int> seen;
  for (size_t i = 0; actions && i < count; ++i) {
    int* fd = ConsumedFd(actions[i]);
    if (fd && IsOpen(*fd) && seen.insert(*fd).second) owned.Add(*fd);
  }
  if (open) *open = std::move(seen);
  return owned;
}

}  // namespace

Status ConfigBuilder::Fd(const std::string& label, int source, int target) {
  if (target < 0 || target >= 1024) {
    return Error(CAPSPAWN_ERR_OUT_OF_RANGE,
                 label + ": fd target " + std::to_string(target) + " is outside 0..1023");
  }
  if (targets_[target]) {
    return Error(CAPSPAWN_ERR_ALREADY_EXISTS,
                 label + ": fd target " + std::to_string(target) + " is already set");
  }
  targets_[target] = true;
  cfg_->fds.push_back({source, target});
  return {};
}

Status ConfigBuilder::Handle(const std::string& label, uint32_t id, int fd, const char* name) {
  Status checked = CheckHandleType(id, label);
  if (!checked.ok()) return checked;
  const uint32_t type = CAPSPAWN_PA_TYPE(id);
  if (name) {
    std::string why;
    if (!startup::ValidFdName(name, &why)) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, label + ": handle name '" + name + "': " + why);
    }
    if (type == CAPSPAWN_PA_FD || type == CAPSPAWN_PA_LDSVC_LOADER) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   label + ": only typed handles (at LISTEN_FDS) have names; type " +
                       std::to_string(type) + " is not one");
    }
  }
  if (type == CAPSPAWN_PA_FD) {
    return Fd(label, fd, static_cast<int>(CAPSPAWN_PA_ARG(id) & ~CAPSPAWN_FLAG_USE_FOR_STDIO));
  }
  // fdio compares the whole id: PA_HND(PA_CLOCK_UTC, 0) only.
  if (id == CAPSPAWN_PA_CLOCK_UTC && (flags_ & CAPSPAWN_CLONE_UTC_CLOCK)) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 label + ": a PA_CLOCK_UTC handle together with CLONE_UTC_CLOCK");
  }
  if (type == CAPSPAWN_PA_LDSVC_LOADER) {
    // As Fuchsia's launcher: a later loader replaces an earlier one.
    cfg_->loader_fd = fd;  // a library directory, used by the namespace
    return {};
  }
  if (!typed_ids_.insert(id).second) {
    return Error(CAPSPAWN_ERR_ALREADY_EXISTS,
                 label + ": handle id " + std::to_string(id) + " is already set");
  }
  cfg_->typed.push_back({id, fd, name ? name : ""});
  return {};
}

bool IsKernelOwnedType(uint32_t type) {
  switch (type) {
    case CAPSPAWN_PA_PROC_SELF:
    case CAPSPAWN_PA_THREAD_SELF:
    case CAPSPAWN_PA_VMAR_ROOT:
    case CAPSPAWN_PA_VMAR_LOADED:
    case CAPSPAWN_PA_VMO_STACK:
    case CAPSPAWN_PA_VMO_EXECUTABLE:
      return true;
    default:
      return false;
  }
}

Status CheckHandleType(uint32_t id, const std::string& what) {
  const uint32_t type = CAPSPAWN_PA_TYPE(id);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%x", id);
  if (id & CAPSPAWN_PA_RESERVED_MASK) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, what + ": handle id " + hex + " has reserved bits set");
  }
  if (!startup::IsKnownHandleType(type)) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, what + ": handle id " + hex + " has type " +
                                                std::to_string(type) +
                                                ", which is not a PA_* type of processargs.h");
  }
  if (IsKernelOwnedType(type)) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 what + ": handle type " + std::to_string(type) +
                     " describes the process itself and cannot be handed over");
  }
  if (type == CAPSPAWN_PA_NS_DIR) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 what + ": handle type " + std::to_string(type) +
                     " (PA_NS_DIR) carries no path; use a namespace entry");
  }
  if (type == CAPSPAWN_PA_VMO_VDSO) {
    return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                 what + ": handle type " + std::to_string(type) +
                     " (PA_VMO_VDSO): Linux maps its own vDSO into every process; another "
                     "cannot be given");
  }
  return {};
}

bool IsOpen(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) >= 0; }

void ConsumeActionHandles(size_t action_count, const capspawn_action_t* actions) {
  TakeConsumed(action_count, actions);  // closed on return
}

Result<SpawnConfig> CollectActions(uint32_t flags, size_t action_count,
                                   const capspawn_action_t* actions) {
  SpawnConfig cfg;
  std::unordered_set<int> open_consumed;  // checked once, here
  cfg.owned = TakeConsumed(action_count, actions, &open_consumed);
  if (action_count > 0 && !actions) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "action_count is " + std::to_string(action_count) + " but actions is NULL");
  }
  std::unordered_set<int> consumed_once;
  ConfigBuilder add(&cfg, flags);
  // A consumed fd must be open and named by one action only. `bad` is the
  // status otherwise: fdio_fd_transfer answers INVALID_ARGS for a fd that is
  // not (or no longer) in the fd table; a handle that is not one is
  // BAD_HANDLE.
  auto consumed = [&](size_t i, int fd, const char* what,
                      capspawn_status_t bad = CAPSPAWN_ERR_BAD_HANDLE) -> Status {
    if (!open_consumed.count(fd)) {
      return Error(bad,
                   ActionName(i) + ": " + what + " " + std::to_string(fd) + " is not an open fd");
    }
    if (!consumed_once.insert(fd).second) {
      return Error(bad, ActionName(i) + ": " + what + " " + std::to_string(fd) +
                            " was already consumed by an earlier action");
    }
    return {};
  };

  for (size_t i = 0; i < action_count; ++i) {
    const capspawn_action_t& a = actions[i];
    Status st;
    switch (a.action) {
      case CAPSPAWN_ACTION_CLONE_FD:
        // fdio_fd_clone: a fd that is not in the table is INVALID_ARGS.
        if (!IsOpen(a.fd.local_fd) || consumed_once.count(a.fd.local_fd)) {
          return Error(CAPSPAWN_ERR_INVALID_ARGS,
                       ActionName(i) + ": clone fd: local_fd " + std::to_string(a.fd.local_fd) +
                           (IsOpen(a.fd.local_fd) ? " was transferred by an earlier action"
                                                  : " is not an open fd"));
        }
        st = add.Fd(ActionName(i), a.fd.local_fd, a.fd.target_fd);
        break;
      case CAPSPAWN_ACTION_TRANSFER_FD:
        st = consumed(i, a.fd.local_fd, "transfer fd: local_fd", CAPSPAWN_ERR_INVALID_ARGS);
        if (st.ok()) st = add.Fd(ActionName(i), a.fd.local_fd, a.fd.target_fd);
        break;
      case CAPSPAWN_ACTION_ADD_NS_ENTRY:
      case CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY:
        // As fdio: the invalid handle is a bad argument; a closed fd a bad handle.
        if (a.ns.handle == CAPSPAWN_INVALID_HANDLE) {
          st = Error(CAPSPAWN_ERR_INVALID_ARGS,
                     ActionName(i) + ": namespace entry: handle is -1 (the invalid handle)");
        } else {
          st = consumed(i, a.ns.handle, "namespace entry: handle");
        }
        if (st.ok() && !a.ns.prefix)
          st =
              Error(CAPSPAWN_ERR_INVALID_ARGS, ActionName(i) + ": namespace entry: prefix is NULL");
        if (st.ok()) {
          cfg.ns_entries.push_back(
              {a.ns.prefix, a.ns.handle, i, a.action == CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY});
        }
        break;
      case CAPSPAWN_ACTION_ADD_NS_TMPFS:
      case CAPSPAWN_ACTION_ADD_NS_PROC:
      case CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL:
        if (!a.dir.prefix) {
          st =
              Error(CAPSPAWN_ERR_INVALID_ARGS, ActionName(i) + ": namespace entry: prefix is NULL");
        } else {
          const ns::EntryKind kind =
              a.action == CAPSPAWN_ACTION_ADD_NS_TMPFS  ? ns::EntryKind::kTmpfs
              : a.action == CAPSPAWN_ACTION_ADD_NS_PROC ? ns::EntryKind::kProc
                                                        : ns::EntryKind::kDevMinimal;
          cfg.ns_entries.push_back({a.dir.prefix, -1, i, false, kind});
        }
        break;
      case CAPSPAWN_ACTION_CLONE_DIR:
        if (!a.dir.prefix) {
          st = Error(CAPSPAWN_ERR_INVALID_ARGS, ActionName(i) + ": clone dir: prefix is NULL");
        } else {
          cfg.clone_dirs.emplace_back(a.dir.prefix);
        }
        break;
      case CAPSPAWN_ACTION_SET_NAME:
        if (!a.name.data) {
          st = Error(CAPSPAWN_ERR_INVALID_ARGS, ActionName(i) + ": set name: name is NULL");
        } else {
          cfg.name = a.name.data;  // the last one wins
        }
        break;
      case CAPSPAWN_ACTION_ADD_HANDLE:
      case CAPSPAWN_ACTION_ADD_NAMED_HANDLE: {
        const bool named = a.action == CAPSPAWN_ACTION_ADD_NAMED_HANDLE;
        const uint32_t id = named ? a.named.id : a.h.id;
        const int handle = named ? a.named.handle : a.h.handle;
        if (handle == CAPSPAWN_INVALID_HANDLE) {
          st = Error(CAPSPAWN_ERR_INVALID_ARGS,
                     ActionName(i) + ": add handle: handle is -1 (the invalid handle)");
          break;
        }
        st = consumed(i, handle, "add handle: handle");
        if (!st.ok()) break;
        if (named && !a.named.name) {
          st = Error(CAPSPAWN_ERR_INVALID_ARGS, ActionName(i) + ": named handle: name is NULL");
        } else {
          st = add.Handle(ActionName(i), id, handle, named ? a.named.name : nullptr);
        }
        break;
      }
      default:
        if (container::IsContainerAction(a.action)) {
          const int* source = container::ConsumedMountFd(a);
          if (source) st = consumed(i, *source, "add mount: source");
          if (st.ok()) st = container::CollectAction(i, a, true, &cfg.container);
          break;
        }
        st = Error(CAPSPAWN_ERR_INVALID_ARGS,
                   ActionName(i) + ": unknown action " + std::to_string(a.action));
    }
    if (!st.ok()) return st.error();
  }
  if (Status st = container::Finish(&cfg.container); !st.ok()) return st.error();
  if (const container::Join* m = cfg.container.Joined(CLONE_NEWNS)) {
    if (!cfg.ns_entries.empty() || !cfg.clone_dirs.empty()) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "action " + std::to_string(m->action_index) +
                       " (JOIN_NAMESPACE): joins a mount namespace, and " +
                       (!cfg.ns_entries.empty()
                            ? "action " + std::to_string(cfg.ns_entries[0].action_index) +
                                  " (a namespace entry)"
                            : std::string("CLONE_DIR ") + cfg.clone_dirs[0]) +
                       " asks for a private one");
    }
  }
  return cfg;
}

Result<bool> CheckCall(uint32_t flags, const char* const* argv, const SpawnConfig& cfg) {
  constexpr uint32_t kKnownFlags = 0xFFFFu;
  if (flags & ~kKnownFlags) {
    char b[40];
    std::snprintf(b, sizeof b, "unknown flags 0x%x", flags & ~kKnownFlags);
    return Error(CAPSPAWN_ERR_INVALID_ARGS, b);
  }
  if (!argv) return Error(CAPSPAWN_ERR_INVALID_ARGS, "argv is NULL");
  if (!argv[0] && !cfg.name) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "the process name is unset: argv is empty and no SET_NAME");
  }
  bool clone_ns = flags & CAPSPAWN_CLONE_NAMESPACE;
  for (const std::string& d : cfg.clone_dirs) {
    if (d.empty() || d[0] != '/') {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "clone dir '" + d + "' is not an absolute path");
    }
    if (d.size() > 1 && d.back() == '/') {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "clone dir '" + d + "' ends with '/'");
    }
    if (!ns::IsNormalisedAbsolute(d)) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "clone dir '" + d + "' is not normalised");
    }
    clone_ns |= d == "/";
  }
  return clone_ns;
}

}  // namespace capspawn::spawn
