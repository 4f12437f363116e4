// SPDX-License-Identifier: Apache-2.0
// The OCI runtime-spec config.json as capspawn-oci understands it: a plain model
// filled by ParseConfig (config_parse.cc), which checks every type, required
// field and size and names the field it refuses ("process.user.uid"). What the
// spec defines but this model does not carry is listed in `refused` (create
// refuses it); properties the spec does not define are listed in `unknown`
// (the spec says runtimes must not fail on them; they are logged).
#ifndef CAPSPAWN_TOOLS_OCI_CONFIG_H_
#define CAPSPAWN_TOOLS_OCI_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <capspawn/result.h>

namespace capspawn::oci {

// Bounds on untrusted input: a config past them is refused, naming the field.
inline constexpr size_t kMaxConfigBytes = 4u << 20;  // the whole file
inline constexpr int kMaxDepth = 32;                 // JSON nesting
inline constexpr size_t kMaxStringBytes = 1u << 20;  // one string
inline constexpr size_t kMaxArgBytes = 2u << 20;     // args + env together (execve's own limit)
inline constexpr size_t kMaxListItems = 65536;       // any one array or object
inline constexpr size_t kMaxIdMappings = 340;        // the kernel's uid_map limit

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  int resource = 0;  // RLIMIT_NOFILE
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct Capabilities {
  // Each set as capability numbers (CAP_*), names checked; absent sets stay absent.
  std::optional<std::vector<int>> bounding, effective, inheritable, permitted, ambient;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  std::string cwd;  // absolute
  std::vector<std::string> args;
  std::vector<std::string> env;  // NAME=VALUE
  User user;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
};

struct Root {
  std::string path;  // as written: relative to the bundle, or absolute
  bool readonly = false;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;  // absolute, normalised (no "..", no "//")
  std::string type;         // may be empty (a bind)
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings, gid_mappings;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::string path;  // empty: a new one
};

struct Device {
  char type = 'c';  // c b u p
  std::string path;
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode, uid, gid;
};

struct DeviceRule {
  bool allow = false;
  std::string type;  // a c b, empty = a
  std::optional<int64_t> major, minor;
  std::string access;  // rwm subset
};

struct Resources {
  std::optional<int64_t> memory_limit, memory_reservation, memory_swap;
  std::optional<int64_t> pids_limit;
  std::optional<int64_t> cpu_quota;
  std::optional<uint64_t> cpu_period, cpu_shares;
  std::string cpu_cpus, cpu_mems;
  std::vector<DeviceRule> devices;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;
};

struct SeccompRule {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::string listener_path;
  std::vector<SeccompRule> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths, readonly_paths;
};

struct Config {
  std::string oci_version;
  Process process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;
  // Spec-defined fields present with a non-empty value that capspawn does not
  // model (e.g. "process.apparmorProfile"): create refuses them.
  std::vector<std::string> refused;
  // Properties the spec does not define (e.g. "process.foo"): ignored, logged.
  std::vector<std::string> unknown;
};

// Parses and validates config.json text. INVALID_ARGS (a message naming the
// field, or the byte offset of a syntax error) or OUT_OF_RANGE (a bound above).
Result<Config> ParseConfig(std::string_view text);
// runc exec's --process file: one "process" object, read into .process (its
// refused and unknown keys into .refused and .unknown, as "process.KEY").
Result<Config> ParseProcessJson(std::string_view text);

// The capability number of "CAP_SYS_ADMIN", or -1.
int CapabilityNumber(std::string_view name);
// The name of capability `cap` ("CAP_CHOWN"), or "" for a number it does not know.
std::string CapabilityName(int cap);
// The resource number of "RLIMIT_NOFILE", or -1.
int RlimitNumber(std::string_view name);

// Lexically normalises an absolute path ("/a/./b//c/" -> "/a/b/c"). ".." is
// refused (nullopt) when it would climb above "/".
std::optional<std::string> NormaliseAbsolute(std::string_view path);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_CONFIG_H_
