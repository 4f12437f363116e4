// From a parsed config to what the library is asked for: the program opened in
// the rootfs, argv, environment, the namespace (the rootfs and the mounts as
// namespace entries), and the process attributes the creating helper sets on
// itself so that the container inherits them. Every config value capspawn
// cannot honour is refused here with NOT_SUPPORTED naming the field; nothing
// is created (the fds opened are closed on failure).
#ifndef CAPSPAWN_TOOLS_OCI_PLAN_H_
#define CAPSPAWN_TOOLS_OCI_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "config.h"

namespace capspawn::oci {

struct NsEntry {
  uint32_t action = 0;  // CAPSPAWN_ACTION_ADD_NS_*
  std::string path;     // where the container sees it
  UniqueFd dir;         // ADD_NS_ENTRY(_READ_ONLY): the directory
  std::string what;     // "mounts[2]" or "root.path /bin", for messages
};

struct LaunchSpec {
  std::string rootfs;  // absolute
  UniqueFd root_dir;   // O_PATH of the rootfs
  UniqueFd executable;
  std::string executable_path;  // in the rootfs, for messages
  std::vector<std::string> argv, env;
  std::vector<NsEntry> entries;
  UniqueFd loader;  // the rootfs's directory of a PT_INTERP program's interpreter
  // Inherited from the creating helper.
  uint32_t umask = 022;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  // Warnings about where the container differs from runc's (logged).
  std::vector<std::string> differences;
};

struct PlanOptions {
  std::string bundle;     // absolute
  bool rootless = false;  // not root: the library gives a user namespace mapping our ids
};

Result<LaunchSpec> PlanLaunch(const Config& cfg, const PlanOptions& opts);

// The refusals that depend only on the config (also checked by `create`
// before anything exists). Exposed for the tests and the features list.
Status CheckSupported(const Config& cfg, const PlanOptions& opts);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_PLAN_H_
