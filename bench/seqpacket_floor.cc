// SPDX-License-Identifier: Apache-2.0
// The physical floor of any launcher: one SOCK_SEQPACKET request/reply round
// trip between two processes, each datagram carrying one fd in SCM_RIGHTS,
// as a launch's request (the executable) and reply (the pidfd) do.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "harness.h"

namespace capspawn_bench {
namespace {

// Sends `bytes` bytes and `fd` in one datagram.
bool SendWithFd(int sock, const char* bytes, size_t size, int fd) {
  iovec iov{const_cast<char*>(bytes), size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(size);
}

// Receives one datagram; returns its fd (or -1) and the byte count in *got.
int ReceiveWithFd(int sock, char* buf, size_t size, ssize_t* got) {
  iovec iov{buf, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  *got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  cmsghdr* c = *got > 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  int fd = -1;
  if (c && c->cmsg_type == SCM_RIGHTS) std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

// The peer: answers every datagram with one of the same size carrying the
// fd it received, until the socket closes.
[[noreturn]] void Echo(int sock) {
  char buf[512];
  for (;;) {
    ssize_t got;
    int fd = ReceiveWithFd(sock, buf, sizeof buf, &got);
    if (got <= 0) _exit(0);
    bool ok = SendWithFd(sock, buf, static_cast<size_t>(got), fd >= 0 ? fd : sock);
    if (fd >= 0) close(fd);
    if (!ok) _exit(1);
  }
}

void RoundTrip(benchmark::State& state) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    state.SkipWithError(("socketpair: " + std::string(std::strerror(errno))).c_str());
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    Echo(sv[1]);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    state.SkipWithError(("fork: " + std::string(std::strerror(errno))).c_str());
    return;
  }
  int payload = open("/dev/null", O_RDONLY | O_CLOEXEC);
  // About what a small launch request carries.
  char request[160] = {}, reply[512];
  std::string error;
  for (auto _ : state) {
    ssize_t got;
    int fd = -1;
    if (!SendWithFd(sv[0], request, sizeof request, payload) ||
        (fd = ReceiveWithFd(sv[0], reply, sizeof reply, &got)) < 0) {
      error = "round trip: " + std::string(std::strerror(errno));
      break;
    }
    close(fd);
  }
  close(payload);
  close(sv[0]);
  waitpid(pid, nullptr, 0);
  if (!error.empty()) state.SkipWithError(error.c_str());
}

const int kRegistered = [] {
  AddBenchmark("launcher/floor/seqpacket_round_trip_1fd", RoundTrip);
  return 0;
}();

}  // namespace
}  // namespace capspawn_bench
