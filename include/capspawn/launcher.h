// SPDX-License-Identifier: Apache-2.0
// Clients of capspawn-launcherd: the Launcher (fuchsia.process.Launcher) and
// the Resolver (fuchsia.process.Resolver), over the daemon's AF_UNIX socket.
// See docs/launcher.md and docs/protocol.md.
#ifndef CAPSPAWN_LAUNCHER_H_
#define CAPSPAWN_LAUNCHER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/process.h>
#include <capspawn/result.h>

namespace capspawn {

// What a name entry puts at its path: a directory the client hands over, or
// (capspawn's extensions, as the ADD_NS_TMPFS, ADD_NS_PROC and
// ADD_NS_DEV_MINIMAL actions) a fresh tmpfs, a procfs, a minimal /dev.
enum class LaunchNameKind : uint8_t { kDirectory, kTmpfs, kProc, kDevMinimal };

// An entry of the new process's namespace at `path`. The path "/" stands for
// the client's whole filesystem (CLONE_NAMESPACE).
struct LaunchNameInfo {
  std::string path;
  UniqueFd directory;  // kDirectory only
  bool read_only = false;
  LaunchNameKind kind = LaunchNameKind::kDirectory;
};

// A startup handle: PA_FD handles land at their fd number, others are typed
// handles (capspawn/startup.h).
struct LaunchHandleInfo {
  uint32_t id = 0;
  UniqueFd handle;
  std::string name;  // its LISTEN_FDNAMES name (a typed handle only); empty: none
};

struct LaunchInfo {
  UniqueFd executable;              // an ELF file (or a #!resolve script)
  UniqueFd job;                     // a cgroup2 directory; empty: the client's own cgroup
  std::optional<std::string> name;  // the process name (/proc/PID/comm), at most 32 bytes
  bool default_loader = false;      // DEFAULT_LDSVC: the launcher's system loader
  UniqueFd cwd;                     // the working directory (with a "/" name only)
};

// What CreateWithoutStarting returns: the process, created, exec'd and
// stopped before its first instruction. Start it with capspawn_start() on
// its pidfd (capspawn/start.h). Linux has no VMAR: root_vmar is its
// /proc/PID/mem, read-write.
struct ProcessStartData {
  Process process;
  UniqueFd root_vmar;
  int32_t thread = 0;  // tid of the initial thread
  uint64_t entry = 0;
  uint64_t stack = 0;
  uint64_t base = 0;
  uint64_t vdso_base = 0;
};

struct ResolvedProgram {
  UniqueFd executable;
  UniqueFd loader;  // the package's lib/ directory, or empty
};

// One connection to the launcher. Add* calls accumulate (concatenate) until
// Launch or CreateWithoutStarting, which uses them and resets the connection's
// state whether it succeeds or not. Errors are statuses with messages:
// PEER_CLOSED when the daemon is gone (or closed the connection after a
// malformed request), the daemon's status otherwise.
class LauncherClient {
 public:
  static Result<LauncherClient> Connect(const std::string& socket_path);
  explicit LauncherClient(UniqueFd socket) : socket_(std::move(socket)) {}

  // Sent in as many datagrams as needed (at most 253 fds each).
  Status AddArgs(const std::vector<std::string>& args);
  Status AddEnvirons(const std::vector<std::string>& environ);
  Status AddNames(std::vector<LaunchNameInfo> names);
  Status AddHandles(std::vector<LaunchHandleInfo> handles);
  // zx.ProcessOptions for the next Launch or CreateWithoutStarting (reset
  // by it). 0 is Fuchsia's default; ZX_PROCESS_SHARED (1) makes that launch
  // fail NOT_SUPPORTED, other bits INVALID_ARGS, as zx_process_create would.
  Status SetOptions(uint32_t options);

  Result<Process> Launch(LaunchInfo info);
  Result<ProcessStartData> CreateWithoutStarting(LaunchInfo info);

  // The Resolver protocol is served on the same socket.
  Result<ResolvedProgram> Resolve(const std::string& name);

  int socket() const { return socket_.get(); }

 private:
  UniqueFd socket_;
};

// The Resolver alone.
class Resolver {
 public:
  static Result<Resolver> Connect(const std::string& socket_path);
  explicit Resolver(UniqueFd socket) : socket_(std::move(socket)) {}
  // INVALID_ARGS for a malformed name, NOT_FOUND for a missing package or binary.
  Result<ResolvedProgram> Resolve(const std::string& name);

 private:
  UniqueFd socket_;
};

}  // namespace capspawn

#endif  // CAPSPAWN_LAUNCHER_H_
