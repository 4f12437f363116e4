// SPDX-License-Identifier: Apache-2.0
// `capspawn run` command line: what the options mean, parsed into a plain
// description (RunOptions) that cmd_run.cc turns into a capspawn_spawn_etc call.
// Parsing opens nothing and touches no fd, so it can be tested on its own.
#ifndef CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_H_
#define CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_H_

#include <getopt.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <capspawn/spawn.h>

#include "listen.h"
#include "voice.h"  // the exit codes

namespace capspawn::cli {

// One option that becomes a capspawn_action_t. Kept in command-line order, so
// "action N" in the library's messages is the N-th (from 0) of these options.
struct ActionOption {
  uint32_t action = 0;  // CAPSPAWN_ACTION_*
  int target_fd = -1;   // CLONE_FD, TRANSFER_FD: the fd number in the child
  int source_fd = -1;   // CLONE_FD, TRANSFER_FD, ADD_HANDLE: capspawn's own fd
  uint32_t id = 0;      // ADD_HANDLE: the typed id
  std::string path;     // SET_NAME: the name; ADD_NS_ENTRY, CLONE_DIR: the path in the child
  std::string dir;      // ADD_NS_ENTRY: the directory to open in capspawn's filesystem
  std::string option;   // the option as typed ("--fd 5=3"), for messages
  std::string name;     // ADD_HANDLE: the LISTEN_FDNAMES name (",name=NAME"); empty: the id's
  bool listen = false;  // ADD_HANDLE: a socket capspawn opens from `address` (--listen)
  ListenAddress address;
  // Container actions (options_container.cc).
  uint32_t kind = 0;            // ADD_MOUNT: CAPSPAWN_MOUNT_*; NEW_NAMESPACES: the flags
  uint32_t flags = 0;           // ADD_MOUNT: CAPSPAWN_MOUNT_RDONLY...
  std::string data;             // ADD_MOUNT: file system options; SET_SYSCTL: the value
  uint64_t soft = 0, hard = 0;  // SET_RLIMIT (resource in `id`)
  uint32_t inside = 0, outside = 0, count = 0;  // ADD_UID_MAP, ADD_GID_MAP
  int number = 0;                               // SET_UMASK, SET_OOM_SCORE_ADJ, SET_DEATH_SIGNAL
};

// --cap-add / --cap-drop, in order, applied to the caller's own sets.
struct CapChange {
  bool add;
  uint64_t caps;
};

// --env, --env-file, --unset-env, --clear-env, applied in command-line order.
struct EnvOption {
  enum class Kind { kSet, kUnset, kClear, kFile };
  Kind kind;
  std::string arg;  // kSet: "NAME=VALUE"; kUnset: NAME; kFile: the file's path
};

struct RunOptions {
  uint32_t flags = CAPSPAWN_CLONE_ALL;
  std::string clone_list;      // the first --clone's LIST: it replaced the default (all)
  std::vector<EnvOption> env;  // empty: no explicit environ
  std::vector<ActionOption> actions;
  std::string job;          // --job: an fd number or a cgroup directory; empty: own job
  bool vmo = false;         // --vmo: open PROGRAM, use capspawn_spawn_vmo
  int64_t timeout_ns = -1;  // --timeout; < 0: none
  bool print_pid = false;
  bool quiet = false;
  std::string launcher;              // --launcher: spawn through the daemon at this socket
  bool suspended = false;            // --suspended: create without starting, print the start data
  int start_data_fd = -1;            // --start-data-fd; -1: fd 1
  std::string start_data_file;       // --start-data FILE
  int64_t start_deadline_ns = -1;    // --start-deadline; < 0: none
  std::string unbuilt_option;        // the first option given whose feature is not built yet
  std::vector<std::string> command;  // PROGRAM ARGS...
  // Container options: capabilities and ids are one action each, placed
  // where the first of their options stood.
  std::vector<CapChange> cap_changes;
  int64_t uid = -1, gid = -1;
  std::vector<uint32_t> groups;
  bool explicit_maps = false;  // --uid-map / --gid-map given
};

struct ParseResult {
  enum class Outcome { kRun, kHelp, kUsageError };
  Outcome outcome = Outcome::kUsageError;
  RunOptions options;
  std::string error;  // kUsageError: what is wrong, naming the option
};

// Parses `capspawn run` arguments; argv[0] is "run". Resets getopt's state.
ParseResult ParseRunOptions(int argc, char** argv);

// getopt_long's table of every `capspawn run` option (ends with a null name),
// and its short-option string.
const option* RunLongOptions();
const char* RunShortOptions();

// The words of --clone/--no-clone lists, in help order.
std::vector<std::string> CloneWords();

// Parses a --clone/--no-clone list ("stdio,environ"). False on an unknown word,
// which is then stored in *bad.
bool ParseCloneList(const std::string& list, uint32_t* flags, std::string* bad);

// Parses a --handle id: a number (decimal or 0x hex: the whole PA_HND value) or
// TYPE[.ARG] with TYPE a startup handle type name ("user0") or number.
bool ParseHandleId(const std::string& text, uint32_t* id);

// The type names --handle accepts, in id order ("proc_self", ..., "user2").
std::vector<std::string> HandleTypeNames();

// Applies the environment options in order to *env (capspawn's environ or
// empty, as the flags say). On failure (an --env-file that cannot be read or
// has a line without '='), returns the status and sets *error naming file and line.
capspawn_status_t ApplyEnvOptions(const std::vector<EnvOption>& options,
                                  std::vector<std::string>* env, std::string* error);

// The container options (--net, --root, --mount, --cap-add...): false when
// `c` is not one of them. *ok is false (with *error) when the value is bad.
bool HandleContainerOption(int c, const char* name, const std::string& value, RunOptions* o,
                           bool* ok, std::string* error);
// getopt_long's entries for them (ends with a null name), and the first id.
const option* ContainerLongOptions();
inline constexpr int kFirstContainerOption = 512;

// `capspawn run --help`.
void PrintRunHelp(FILE* out);

}  // namespace capspawn::cli

#endif  // CAPSPAWN_TOOLS_CAPSPAWN_OPTIONS_H_
