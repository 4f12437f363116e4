// SPDX-License-Identifier: Apache-2.0
// LauncherClient, Resolver, and the chunked senders they share with the
// capspawn_spawn* translation.
#include <capspawn/launcher.h>

#include "launcher/client_internal.h"
#include "protocol/wire.h"
#include "resolver/client.h"

namespace capspawn {
namespace launcher_internal {
namespace {

using protocol::kChunkBudget;
using protocol::kMaxFdsPerDatagram;
using Batch = std::vector<protocol::Outgoing>;

// Splits items into chunks of at most kMaxFdsPerDatagram fds and kChunkBudget
// bytes, one datagram each; an item too large for any datagram is
// INVALID_ARGS, and then nothing is added.
template <typename T, typename Cost, typename Encode>
Status AppendChunked(Batch* batch, std::span<const T> items, size_t fds_per_item, Cost cost,
                     Encode encode, const char* what) {
  for (size_t i = 0; i < items.size(); ++i) {
    size_t c = cost(items[i]);
    if (c > kChunkBudget) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS, std::string(what) + " " + std::to_string(i) +
                                                  " is too large for one message (" +
                                                  std::to_string(c) + " bytes)");
    }
  }
  size_t begin = 0;
  while (begin < items.size()) {
    size_t bytes = 0;
    size_t end = begin;
    while (end < items.size() && (end - begin + 1) * fds_per_item <= kMaxFdsPerDatagram) {
      size_t c = cost(items[end]);
      if (bytes + c > kChunkBudget) break;
      bytes += c;
      ++end;
    }
    batch->push_back(encode(items.subspan(begin, end - begin)));
    begin = end;
  }
  return {};
}

Error FromReply(const protocol::Reply& reply) {
  return Error(reply.status,
               reply.message.empty() ? std::string("the launcher gave no message") : reply.message);
}

template <typename T>
Result<T> Unexpected(const char* what) {
  return Error(CAPSPAWN_ERR_INVALID_ARGS,
               std::string("the launcher answered ") + what + " with a reply of the wrong kind");
}

Status SendBatch(int sock, Status appended, const Batch& batch) {
  if (!appended.ok()) return appended;
  return protocol::SendAll(sock, batch);
}

}  // namespace

Status AppendStrings(Batch* batch, protocol::RequestKind kind,
                     std::span<const std::string_view> strings) {
  return AppendChunked<std::string_view>(
      batch, strings, 0, [](std::string_view s) { return protocol::StringCost(s.size()); },
      [kind](std::span<const std::string_view> chunk) {
        return protocol::EncodeStrings(kind, chunk);
      },
      kind == protocol::RequestKind::kAddArgs ? "argument" : "environment variable");
}

Status AppendNames(Batch* batch, std::span<const protocol::NameRef> names) {
  return AppendChunked<protocol::NameRef>(
      batch, names, 1, [](const protocol::NameRef& n) { return protocol::NameCost(n.path.size()); },
      [](std::span<const protocol::NameRef> chunk) { return protocol::EncodeNames(chunk); },
      "name entry");
}

Status AppendHandles(Batch* batch, std::span<const protocol::HandleRef> handles) {
  return AppendChunked<protocol::HandleRef>(
      batch, handles, 1,
      [](const protocol::HandleRef& h) { return protocol::HandleCost(h.name.size()); },
      [](std::span<const protocol::HandleRef> chunk) { return protocol::EncodeHandles(chunk); },
      "handle");
}

Status SendStrings(int sock, protocol::RequestKind kind,
                   std::span<const std::string_view> strings) {
  Batch batch;
  return SendBatch(sock, AppendStrings(&batch, kind, strings), batch);
}

Status SendNames(int sock, std::span<const protocol::NameRef> names) {
  Batch batch;
  return SendBatch(sock, AppendNames(&batch, names), batch);
}

Status SendHandles(int sock, std::span<const protocol::HandleRef> handles) {
  Batch batch;
  return SendBatch(sock, AppendHandles(&batch, handles), batch);
}

Result<Process> ProcessFromReply(Result<protocol::Reply> reply) {
  if (!reply.ok()) return reply.error();
  if (reply->status != CAPSPAWN_OK) return FromReply(*reply);
  if (reply->payload != protocol::Reply::Payload::kProcess) return Unexpected<Process>("Launch");
  return Process(std::move(reply->process));
}

Result<Process> SendLaunch(int sock, const protocol::LaunchRef& info) {
  return ProcessFromReply(
      protocol::Call(sock, protocol::EncodeLaunch(protocol::RequestKind::kLaunch, info)));
}

Result<ProcessStartData> StartDataFromReply(Result<protocol::Reply> reply) {
  if (!reply.ok()) return reply.error();
  if (reply->status != CAPSPAWN_OK) return FromReply(*reply);
  if (reply->payload != protocol::Reply::Payload::kStartData) {
    return Unexpected<ProcessStartData>("CreateWithoutStarting");
  }
  ProcessStartData out;
  out.process = Process(std::move(reply->start.process));
  out.root_vmar = std::move(reply->start.root_vmar);
  out.thread = reply->start.thread;
  out.entry = reply->start.entry;
  out.stack = reply->start.stack;
  out.base = reply->start.base;
  out.vdso_base = reply->start.vdso_base;
  return out;
}

Result<ProcessStartData> SendCreateWithoutStarting(int sock, const protocol::LaunchRef& info) {
  return StartDataFromReply(protocol::Call(
      sock, protocol::EncodeLaunch(protocol::RequestKind::kCreateWithoutStarting, info)));
}

}  // namespace launcher_internal

namespace {

static_assert(static_cast<int>(LaunchNameKind::kDevMinimal) ==
              static_cast<int>(protocol::NameKind::kDevMinimal));

protocol::LaunchRef Ref(const LaunchInfo& info) {
  protocol::LaunchRef ref;
  ref.executable = info.executable.get();
  ref.job = info.job.get();
  ref.name = info.name ? &*info.name : nullptr;
  ref.default_loader = info.default_loader;
  ref.cwd = info.cwd.get();
  return ref;
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return std::vector<std::string_view>(v.begin(), v.end());
}

}  // namespace

Result<LauncherClient> LauncherClient::Connect(const std::string& socket_path) {
  Result<UniqueFd> sock = protocol::Connect(socket_path);
  if (!sock.ok()) return sock.error();
  return LauncherClient(std::move(sock.value()));
}

Status LauncherClient::AddArgs(const std::vector<std::string>& args) {
  std::vector<std::string_view> v = Views(args);
  return launcher_internal::SendStrings(socket_.get(), protocol::RequestKind::kAddArgs, v);
}

Status LauncherClient::AddEnvirons(const std::vector<std::string>& environ) {
  std::vector<std::string_view> v = Views(environ);
  return launcher_internal::SendStrings(socket_.get(), protocol::RequestKind::kAddEnvirons, v);
}

Status LauncherClient::AddNames(std::vector<LaunchNameInfo> names) {
  std::vector<protocol::NameRef> refs;
  for (const LaunchNameInfo& n : names) {
    refs.push_back(
        {n.path, n.directory.get(), static_cast<protocol::NameKind>(n.kind), n.read_only});
  }
  return launcher_internal::SendNames(socket_.get(), refs);
}

Status LauncherClient::AddHandles(std::vector<LaunchHandleInfo> handles) {
  std::vector<protocol::HandleRef> refs;
  for (const LaunchHandleInfo& h : handles) refs.push_back({h.id, h.handle.get(), h.name});
  return launcher_internal::SendHandles(socket_.get(), refs);
}

Status LauncherClient::SetOptions(uint32_t options) {
  return protocol::Send(socket_.get(), protocol::EncodeSetOptions(options));
}

Result<Process> LauncherClient::Launch(LaunchInfo info) {
  return launcher_internal::SendLaunch(socket_.get(), Ref(info));
}

Result<ProcessStartData> LauncherClient::CreateWithoutStarting(LaunchInfo info) {
  return launcher_internal::SendCreateWithoutStarting(socket_.get(), Ref(info));
}

Result<ResolvedProgram> LauncherClient::Resolve(const std::string& name) {
  Result<resolver::Resolution> r = resolver::SendResolve(socket_.get(), name);
  if (!r.ok()) return r.error();
  return ResolvedProgram{std::move(r->executable), std::move(r->loader)};
}

Result<Resolver> Resolver::Connect(const std::string& socket_path) {
  Result<UniqueFd> sock = protocol::Connect(socket_path);
  if (!sock.ok()) return sock.error();
  return Resolver(std::move(sock.value()));
}

Result<ResolvedProgram> Resolver::Resolve(const std::string& name) {
  Result<resolver::Resolution> r = resolver::SendResolve(socket_.get(), name);
  if (!r.ok()) return r.error();
  return ResolvedProgram{std::move(r->executable), std::move(r->loader)};
}

}  // namespace capspawn
