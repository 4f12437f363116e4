// SPDX-License-Identifier: Apache-2.0
// The state store under --root: one directory per container (mode 0700),
// holding state.json. Every command that reads or changes a container holds
// an exclusive flock on that directory for its whole run, so two commands on
// one container never interleave; the state outlives the command that wrote it.
#ifndef CAPSPAWN_TOOLS_OCI_STATE_H_
#define CAPSPAWN_TOOLS_OCI_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

namespace capspawn::oci {

struct HookSpec {
  std::string path;
  std::vector<std::string> args, env;
  int timeout = 0;  // seconds; 0: none
};

// What a container is, as recorded at create.
struct State {
  std::string oci_version;
  std::string id;
  pid_t pid = 0;                          // the init process, in our pid namespace
  uint64_t start_time = 0;                // its /proc/PID/stat start time: tells a reused pid apart
  std::string bundle;                     // absolute
  std::string rootfs;                     // absolute
  std::string created;                    // RFC 3339, nanoseconds, UTC
  uint32_t owner = 0;                     // the uid that created it
  bool started = false;                   // `start` ran
  std::string job;                        // the cgroup2 directory of its job; empty: none
  std::vector<std::string> made_cgroups;  // parents create made (removed at delete if empty)
  std::map<std::string, std::string> annotations;
  std::vector<HookSpec> poststart, poststop;
};

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* StatusName(ContainerStatus s);

// runc's rule for ids: [A-Za-z0-9_+.-], not "." or "..", at most 255 bytes.
Status ValidId(const std::string& id);

class Locked;

class Store {
 public:
  // Opens (and makes, mode 0700) the root directory.
  static Result<Store> Open(const std::string& root);

  // Makes the directory of a new container, locked. ALREADY_EXISTS if taken.
  Result<Locked> Create(const std::string& id) const;
  // Locks an existing container's directory. NOT_FOUND if there is none.
  Result<Locked> Lock(const std::string& id) const;
  // The ids present, sorted.
  Result<std::vector<std::string>> List() const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;
  UniqueFd fd_;
};

class Locked {
 public:
  Locked(std::string id, std::string path, UniqueFd dir)
      : id_(std::move(id)), path_(std::move(path)), dir_(std::move(dir)) {}

  const std::string& id() const { return id_; }
  const std::string& path() const { return path_; }

  // NOT_FOUND while create has not written it yet (status "creating").
  Result<State> Read() const;
  Status Write(const State& s) const;  // atomically (a temporary file renamed)
  Status Remove();                     // the directory and its files

 private:
  std::string id_;
  std::string path_;
  UniqueFd dir_;  // flock held while open
};

// The container's status now: its process (pid + start time) and its job.
ContainerStatus CurrentStatus(const State& s);

// A pidfd of the container's init, or BAD_STATE when it has exited (or its
// pid now names another process).
Result<UniqueFd> OpenInit(const State& s);

// /proc/PID/stat's start time (field 22), or 0 when the process is gone.
uint64_t ProcessStartTime(pid_t pid);

// The runtime-spec state JSON ({"ociVersion", "id", "status", "pid", "bundle",
// "annotations"}, plus runc's "rootfs", "created", "owner"). Compact unless
// `indent` >= 0 (the state command prints it indented, as runc does).
std::string StateJson(const State& s, ContainerStatus status, int indent = -1);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_STATE_H_
