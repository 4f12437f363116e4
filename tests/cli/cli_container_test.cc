// SPDX-License-Identifier: Apache-2.0
// `capspawn run`'s container options, run for real with busybox in a root
// directory, as root and as nobody; and their usage errors.
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"
#include "options.h"

namespace {

using capspawn::cli_test::CliResult;
using capspawn::cli_test::RunCli;

class Rootfs {
 public:
  Rootfs() {
    char t[] = "/tmp/capspawn-cli-ct-XXXXXX";
    path_ = mkdtemp(t) ? t : "";
    std::system(("mkdir -p '" + path_ + "/bin' && cp /bin/busybox '" + path_ + "/bin/'").c_str());
  }
  ~Rootfs() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CliContainer, RootWithNamespacesMountsAndLimits) {
  Rootfs root;
  std::vector<std::string> args = {"run",
                                   "--root",
                                   root.path(),
                                   "--pid",
                                   "--mount",
                                   "proc:/proc:nosuid,nodev",
                                   "--net",
                                   "--hostname",
                                   "box",
                                   "--mount",
                                   "tmpfs:/tmp:size=1m",
                                   "--devices",
                                   "/dev",
                                   "--rlimit",
                                   "nofile=20:30",
                                   "--chdir",
                                   "/tmp",
                                   "--umask",
                                   "027",
                                   "--no-new-privs"};
  if (geteuid() != 0) {
    args.insert(args.end(), {"--uid", "0", "--gid", "0"});  // mapped to the caller
  }
  args.insert(args.end(), {"--", "/bin/busybox", "sh", "-c",
                           "echo $$ $(hostname) $(ulimit -n) $(umask) $(pwd) $(id -u); ls /dev | "
                           "tr '\\n' ' '"});
  CliResult r = RunCli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "1 box 20 0027 /tmp 0\n"
            "fd full null ptmx random stderr stdin stdout tty urandom zero ");
}

TEST(CliContainer, CapabilitiesAddAndDrop) {
  std::vector<std::string> args = {
      "run", "--cap-drop", "ALL", "--cap-add", "net_bind_service,CAP_CHOWN", "--cap-drop", "chown"};
  if (geteuid() != 0) args.insert(args.end(), {"--userns", "--uid", "0"});
  args.insert(args.end(), {"--", "/bin/busybox", "grep", "CapBnd", "/proc/self/status"});
  CliResult r = RunCli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "CapBnd:\t0000000000000400\n");
}

// The fields of /proc/self/stat after the name: state, ppid, pgrp, session.
TEST(CliContainer, NewSessionLeadsASessionOfItsOwn) {
  const std::string script =
      "read -r pid name state ppid pgrp sid rest < /proc/$$/stat; "
      "echo $(( pid == sid )) $(( pid == pgrp ))";
  CliResult own = RunCli({"run", "--new-session", "--", "/bin/busybox", "sh", "-c", script});
  EXPECT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(own.out, "1 1\n");
  CliResult shared = RunCli({"run", "--", "/bin/busybox", "sh", "-c", script});
  EXPECT_EQ(shared.exit_code, 0) << shared.err;
  EXPECT_EQ(shared.out, "0 0\n");
}

TEST(CliContainer, FailuresNameTheOptionOrAction) {
  CliResult bad = RunCli({"run", "--mount", "bogus:/x", "--", "/bin/true"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--mount bogus:/x: unknown type 'bogus'"), std::string::npos) << bad.err;
  CliResult cap = RunCli({"run", "--cap-add", "CAP_FLY", "--", "/bin/true"});
  EXPECT_EQ(cap.exit_code, 2);
  EXPECT_NE(cap.err.find("--cap-add CAP_FLY: unknown capability 'CAP_FLY'"), std::string::npos);
  CliResult rl = RunCli({"run", "--rlimit", "nofile=a", "--", "/bin/true"});
  EXPECT_EQ(rl.exit_code, 2);
  CliResult size = RunCli({"run", "--no-clone=namespace", "--mount", "tmpfs:/t:size=zzz", "--",
                           "/bin/busybox", "true"});
  EXPECT_EQ(size.exit_code, 125);
  // The library's "action N" is the option as typed.
  EXPECT_EQ(size.err,
            "capspawn: INVALID_ARGS: mount tmpfs on /t (--mount tmpfs:/t:size=zzz): fsconfig /t "
            "(tmpfs: Bad value for 'size'): Invalid argument\n");
  CliResult host = RunCli({"run", "--hostname", std::string(65, 'h'), "--", "/bin/true"});
  EXPECT_EQ(host.exit_code, 125);
  EXPECT_EQ(host.err, "capspawn: INVALID_ARGS: --hostname " + std::string(65, 'h') +
                          " (SET_HOSTNAME): the hostname must have 1 to 64 bytes\n");
  // --init: the program is pid 2 under capspawn's init, its exit code passes through.
  CliResult init =
      RunCli({"run", "--init", "--", "/bin/busybox", "sh", "-c", "echo $$ $PPID; exit 5"});
  EXPECT_EQ(init.exit_code, 5) << init.err;
  EXPECT_EQ(init.out, "2 1\n");
  char tmpl[] = "/tmp/capspawn-cli-filter-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "12345", 5), 5);
  close(fd);
  CliResult filter = RunCli({"run", "--seccomp", tmpl, "--", "/bin/true"});
  unlink(tmpl);
  EXPECT_EQ(filter.exit_code, 125);
  EXPECT_NE(filter.err.find("holds 5 bytes, not a BPF program"), std::string::npos) << filter.err;
}

}  // namespace
