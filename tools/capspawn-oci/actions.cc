// SPDX-License-Identifier: Apache-2.0
#include "actions.h"

#include <fcntl.h>

#include <cstdlib>

namespace capspawn::oci {
namespace {

void Add(ActionList* out, const capspawn_action_t& a, std::string label) {
  out->actions.push_back(a);
  out->labels.push_back(std::move(label));
}

capspawn_action_t Of(uint32_t tag) {
  capspawn_action_t a{};
  a.action = tag;
  return a;
}

}  // namespace

void BuildActions(LaunchSpec& spec, const int stdio[3], ActionList* out) {
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] < 0 || fcntl(stdio[i], F_GETFD) < 0) continue;
    capspawn_action_t a = Of(CAPSPAWN_ACTION_CLONE_FD);
    a.fd = {stdio[i], i};
    Add(out, a,
        spec.terminal ? "the terminal as fd " + std::to_string(i)
                      : "our fd " + std::to_string(i) + " (stdio)");
  }
  // A session of its own, as runc's init makes: no signal of our terminal or
  // process group reaches it, nor the orphaned-group SIGHUP when we exit.
  Add(out, Of(CAPSPAWN_ACTION_NEW_SESSION), "the container's own session (setsid)");
  // The rootfs is "/"; the mounts below go on top of it in order.
  capspawn_action_t root = Of(spec.root_readonly ? CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY
                                                 : CAPSPAWN_ACTION_ADD_NS_ENTRY);
  root.ns = {"/", spec.root_dir.release()};
  Add(out, root, spec.root_readonly ? "root.path (root.readonly)" : "root.path");
  if (spec.namespaces) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_NEW_NAMESPACES);
    a.new_ns = {spec.namespaces};
    Add(out, a, "linux.namespaces");
  }
  for (const JoinSpec& j : spec.joins) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_JOIN_NAMESPACE);
    a.join = {static_cast<uint32_t>(j.nstype), j.fd.get()};  // borrowed: the spec keeps it
    Add(out, a, j.what);
  }
  for (size_t i = 0; i < spec.uid_map.size(); ++i) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_ADD_UID_MAP);
    a.idmap = {spec.uid_map[i].container_id, spec.uid_map[i].host_id, spec.uid_map[i].size};
    Add(out, a, "linux.uidMappings[" + std::to_string(i) + "]");
  }
  for (size_t i = 0; i < spec.gid_map.size(); ++i) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_ADD_GID_MAP);
    a.idmap = {spec.gid_map[i].container_id, spec.gid_map[i].host_id, spec.gid_map[i].size};
    Add(out, a, "linux.gidMappings[" + std::to_string(i) + "]");
  }
  if (!spec.hostname.empty()) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_HOSTNAME);
    a.name = {spec.hostname.c_str()};
    Add(out, a, "hostname");
  }
  for (const SysctlSpec& s : spec.sysctls) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_SYSCTL);
    a.sysctl = {s.key.c_str(), s.value.c_str()};
    Add(out, a, s.what);
  }
  for (MountSpec& m : spec.mounts) {
    out->mounts.push_back({m.kind, m.flags, m.target.c_str(), m.source ? m.source.release() : -1,
                           m.data.empty() ? nullptr : m.data.c_str()});
    capspawn_action_t a = Of(CAPSPAWN_ACTION_ADD_MOUNT);
    a.mount = {&out->mounts.back()};
    Add(out, a, m.what);
  }
  if (spec.devices) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_ADD_DEVICES);
    a.dir = {"/dev"};
    Add(out, a, "the default devices in /dev (linux.devices)");
  }
  for (size_t i = 0; i < spec.masked_paths.size(); ++i) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_MASK_PATH);
    a.dir = {spec.masked_paths[i].c_str()};
    Add(out, a, "linux.maskedPaths[" + std::to_string(i) + "]");
  }
  for (size_t i = 0; i < spec.readonly_paths.size(); ++i) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_READ_ONLY_PATH);
    a.dir = {spec.readonly_paths[i].c_str()};
    Add(out, a, "linux.readonlyPaths[" + std::to_string(i) + "]");
  }
  if (spec.oom_score_adj) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ);
    a.number = {*spec.oom_score_adj};
    Add(out, a, "process.oomScoreAdj");
  }
  for (size_t i = 0; i < spec.rlimits.size(); ++i) {
    const Rlimit& l = spec.rlimits[i];
    out->rlimits.push_back({static_cast<uint32_t>(l.resource), l.soft, l.hard});
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_RLIMIT);
    a.rlimit = {&out->rlimits.back()};
    Add(out, a, "process.rlimits[" + std::to_string(i) + "] (" + l.type + ")");
  }
  {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_UMASK);
    a.number = {static_cast<int32_t>(spec.umask)};
    Add(out, a, "process.user.umask");
  }
  {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_CWD);
    a.dir = {spec.cwd.c_str()};
    Add(out, a, "process.cwd");
  }
  {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_IDS);
    a.ids = {spec.uid, spec.gid};
    Add(out, a, "process.user (uid, gid)");
  }
  if (!spec.groups.empty()) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_GROUPS);
    a.groups = {spec.groups.data(), spec.groups.size()};
    Add(out, a, "process.user.additionalGids");
  }
  {
    out->capabilities = spec.capabilities;
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_CAPABILITIES);
    a.caps = {&out->capabilities};
    Add(out, a, "process.capabilities");
  }
  if (spec.no_new_privileges)
    Add(out, Of(CAPSPAWN_ACTION_SET_NO_NEW_PRIVS), "process.noNewPrivileges");
  if (spec.seccomp) {
    capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_SECCOMP_FILTER);
    a.seccomp = {spec.seccomp->data(), spec.seccomp->size()};
    Add(out, a, "linux.seccomp");
  }
  // The name exec by path would give (/proc/PID/comm): the file name the
  // program was found under, not the name of the file it leads to.
  out->name = spec.executable_path.substr(spec.executable_path.rfind('/') + 1);
  capspawn_action_t a = Of(CAPSPAWN_ACTION_SET_NAME);
  a.name = {out->name.c_str()};
  Add(out, a, "process.args[0]: the process name");
}

std::string Explain(const std::string& message, const ActionList& list) {
  std::string msg = message;
  size_t at = msg.find("action ");
  if (at != std::string::npos) {
    size_t index = strtoul(msg.c_str() + at + 7, nullptr, 10);
    if (index < list.labels.size())
      msg += " [action " + std::to_string(index) + " is " + list.labels[index] + "]";
  }
  return msg;
}

}  // namespace capspawn::oci
