// SPDX-License-Identifier: Apache-2.0
// `capspawn run --listen`: sockets handed the way systemd's socket units hand
// them, to real socket-activated programs: sd_child (libsystemd's
// sd_listen_fds_with_names), python3 accepting on fd 3 as a
// systemd-socket-activate'd server does, and systemd's own unmodified
// systemd-socket-proxyd. Stale LISTEN_* variables never reach a child.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cli_runner.h"

namespace capspawn::cli_test {
namespace {

const char kSdChild[] = CAPSPAWN_TEST_SD_CHILD;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A TCP port nothing listens on right now (bound, read, released).
int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// Connects (retrying while the server starts) and reads what it sends until EOF.
std::string Fetch(const sockaddr* addr, socklen_t len, int family, const std::string& send = "") {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(s, addr, len) == 0) {
      // systemd-socket-proxyd ends a connection at the client's EOF: only an
      // empty request is a half-close.
      if (!send.empty()) {
        (void)!write(s, send.data(), send.size());
      } else {
        shutdown(s, SHUT_WR);
      }
      std::string out;
      char buf[256];
      for (;;) {
        pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 10000) != 1) break;
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
      close(s);
      return out;
    }
    close(s);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return "(could not connect)";
}

std::string FetchTcp(int port, const std::string& send = "") {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return Fetch(reinterpret_cast<sockaddr*>(&a), sizeof a, AF_INET, send);
}

std::string FetchUnix(const std::string& path) {
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  return Fetch(reinterpret_cast<sockaddr*>(&a), sizeof a, AF_UNIX);
}

// sd_child's report as name -> value ("n", "fd3", "env LISTEN_FDNAMES", ...).
std::map<std::string, std::string> SdReport(const std::string& text) {
  std::map<std::string, std::string> r;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    std::string key, rest;
    l >> key;
    std::getline(l, rest);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    if (key == "fd") {
      r["fd" + rest.substr(0, rest.find(' '))] = rest.substr(rest.find(' ') + 1);
    } else if (key == "env") {
      r["env " + rest.substr(0, rest.find('='))] = rest.substr(rest.find('=') + 1);
    } else {
      r[key] = rest;
    }
  }
  return r;
}

// A python3 server written for socket activation: it accepts on the fds
// LISTEN_FDS describes (after checking LISTEN_PID, as sd_listen_fds does)
// and answers each connection with that fd's LISTEN_FDNAMES name.
const char kPythonServer[] = R"(
import os, socket, sys
assert int(os.environ["LISTEN_PID"]) == os.getpid()
names = os.environ["LISTEN_FDNAMES"].split(":")
for i in range(int(os.environ["LISTEN_FDS"])):
    s = socket.socket(fileno=3 + i)
    c, _ = s.accept()
    c.sendall(("%s %s\n" % (names[i], s.type.name)).encode())
    c.close()
)";

class Listen : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/capspawn-listen-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(Listen, LibsystemdSeesTheNamedSocket) {
  CliResult r = RunCli({"run", "--clear-env", "--listen", "tcp:127.0.0.1:0,name=http", "--listen",
                        "unix:" + dir_ + "/s,id=user1.4", "--", kSdChild});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> sd = SdReport(r.out);
  EXPECT_EQ(sd["n"], "2") << r.out;
  EXPECT_EQ(sd["fd3"], "name=http type=sock");
  EXPECT_EQ(sd["fd4"], "name=user1.4 type=sock");
  EXPECT_EQ(sd["env LISTEN_FDNAMES"], "http:user1.4");
  EXPECT_EQ(sd["env LISTEN_PID"], sd["pid"]);
}

TEST_F(Listen, ASocketActivatedServerAcceptsOnIt) {
  const int port = FreePort();
  const std::string path = dir_ + "/api.sock";
  const int out = MemFile(), err = MemFile();
  pid_t cli = StartCli(
      {"run", "--listen", "tcp:127.0.0.1:" + std::to_string(port) + ",name=http", "--listen",
       "unix:" + path + ",name=api,mode=0600", "--", "/usr/bin/python3", "-c", kPythonServer},
      {}, out, err);
  EXPECT_EQ(FetchTcp(port), "http SOCK_STREAM\n");
  EXPECT_EQ(FetchUnix(path), "api SOCK_STREAM\n");
  int status = 0;
  waitpid(cli, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadAll(out) << ReadAll(err);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  close(out);
  close(err);
}

// systemd's own socket-activated proxy, unmodified: it accepts on what
// capspawn hands it and forwards to a server of the test's.
TEST_F(Listen, SystemdSocketProxydRunsUnderCapspawn) {
  const char kProxyd[] = "/lib/systemd/systemd-socket-proxyd";
  if (access(kProxyd, X_OK) != 0) GTEST_SKIP() << kProxyd << " is not installed";
  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(server, 4), 0);
  socklen_t len = sizeof a;
  getsockname(server, reinterpret_cast<sockaddr*>(&a), &len);
  const int backend = ntohs(a.sin_port);
  std::thread answer([server] {
    int c = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    char buf[64];
    ssize_t n = read(c, buf, sizeof buf);
    std::string reply = "pong:" + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
    (void)!write(c, reply.data(), reply.size());
    close(c);
  });
  const int port = FreePort();
  const int out = MemFile(), err = MemFile();
  pid_t cli = StartCli({"run", "--listen", "tcp:127.0.0.1:" + std::to_string(port), "--", kProxyd,
                        "127.0.0.1:" + std::to_string(backend)},
                       {}, out, err);
  EXPECT_EQ(FetchTcp(port, "ping"), "pong:ping");
  answer.join();
  kill(cli, SIGTERM);  // forwarded to the proxy
  int status = 0;
  waitpid(cli, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << ReadAll(err);
  close(server);
  close(out);
  close(err);
}

TEST_F(Listen, StaleListenVariablesNeverReachAChild) {
  CliOptions stale;
  stale.env = {"LISTEN_FDS=2", "LISTEN_PID=1", "LISTEN_FDNAMES=a:b", "CAPSPAWN_STARTUP_IDS=x:y"};
  // Inherited (--clone=all), and explicit (--env): neither passes.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "--", kSdChild},
        {"run", "--clear-env", "--env", "LISTEN_FDS=1", "--env", "LISTEN_PID=1", "--", kSdChild}}) {
    CliResult r = RunCli(args, stale);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> sd = SdReport(r.out);
    EXPECT_EQ(sd["n"], "0") << r.out;
    EXPECT_EQ(sd["env LISTEN_FDS"], "(unset)");
    EXPECT_EQ(sd["env LISTEN_PID"], "(unset)");
    EXPECT_EQ(sd["env LISTEN_FDNAMES"], "(unset)");
  }
  CliResult r = RunCli({"run", "--", "/usr/bin/env"}, stale);
  EXPECT_FALSE(Contains(r.out, "LISTEN_")) << r.out;
  EXPECT_FALSE(Contains(r.out, "CAPSPAWN_STARTUP_IDS")) << r.out;
  // With typed handles, only the handles' own.
  r = RunCli({"run", "--listen", "tcp:127.0.0.1:0", "--", kSdChild}, stale);
  std::map<std::string, std::string> sd = SdReport(r.out);
  EXPECT_EQ(sd["n"], "1") << r.out;
  EXPECT_EQ(sd["env LISTEN_FDNAMES"], "user0.0");
}

TEST_F(Listen, BadAddressesAreNamed) {
  const std::pair<std::string, std::string> usage[] = {
      {"http", "expected tcp:HOST:PORT"},
      {"tcp:8080", "expected HOST:PORT"},
      {"tcp:[::1]8080", "expected [ADDRESS]:PORT"},
      {"tcp:127.0.0.1:", "missing PORT"},
      {"sctp:1:2", "unknown kind 'sctp'"},
      {"unix:", "missing PATH"},
      {"tcp:127.0.0.1:0,mode=0600", "unknown option 'mode=0600'"},
      {"unix:/x,backlog=lots", "bad backlog 'lots'"},
      {"unix:/x,id=user9", "bad handle id 'user9'"},
  };
  for (const auto& [address, needle] : usage) {
    CliResult r = RunCli({"run", "--listen", address, "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 2) << address << r.err;
    EXPECT_TRUE(Contains(r.err, "--listen " + address + ": " + needle)) << r.err;
  }
  // Two servers on one port: the second is told, naming its option.
  int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  socklen_t len = sizeof a;
  getsockname(taken, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string spec = "tcp:127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  CliResult r = RunCli({"run", "--listen", spec, "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err.rfind("capspawn: ADDRESS_IN_USE: --listen " + spec + ": bind 127.0.0.1:", 0), 0u)
      << r.err;
  close(taken);
  r = RunCli({"run", "--listen", "tcp:127.0.0.1:0,name=", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--listen tcp:127.0.0.1:0,name=: empty name")) << r.err;
  // A name systemd would refuse, refused by the library, naming the option.
  r = RunCli({"run", "--listen", "tcp:127.0.0.1:0,name=a:b", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(Contains(r.err, "INVALID_ARGS: --listen tcp:127.0.0.1:0,name=a:b: handle name 'a:b'"))
      << r.err;
}

}  // namespace
}  // namespace capspawn::cli_test
