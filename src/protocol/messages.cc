// SPDX-License-Identifier: Apache-2.0
#include "protocol/messages.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>

#include <capspawn/spawn.h>

#include "protocol/launcher.capnp.h"

namespace capspawn::protocol {
namespace {

// Names each of a datagram's fds exactly once.
class FdTable {
 public:
  explicit FdTable(std::vector<UniqueFd> fds) : fds_(std::move(fds)), used_(fds_.size()) {}

  // The fd at `index`; an error for an index out of range or named twice.
  Result<UniqueFd> Take(uint32_t index, const char* what) {
    if (index >= fds_.size()) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, std::string(what) + ": fd index " +
                                                  std::to_string(index) + " but the datagram has " +
                                                  std::to_string(fds_.size()) + " fds");
    }
    if (used_[index]) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   std::string(what) + ": fd index " + std::to_string(index) + " named twice");
    }
    used_[index] = true;
    ++taken_;
    return std::move(fds_[index]);
  }
  // An optional index (kNoFd: none).
  Result<UniqueFd> TakeOptional(uint32_t index, const char* what) {
    if (index == kNoFd) return UniqueFd();
    return Take(index, what);
  }
  Status CheckAllNamed() const {
    if (taken_ != fds_.size()) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "the datagram carries " + std::to_string(fds_.size()) +
                       " fds but the message names " + std::to_string(taken_));
    }
    return {};
  }

 private:
  std::vector<UniqueFd> fds_;
  std::vector<bool> used_;
  size_t taken_ = 0;
};

// A datagram's bytes as capnp words; copied only when misaligned.
class Words {
 public:
  explicit Words(std::span<const uint8_t> bytes) {
    const size_t n = bytes.size() / sizeof(capnp::word);
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
      words_ = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), n);
    } else {
      copy_ = kj::heapArray<capnp::word>(n);
      std::memcpy(copy_.begin(), bytes.data(), n * sizeof(capnp::word));
      words_ = copy_.asPtr();
    }
  }
  kj::ArrayPtr<const capnp::word> get() const { return words_; }

 private:
  kj::Array<capnp::word> copy_;
  kj::ArrayPtr<const capnp::word> words_;
};

Status CheckFraming(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Error(CAPSPAWN_ERR_INVALID_ARGS, "empty message");
  if (bytes.size() > kMaxDatagramBytes) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "message of " + std::to_string(bytes.size()) + " bytes is over the limit");
  }
  if (bytes.size() % sizeof(capnp::word) != 0) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "message of " + std::to_string(bytes.size()) +
                                                " bytes is not a whole number of words");
  }
  return {};
}

capnp::ReaderOptions Limits(size_t words) {
  capnp::ReaderOptions options;
  // Each word of a well-formed message is read once; more means pointers
  // aliasing the same data (an amplification attack).
  options.traversalLimitInWords = words * 2 + 64;
  options.nestingLimit = kNestingLimit;
  return options;
}

std::string ToString(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

kj::ArrayPtr<const kj::byte> Bytes(std::string_view s) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

// A builder whose first segment holds the whole message when `bytes` is a fair
// estimate: one segment, no far pointers, the size the chunker planned for.
struct Builder : capnp::MallocMessageBuilder {
  explicit Builder(size_t bytes = 512) : MallocMessageBuilder(bytes / sizeof(capnp::word) + 64) {}
};

Outgoing Finish(capnp::MessageBuilder& message, std::vector<int> fds) {
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  kj::ArrayPtr<const kj::byte> b = flat.asBytes();
  return Outgoing{std::vector<uint8_t>(b.begin(), b.end()), std::move(fds)};
}

Result<LaunchInfo> DecodeLaunchInfo(wire::LaunchInfo::Reader r, FdTable& fds) {
  LaunchInfo info;
  Result<UniqueFd> exe = fds.Take(r.getExecutable(), "launch info: executable");
  if (!exe.ok()) return exe.error();
  info.executable = std::move(exe.value());
  Result<UniqueFd> job = fds.TakeOptional(r.getJob(), "launch info: job");
  if (!job.ok()) return job.error();
  info.job = std::move(job.value());
  Result<UniqueFd> cwd = fds.TakeOptional(r.getCwd(), "launch info: cwd");
  if (!cwd.ok()) return cwd.error();
  info.cwd = std::move(cwd.value());
  if (r.hasName()) info.name = ToString(r.getName());
  info.default_loader = r.getDefaultLoader();
  return info;
}

Result<NameEntry> DecodeName(wire::NameInfo::Reader n, FdTable& fds) {
  NameEntry e;
  switch (n.getKind()) {
    case wire::NameKind::DIRECTORY:
      e.kind = NameKind::kDirectory;
      break;
    case wire::NameKind::TMPFS:
      e.kind = NameKind::kTmpfs;
      break;
    case wire::NameKind::PROC:
      e.kind = NameKind::kProc;
      break;
    case wire::NameKind::DEV_MINIMAL:
      e.kind = NameKind::kDevMinimal;
      break;
    default:
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "name entry: unknown kind " + std::to_string(static_cast<int>(n.getKind())));
  }
  if (e.kind == NameKind::kDirectory) {
    Result<UniqueFd> dir = fds.Take(n.getDirectory(), "name entry");
    if (!dir.ok()) return dir.error();
    e.directory = std::move(dir.value());
  } else if (n.getDirectory() != kNoFd) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "name entry: a directory given to a name that is not one");
  }
  e.path = ToString(n.getPath());
  e.read_only = n.getReadOnly();
  e.action_index = n.getActionIndex();
  return e;
}

// A request's kind, from its union tag.
Result<RequestKind> KindOf(wire::Request::Which which) {
  switch (which) {
    case wire::Request::ADD_ARGS:
      return RequestKind::kAddArgs;
    case wire::Request::ADD_ENVIRONS:
      return RequestKind::kAddEnvirons;
    case wire::Request::ADD_NAMES:
      return RequestKind::kAddNames;
    case wire::Request::ADD_HANDLES:
      return RequestKind::kAddHandles;
    case wire::Request::LAUNCH:
      return RequestKind::kLaunch;
    case wire::Request::CREATE_WITHOUT_STARTING:
      return RequestKind::kCreateWithoutStarting;
    case wire::Request::RESOLVE:
      return RequestKind::kResolve;
    case wire::Request::SET_OPTIONS:
      return RequestKind::kSetOptions;
  }
  return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
               "unknown request kind " + std::to_string(static_cast<int>(which)));
}

Result<Request> DecodeRequestUnsafe(kj::ArrayPtr<const capnp::word> words, FdTable& fds) {
  capnp::FlatArrayMessageReader reader(words, Limits(words.size()));
  if (reader.getEnd() != words.end()) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "trailing bytes after the message");
  }
  wire::Request::Reader root = reader.getRoot<wire::Request>();
  Result<RequestKind> kind = KindOf(root.which());
  if (!kind.ok()) return kind.error();
  Request out;
  out.kind = *kind;
  switch (out.kind) {
    case RequestKind::kAddArgs:
    case RequestKind::kAddEnvirons: {
      auto list = out.kind == RequestKind::kAddArgs ? root.getAddArgs() : root.getAddEnvirons();
      for (capnp::Data::Reader d : list) {
        out.strings.Add(std::string_view(reinterpret_cast<const char*>(d.begin()), d.size()));
      }
      break;
    }
    case RequestKind::kAddNames: {
      auto list = root.getAddNames();
      out.names.reserve(list.size());
      for (wire::NameInfo::Reader n : list) {
        Result<NameEntry> e = DecodeName(n, fds);
        if (!e.ok()) return e.error();
        out.names.push_back(std::move(e.value()));
      }
      break;
    }
    case RequestKind::kAddHandles: {
      auto list = root.getAddHandles();
      out.handles.reserve(list.size());
      for (wire::HandleInfo::Reader h : list) {
        Result<UniqueFd> fd = fds.Take(h.getHandle(), "handle");
        if (!fd.ok()) return fd.error();
        out.handles.push_back(
            {h.getId(), std::move(fd.value()), h.hasName() ? ToString(h.getName()) : ""});
      }
      break;
    }
    case RequestKind::kLaunch:
    case RequestKind::kCreateWithoutStarting: {
      Result<LaunchInfo> info = DecodeLaunchInfo(
          out.kind == RequestKind::kLaunch ? root.getLaunch() : root.getCreateWithoutStarting(),
          fds);
      if (!info.ok()) return info.error();
      out.info = std::move(info.value());
      break;
    }
    case RequestKind::kResolve:
      out.resolve_name = ToString(root.getResolve());
      break;
    case RequestKind::kSetOptions:
      out.options = root.getSetOptions();
      break;
  }
  Status all = fds.CheckAllNamed();
  if (!all.ok()) return all.error();
  return out;
}

Result<Reply> DecodeReplyUnsafe(kj::ArrayPtr<const capnp::word> words, FdTable& fds) {
  capnp::FlatArrayMessageReader reader(words, Limits(words.size()));
  if (reader.getEnd() != words.end()) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS, "trailing bytes after the reply");
  }
  wire::Reply::Reader root = reader.getRoot<wire::Reply>();
  Reply out;
  out.status = root.getStatus();
  out.message = std::string(root.getMessage().cStr(), root.getMessage().size());
  if (out.message.size() >= CAPSPAWN_ERR_MSG_MAX_LENGTH) {
    out.message.resize(CAPSPAWN_ERR_MSG_MAX_LENGTH - 1);
  }
  switch (root.which()) {
    case wire::Reply::NONE:
      out.payload = Reply::Payload::kNone;
      break;
    case wire::Reply::PROCESS: {
      out.payload = Reply::Payload::kProcess;
      Result<UniqueFd> p = fds.Take(root.getProcess(), "reply: process");
      if (!p.ok()) return p.error();
      out.process = std::move(p.value());
      break;
    }
    case wire::Reply::START_DATA: {
      out.payload = Reply::Payload::kStartData;
      wire::StartData::Reader s = root.getStartData();
      Result<UniqueFd> p = fds.Take(s.getProcess(), "reply: start data process");
      if (!p.ok()) return p.error();
      Result<UniqueFd> vmar = fds.TakeOptional(s.getRootVmar(), "reply: start data root VMAR");
      if (!vmar.ok()) return vmar.error();
      out.start.process = std::move(p.value());
      out.start.root_vmar = std::move(vmar.value());
      out.start.thread = s.getThread();
      out.start.entry = s.getEntry();
      out.start.stack = s.getStack();
      out.start.base = s.getBase();
      out.start.vdso_base = s.getVdsoBase();
      break;
    }
    case wire::Reply::RESOLVED: {
      out.payload = Reply::Payload::kResolved;
      Result<UniqueFd> e = fds.Take(root.getResolved().getExecutable(), "reply: executable");
      if (!e.ok()) return e.error();
      Result<UniqueFd> l = fds.TakeOptional(root.getResolved().getLoader(), "reply: loader");
      if (!l.ok()) return l.error();
      out.executable = std::move(e.value());
      out.loader = std::move(l.value());
      break;
    }
    default:
      return Error(CAPSPAWN_ERR_NOT_SUPPORTED,
                   "unknown reply kind " + std::to_string(static_cast<int>(root.which())));
  }
  if ((out.status == CAPSPAWN_OK) != (out.payload != Reply::Payload::kNone)) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "reply: a payload must be present if, and only if, the status is OK");
  }
  Status all = fds.CheckAllNamed();
  if (!all.ok()) return all.error();
  return out;
}

// Runs a decoder, turning capnp's exceptions (malformed input) into errors.
template <typename T, typename F>
Result<T> Guarded(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds, F decode) {
  Status framing = CheckFraming(bytes);
  if (!framing.ok()) return framing.error();
  FdTable table(std::move(fds));
  Words words(bytes);
  try {
    return decode(words.get(), table);
  } catch (const kj::Exception& e) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 std::string("malformed message: ") + e.getDescription().cStr());
  }
}

}  // namespace

const char* RequestKindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kAddArgs:
      return "AddArgs";
    case RequestKind::kAddEnvirons:
      return "AddEnvirons";
    case RequestKind::kAddNames:
      return "AddNames";
    case RequestKind::kAddHandles:
      return "AddHandles";
    case RequestKind::kLaunch:
      return "Launch";
    case RequestKind::kCreateWithoutStarting:
      return "CreateWithoutStarting";
    case RequestKind::kResolve:
      return "Resolve";
    case RequestKind::kSetOptions:
      return "SetOptions";
  }
  return "?";
}

Result<Request> DecodeRequest(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds) {
  return Guarded<Request>(bytes, std::move(fds), DecodeRequestUnsafe);
}

Result<RequestKind> DecodeRequestKind(std::span<const uint8_t> bytes) {
  return Guarded<RequestKind>(
      bytes, {}, [](kj::ArrayPtr<const capnp::word> words, FdTable&) -> Result<RequestKind> {
        capnp::FlatArrayMessageReader reader(words, Limits(words.size()));
        return KindOf(reader.getRoot<wire::Request>().which());
      });
}

Result<Reply> DecodeReply(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds) {
  return Guarded<Reply>(bytes, std::move(fds), DecodeReplyUnsafe);
}

size_t StringCost(size_t length) { return 8 + (length + 7) / 8 * 8; }
size_t NameCost(size_t path_length) { return 24 + StringCost(path_length); }
size_t HandleCost(size_t name_length) {
  return kHandleCost + (name_length ? StringCost(name_length) : 0);
}

Outgoing EncodeStrings(RequestKind kind, std::span<const std::string_view> strings) {
  size_t bytes = 0;
  for (std::string_view s : strings) bytes += StringCost(s.size());
  Builder message(bytes);
  auto root = message.initRoot<wire::Request>();
  auto list = kind == RequestKind::kAddArgs ? root.initAddArgs(strings.size())
                                            : root.initAddEnvirons(strings.size());
  for (size_t i = 0; i < strings.size(); ++i) list.set(i, Bytes(strings[i]));
  return Finish(message, {});
}

Outgoing EncodeNames(std::span<const NameRef> names) {
  size_t bytes = 0;
  for (const NameRef& n : names) bytes += NameCost(n.path.size());
  Builder message(bytes);
  auto list = message.initRoot<wire::Request>().initAddNames(names.size());
  std::vector<int> fds;
  for (size_t i = 0; i < names.size(); ++i) {
    const NameRef& n = names[i];
    list[i].setPath(Bytes(n.path));
    if (n.kind == NameKind::kDirectory) {
      list[i].setDirectory(static_cast<uint32_t>(fds.size()));
      fds.push_back(n.directory);
    } else {
      list[i].setDirectory(kNoFd);
    }
    list[i].setKind(n.kind == NameKind::kTmpfs        ? wire::NameKind::TMPFS
                    : n.kind == NameKind::kProc       ? wire::NameKind::PROC
                    : n.kind == NameKind::kDevMinimal ? wire::NameKind::DEV_MINIMAL
                                                      : wire::NameKind::DIRECTORY);
    list[i].setReadOnly(n.read_only);
    list[i].setActionIndex(n.action_index);
  }
  return Finish(message, std::move(fds));
}

Outgoing EncodeHandles(std::span<const HandleRef> handles) {
  size_t bytes = 0;
  for (const HandleRef& h : handles) bytes += HandleCost(h.name.size());
  Builder message(bytes);
  auto list = message.initRoot<wire::Request>().initAddHandles(handles.size());
  std::vector<int> fds;
  for (size_t i = 0; i < handles.size(); ++i) {
    list[i].setId(handles[i].id);
    if (!handles[i].name.empty()) list[i].setName(Bytes(handles[i].name));
    list[i].setHandle(static_cast<uint32_t>(fds.size()));
    fds.push_back(handles[i].handle);
  }
  return Finish(message, std::move(fds));
}

Outgoing EncodeLaunch(RequestKind kind, const LaunchRef& info) {
  Builder message;
  auto root = message.initRoot<wire::Request>();
  auto r = kind == RequestKind::kCreateWithoutStarting ? root.initCreateWithoutStarting()
                                                       : root.initLaunch();
  std::vector<int> fds;
  auto add = [&](int fd) -> uint32_t {
    if (fd < 0) return kNoFd;
    fds.push_back(fd);
    return static_cast<uint32_t>(fds.size() - 1);
  };
  r.setExecutable(add(info.executable));
  r.setJob(add(info.job));
  r.setCwd(add(info.cwd));
  if (info.name) r.setName(Bytes(*info.name));
  r.setDefaultLoader(info.default_loader);
  return Finish(message, std::move(fds));
}

Outgoing EncodeResolve(std::string_view name) {
  Builder message(StringCost(name.size()));
  message.initRoot<wire::Request>().setResolve(Bytes(name));
  return Finish(message, {});
}

Outgoing EncodeSetOptions(uint32_t options) {
  Builder message(64);
  message.initRoot<wire::Request>().setSetOptions(options);
  return Finish(message, {});
}

Outgoing EncodeErrorReply(int32_t status, std::string_view text) {
  Builder message(StringCost(text.size()));
  auto root = message.initRoot<wire::Reply>();
  root.setStatus(status);
  text = text.substr(0, CAPSPAWN_ERR_MSG_MAX_LENGTH - 1);
  root.setMessage(kj::StringPtr(std::string(text).c_str()));
  root.setNone();
  return Finish(message, {});
}

Outgoing EncodeProcessReply(int pidfd) {
  Builder message;
  auto root = message.initRoot<wire::Reply>();
  root.setStatus(CAPSPAWN_OK);
  root.setProcess(0);
  return Finish(message, {pidfd});
}

Outgoing EncodeStartDataReply(int pidfd, const StartData& data) {
  Builder message;
  auto root = message.initRoot<wire::Reply>();
  root.setStatus(CAPSPAWN_OK);
  auto s = root.initStartData();
  s.setProcess(0);
  std::vector<int> fds = {pidfd};
  if (data.root_vmar) {
    s.setRootVmar(1);
    fds.push_back(data.root_vmar.get());
  }
  s.setThread(data.thread);
  s.setEntry(data.entry);
  s.setStack(data.stack);
  s.setBase(data.base);
  s.setVdsoBase(data.vdso_base);
  return Finish(message, std::move(fds));
}

Outgoing EncodeResolvedReply(int executable, int loader) {
  Builder message;
  auto root = message.initRoot<wire::Reply>();
  root.setStatus(CAPSPAWN_OK);
  auto r = root.initResolved();
  std::vector<int> fds = {executable};
  r.setExecutable(0);
  if (loader >= 0) {
    r.setLoader(1);
    fds.push_back(loader);
  }
  return Finish(message, std::move(fds));
}

}  // namespace capspawn::protocol
