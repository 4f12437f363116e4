// SPDX-License-Identifier: Apache-2.0
// PrepareReceived: what a launcher client sent, checked as Prepare checks a
// call of this process (the launcher's worker runs it as the client), into
// the same Prepared request.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <string>

#include <capspawn/processargs.h>

#include "namespace/namespace.h"
#include "spawn/request.h"

namespace capspawn::spawn {
namespace {

std::string Printable(std::string_view s, size_t max = 80) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

Status NoNul(const StringList& list, const char* what) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].find('\0') != std::string_view::npos) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   std::string(what) + " " + std::to_string(i) + " contains a NUL byte");
    }
  }
  return {};
}

// Whether fd is this process's root: the same directory on the same mount.
bool IsOwnRoot(int fd) {
  struct statx a, b;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &a) != 0 ||
      statx(AT_FDCWD, "/", 0, STATX_INO | STATX_MNT_ID, &b) != 0) {
    return false;
  }
  return a.stx_dev_major == b.stx_dev_major && a.stx_dev_minor == b.stx_dev_minor &&
         a.stx_ino == b.stx_ino && a.stx_mnt_id == b.stx_mnt_id;
}

// The names: each a namespace entry, "/" the client's filesystem. A client
// sends them without overlap (it applied fdio's rule): one that overlaps an
// earlier one is refused.
Status AddNames(std::vector<Received::Name>& names, Prepared* p) {
  std::vector<ns::Entry> entries;
  std::vector<size_t> from;  // entries[i] is names[from[i]]
  int root = -1;
  std::string root_label;
  for (size_t i = 0; i < names.size(); ++i) {
    Received::Name& n = names[i];
    const std::string label = n.action_index != SIZE_MAX
                                  ? "action " + std::to_string(n.action_index)
                                  : "name entry " + std::to_string(i);
    if (n.path.find('\0') != std::string::npos) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, label + ": the path contains a NUL byte");
    }
    if (n.read_only && n.kind != ns::EntryKind::kBind) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   label + ": only a directory may be mounted read-only");
    }
    const int fd = n.directory.release();
    if (fd >= 0) p->cfg.owned.Add(fd);
    if (n.path == "/" && n.kind == ns::EntryKind::kBind) {
      if (root >= 0) return Error(CAPSPAWN_ERR_INVALID_ARGS, label + ": '/' is given twice");
      root = fd;
      root_label = label;
      continue;
    }
    entries.push_back({n.path, fd, n.read_only, n.action_index, n.kind});
    from.push_back(i);
  }
  Result<std::vector<size_t>> kept = ns::KeptEntries(entries);
  if (!kept.ok()) return kept.error();
  for (size_t k = 0; k < kept->size(); ++k) {
    if ((*kept)[k] != k) {
      const ns::Entry& e = entries[k];
      return Error(CAPSPAWN_ERR_INVALID_ARGS, "name entry " + std::to_string(from[k]) + " ('" +
                                                  Printable(e.path) +
                                                  "'): overlaps an earlier entry");
    }
  }
  if (kept->size() != entries.size()) {
    const size_t k = kept->size();
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "name entry " + std::to_string(from[k]) + " ('" +
                                                Printable(entries[k].path) +
                                                "'): overlaps an earlier entry");
  }
  for (const ns::Entry& e : entries) {
    p->cfg.ns_entries.push_back({e.path, e.fd, e.action_index, e.read_only, e.kind});
  }
  if (root >= 0) {
    if (!IsOwnRoot(root)) {
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   root_label + ": '/' is not the client's root as the launcher sees it");
    }
    p->clone_namespace = true;
  }
  return {};
}

Status AddHandles(std::vector<Received::Handle>& handles, Prepared* p) {
  ConfigBuilder add(&p->cfg, 0);
  for (size_t i = 0; i < handles.size(); ++i) {
    Received::Handle& h = handles[i];
    const std::string label = "handle " + std::to_string(i);
    const int fd = h.fd.release();
    p->cfg.owned.Add(fd);
    if (h.name.find('\0') != std::string::npos) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, label + ": the handle name contains a NUL byte");
    }
    Status st = add.Handle(label, h.id, fd, h.name.empty() ? nullptr : h.name.c_str());
    if (!st.ok()) return st;
  }
  return {};
}

}  // namespace

Result<Prepared> PrepareReceived(Received r, const SpawnContext& context) {
  Prepared p;
  Status st = NoNul(r.args, "argument");
  if (st.ok()) st = NoNul(r.environ, "environment variable");
  if (st.ok() && r.name && r.name->find('\0') != std::string::npos) {
    st = Error(CAPSPAWN_ERR_INVALID_ARGS, "the process name contains a NUL byte");
  }
  if (st.ok()) st = AddNames(r.names, &p);
  if (st.ok()) st = AddHandles(r.handles, &p);
  if (!st.ok()) return st.error();
  if (r.args.empty() && !r.name) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "the process name is unset: argv is empty and no SET_NAME");
  }
  p.cfg.name = std::move(r.name);

  if (r.job) {
    p.job = r.job.release();
    p.cfg.owned.Add(p.job);
    Result<job_internal::SpawnTarget> t = job_internal::PrepareSpawn(p.job);
    if (!t.ok()) return t.error().Context("job");
    p.target = std::move(t.value());
  }

  Result<ProgramFile> file = AdoptProgramFd(std::move(r.executable));
  if (!file.ok()) return file.error();
  std::vector<char*> argv = r.args.Pointers();
  Result<Program> program = ResolveProgram(
      std::move(file.value()), r.args.empty() ? "" : std::string(r.args[0]), argv.data(), context);
  if (!program.ok()) return program.error();
  p.program = std::move(program.value());

  p.arg_list = std::move(r.args);
  p.args_in_list = true;
  p.env_list = std::move(r.environ);
  p.env_in_list = true;
  p.default_ldsvc = r.default_loader;
  p.stop_at_exec = r.stop_at_exec;
  return p;
}

}  // namespace capspawn::spawn
