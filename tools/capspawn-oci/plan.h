// SPDX-License-Identifier: Apache-2.0
// From a parsed config to what the library is asked for: the program opened in
// the rootfs, argv, environment, and the container's actions — the rootfs as
// the root directory, namespaces, id maps, mounts, devices, masked and
// read-only paths, sysctls, ids, capabilities, limits, the seccomp program.
// Every config value the library cannot honour is refused here with
// NOT_SUPPORTED naming the field; nothing is created (the fds opened are
// closed on failure).
#ifndef CAPSPAWN_TOOLS_OCI_PLAN_H_
#define CAPSPAWN_TOOLS_OCI_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>
#include <capspawn/spawn.h>

#include "config.h"

namespace capspawn::oci {

// One CAPSPAWN_ACTION_ADD_MOUNT, in config order.
struct MountSpec {
  uint32_t kind = 0;   // CAPSPAWN_MOUNT_*
  uint32_t flags = 0;  // CAPSPAWN_MOUNT_RDONLY...
  std::string target;
  UniqueFd source;   // BIND: the source (O_PATH)
  std::string data;  // file system options
  std::string what;  // "mounts[2]", for messages
};

struct SysctlSpec {
  std::string key, value;
  std::string what;  // "linux.sysctl.net.ipv4.ip_forward" or "domainname"
};

// One linux.namespaces[i].path to join (CAPSPAWN_ACTION_JOIN_NAMESPACE).
struct JoinSpec {
  int nstype = 0;    // CLONE_NEWNET...
  UniqueFd fd;       // the namespace file, opened and checked
  std::string what;  // "linux.namespaces[2].path"
};

struct LaunchSpec {
  std::string rootfs;  // absolute
  UniqueFd root_dir;   // O_PATH of the rootfs: the container's "/"
  bool root_readonly = false;
  UniqueFd executable;
  std::string executable_path;  // in the rootfs, for messages
  std::vector<std::string> argv, env;
  uint32_t namespaces = 0;  // CAPSPAWN_NEW_NS_*
  std::vector<IdMapping> uid_map, gid_map;
  std::string hostname;
  std::vector<MountSpec> mounts;
  bool devices = false;  // the default devices in /dev
  std::vector<std::string> masked_paths, readonly_paths;
  std::vector<SysctlSpec> sysctls;
  capspawn_capabilities_t capabilities{};
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> groups;
  uint32_t umask = 022;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string cwd = "/";
  std::optional<std::vector<capspawn_sock_filter_t>> seccomp;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  std::vector<JoinSpec> joins;
  // Warnings about where the container differs from runc's (logged).
  std::vector<std::string> differences;
};

struct PlanOptions {
  std::string bundle;     // absolute
  bool rootless = false;  // not root: a user namespace is required
};

Result<LaunchSpec> PlanLaunch(const Config& cfg, const PlanOptions& opts);

// The refusals that depend only on the config (also checked by `create`
// before anything exists). Exposed for the tests and the features list.
Status CheckSupported(const Config& cfg, const PlanOptions& opts);

// plan_mounts.cc: the mounts' checks, and their planning (bind sources opened).
Status CheckMounts(const Config& cfg);
Status PlanMounts(const Config& cfg, const PlanOptions& opts, LaunchSpec* spec);
// linux.devices: only the default devices, which the library binds.
Status CheckDevices(const Config& cfg);

// Opens `path` and checks it is a namespace file of kind `nstype`
// (CLONE_NEWNET...); errors name `field`.
Result<UniqueFd> OpenNamespace(const std::string& path, int nstype, const std::string& field);

// Shared with exec: openat2(RESOLVE_IN_ROOT) below `root`; a variable of a
// NAME=VALUE list; the home directory of `uid` in the rootfs's /etc/passwd
// ("/" without one); the program of cfg.process.args[0], found in `root` by
// its path or along the process's PATH; the five capability sets as masks.
int OpenInRoot(int root, const std::string& path, int flags);
std::string EnvValue(const std::vector<std::string>& env, const std::string& name);
std::string HomeInRootfs(int root, uint32_t uid);
Result<UniqueFd> OpenProgram(int root, const Config& cfg, std::string* found);
capspawn_capabilities_t CapabilityMasks(const Process& p);

// A NOT_SUPPORTED / INVALID_ARGS error for config field `field`.
Error NotSupported(const std::string& field, const std::string& why);
Error Invalid(const std::string& field, const std::string& why);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_PLAN_H_
