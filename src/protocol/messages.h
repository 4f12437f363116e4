// SPDX-License-Identifier: Apache-2.0
// The Launcher/Resolver messages as plain C++ values, and their Cap'n Proto
// encoding (launcher.capnp). Decoding treats its input as hostile: read
// limits, every fd index checked, each fd of the datagram named exactly once.
// See docs/protocol.md.
#ifndef CAPSPAWN_SRC_PROTOCOL_MESSAGES_H_
#define CAPSPAWN_SRC_PROTOCOL_MESSAGES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <capspawn/fd.h>
#include <capspawn/result.h>

#include "base/string_list.h"

namespace capspawn::protocol {

inline constexpr uint32_t kNoFd = 0xffffffffu;
// Largest datagram either side sends or accepts: above the kernel's largest
// single argument (MAX_ARG_STRLEN, 128 KiB) plus framing, so any argument
// exec could take fits one message; below what an AF_UNIX socket sends at
// once with the send buffer Connect() asks for.
inline constexpr size_t kMaxDatagramBytes = 160 * 1024;
// SCM_MAX_FD: the kernel passes at most this many fds in one message.
inline constexpr size_t kMaxFdsPerDatagram = 253;
// Decoder limits: the schema nests at most 4 levels deep.
inline constexpr int kNestingLimit = 8;

enum class RequestKind {
  kAddArgs,
  kAddEnvirons,
  kAddNames,
  kAddHandles,
  kLaunch,
  kCreateWithoutStarting,
  kResolve,
  kSetOptions,
};
const char* RequestKindName(RequestKind kind);
// Only the kind of a request (for one whose fds were lost in transit).
Result<RequestKind> DecodeRequestKind(std::span<const uint8_t> bytes);

// What a name entry puts at its path (launcher.capnp's NameKind).
enum class NameKind : uint8_t { kDirectory, kTmpfs, kProc, kDevMinimal };
inline constexpr uint32_t kNoIndex = 0xffffffffu;
// LaunchInfo's name: fuchsia.process's bound (MAX_NAME_LEN, ZX_MAX_NAME_LEN).
inline constexpr size_t kMaxProcessNameBytes = 32;
// zx.ProcessOptions: the only option Fuchsia defines.
inline constexpr uint32_t kProcessShared = 1u << 0;

struct NameEntry {
  std::string path;
  UniqueFd directory;  // kDirectory only
  NameKind kind = NameKind::kDirectory;
  bool read_only = false;
  uint32_t action_index = kNoIndex;  // the client's action, for messages
};

struct HandleEntry {
  uint32_t id = 0;
  UniqueFd handle;
  std::string name;  // LISTEN_FDNAMES name; empty: none
};

struct LaunchInfo {
  UniqueFd executable;
  UniqueFd job;                     // empty: the client's own cgroup
  std::optional<std::string> name;  // SET_NAME
  bool default_loader = false;      // DEFAULT_LDSVC
  UniqueFd cwd;                     // with a "/" name entry only
};

// One decoded request; which fields are set depends on `kind`.
struct Request {
  RequestKind kind = RequestKind::kAddArgs;
  StringList strings;                // kAddArgs, kAddEnvirons
  std::vector<NameEntry> names;      // kAddNames
  std::vector<HandleEntry> handles;  // kAddHandles
  LaunchInfo info;                   // kLaunch, kCreateWithoutStarting
  std::string resolve_name;          // kResolve
  uint32_t options = 0;              // kSetOptions
};

// Decodes one datagram, taking its fds. Errors (the message is malformed,
// names an fd index twice or out of range, leaves an fd unnamed, gives a
// directory to a name of another kind or none to a directory, is of an
// unknown kind) close every fd: INVALID_ARGS, or NOT_SUPPORTED for an
// unknown kind.
Result<Request> DecodeRequest(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds);

// An encoded datagram ready to send; `fds` are borrowed from the caller.
struct Outgoing {
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
};

struct NameRef {
  std::string_view path;
  int directory;  // -1: none (kinds other than kDirectory)
  NameKind kind = NameKind::kDirectory;
  bool read_only = false;
  uint32_t action_index = kNoIndex;
};
struct HandleRef {
  uint32_t id;
  int handle;
  std::string_view name = {};  // empty: none
};
struct LaunchRef {
  int executable = -1;
  int job = -1;
  const std::string* name = nullptr;
  bool default_loader = false;
  int cwd = -1;
};

Outgoing EncodeStrings(RequestKind kind, std::span<const std::string_view> strings);
Outgoing EncodeNames(std::span<const NameRef> names);
Outgoing EncodeHandles(std::span<const HandleRef> handles);
Outgoing EncodeLaunch(RequestKind kind, const LaunchRef& info);
Outgoing EncodeResolve(std::string_view name);
Outgoing EncodeSetOptions(uint32_t options);

// What a message of each kind costs in encoded bytes, for chunking: a chunk
// whose items' costs add up to at most kChunkBudget always fits a datagram.
inline constexpr size_t kChunkBudget = kMaxDatagramBytes - 4096;
size_t StringCost(size_t length);
size_t NameCost(size_t path_length);
// A HandleInfo: 8 bytes of data, a pointer to its name, and the name.
inline constexpr size_t kHandleCost = 16;
size_t HandleCost(size_t name_length);

struct StartData {
  UniqueFd process;
  UniqueFd root_vmar;  // /proc/PID/mem, read-write (capspawn_start_data_t::root_vmar)
  int32_t thread = 0;
  uint64_t entry = 0, stack = 0, base = 0, vdso_base = 0;
};

struct Reply {
  enum class Payload { kNone, kProcess, kStartData, kResolved };
  int32_t status = 0;
  std::string message;
  Payload payload = Payload::kNone;
  UniqueFd process;             // kProcess
  StartData start;              // kStartData
  UniqueFd executable, loader;  // kResolved (loader may be empty)
};

// The message is cut to CAPSPAWN_ERR_MSG_MAX_LENGTH - 1 bytes.
Outgoing EncodeErrorReply(int32_t status, std::string_view message);
Outgoing EncodeProcessReply(int pidfd);
Outgoing EncodeStartDataReply(int pidfd, const StartData& data);
Outgoing EncodeResolvedReply(int executable, int loader);

// Decodes a reply under the same rules as requests; a payload that does not
// match the status (present iff OK) is INVALID_ARGS.
Result<Reply> DecodeReply(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds);

}  // namespace capspawn::protocol

#endif  // CAPSPAWN_SRC_PROTOCOL_MESSAGES_H_
