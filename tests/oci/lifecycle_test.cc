// SPDX-License-Identifier: Apache-2.0
// capspawn-oci's commands as containerd's shim drives them: create (stopped,
// --pid-file written before it returns), state, start, ps, pause/resume,
// kill (--all), delete (--force); the per-container lock; --log json on
// failure; hooks; the runc CVEs about leaked fds (CVE-2024-21626) and
// /proc/self/exe (CVE-2019-5736).
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "oci_util.h"

namespace oci_test {
namespace {

namespace fs = std::filesystem;

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    BecomeSubreaper();
    root_ = dir_.path() + "/state";
    id_ = UniqueId("life");
  }
  void TearDown() override {
    Exec(Oci(root_, {"delete", "--force", id_}));
    ReapOrphans();
  }
  Ran Cmd(std::vector<std::string> rest) { return Exec(Oci(root_, std::move(rest))); }
  std::string Status() {
    Ran r = Cmd({"state", id_});
    return r.code == 0 ? json::parse(r.out)["status"].get<std::string>() : "gone";
  }
  bool WaitStatus(const std::string& want) {
    for (int i = 0; i < 500; ++i) {
      ReapOrphans();
      if (Status() == want) return true;
      usleep(10000);
    }
    return false;
  }
  pid_t Create(const std::vector<std::string>& args,
               const std::function<void(json&)>& edit = nullptr) {
    std::string bundle = MakeBundle(dir_.path() + "/bundle", args, edit);
    Ran r = Cmd({"create", "--bundle", bundle, "--pid-file", dir_.path() + "/pid", id_});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string pid = ReadFile(dir_.path() + "/pid");  // written before create returned
    EXPECT_FALSE(pid.empty());
    return pid.empty() ? -1 : std::stoi(pid);
  }

  TempDir dir_;
  std::string root_, id_;
};

// The fields of /proc/PID/stat after the name: state, ppid, pgrp, session...
std::vector<std::string> StatFields(pid_t pid) {
  std::string s = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = s.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream in(s.substr(close + 1));
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

char ProcState(pid_t pid) {
  std::vector<std::string> f = StatFields(pid);
  return f.empty() ? '\0' : f[0][0];
}

TEST_F(Lifecycle, CreateStartPsPauseResumeKillDelete) {
  pid_t pid = Create({"sleep", "1000"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(Status(), "created");
  EXPECT_EQ(ProcState(pid), 'T');  // exists, has not run
  ASSERT_EQ(Cmd({"start", id_}).code, 0);
  EXPECT_EQ(Status(), "running");
  EXPECT_NE(Cmd({"start", id_}).code, 0);  // twice
  Ran ps = Cmd({"ps", "--format", "json", id_});
  ASSERT_EQ(ps.code, 0) << ps.err;
  EXPECT_EQ(json::parse(ps.out), json::array({pid}));
  Ran pause = Cmd({"pause", id_});
  if (pause.err.find("no cgroup of its own") != std::string::npos) {
    // Not root and no delegated cgroup: no job, so nothing to freeze; said so.
    EXPECT_FALSE(IsRoot());
    EXPECT_EQ(pause.code, 1);
    EXPECT_NE(pause.err.find("NOT_SUPPORTED"), std::string::npos) << pause.err;
    EXPECT_EQ(Status(), "running");
  } else {
    ASSERT_EQ(pause.code, 0) << pause.err;
    EXPECT_EQ(Status(), "paused");
    EXPECT_EQ(ProcState(pid), 'S');  // frozen by the cgroup, not stopped
    EXPECT_NE(Cmd({"pause", id_}).code, 0);
    ASSERT_EQ(Cmd({"resume", id_}).code, 0);
    EXPECT_EQ(Status(), "running");
  }
  Ran del = Cmd({"delete", id_});
  EXPECT_NE(del.code, 0);
  EXPECT_NE(del.err.find("not stopped: running"), std::string::npos) << del.err;
  ASSERT_EQ(Cmd({"kill", "--all", id_, "KILL"}).code, 0);
  EXPECT_TRUE(WaitStatus("stopped"));
  EXPECT_EQ(Cmd({"delete", id_}).code, 0);
  EXPECT_EQ(Status(), "gone");
  EXPECT_FALSE(fs::exists(root_ + "/" + id_));
  EXPECT_TRUE(CgroupsNamed(id_).empty());
  EXPECT_TRUE(ProcessesWith("sleep 1000").empty() || kill(pid, 0) != 0);
}

// A job-control shell runs `create` in a process group of its own. Had the
// stopped process stayed in that group, the group would be orphaned when
// `create` exits unless the new parent is of the same session (as this test
// is), and the kernel would SIGHUP it: it leads a session of its own
// instead, as runc's init does. (Without NEW_SESSION, only the session and
// group checks below fail here.)
TEST_F(Lifecycle, CreateFromAProcessGroupOfItsOwnLeavesTheProcessStoppedInItsOwnSession) {
  std::string bundle = MakeBundle(dir_.path() + "/bundle", {"sleep", "1000"});
  Ran r = Exec(Oci(root_, {"create", "--bundle", bundle, "--pid-file", dir_.path() + "/pid", id_}),
               "", 60, /*own_group=*/true);
  ASSERT_EQ(r.code, 0) << r.err;
  const pid_t pid = std::stoi(ReadFile(dir_.path() + "/pid"));
  usleep(100'000);  // a SIGHUP would have come as `create` exited
  ReapOrphans();
  EXPECT_EQ(ProcState(pid), 'T');
  EXPECT_EQ(Status(), "created");
  std::vector<std::string> stat = StatFields(pid);
  ASSERT_GE(stat.size(), 4u);
  EXPECT_EQ(stat[3], std::to_string(pid));  // session
  EXPECT_EQ(stat[2], std::to_string(pid));  // process group
  ASSERT_EQ(Cmd({"start", id_}).code, 0);
  EXPECT_EQ(Status(), "running");
  ASSERT_EQ(Cmd({"kill", id_, "KILL"}).code, 0);
  EXPECT_TRUE(WaitStatus("stopped"));
}

TEST_F(Lifecycle, KillCreatedContainerWithTerm) {
  pid_t pid = Create({"sleep", "1000"});
  ASSERT_EQ(Cmd({"kill", id_, "TERM"}).code, 0);
  EXPECT_TRUE(WaitStatus("stopped"));
  ReapOrphans();  // "stopped" includes a zombie of ours
  EXPECT_NE(kill(pid, 0), 0);
}

TEST_F(Lifecycle, DeleteForceLeavesNothing) {
  pid_t pid = Create({"sleep", "1000"});
  ASSERT_EQ(Cmd({"start", id_}).code, 0);
  Ran r = Cmd({"delete", "--force", id_});
  EXPECT_EQ(r.code, 0) << r.err;
  ReapOrphans();
  EXPECT_NE(kill(pid, 0), 0);
  EXPECT_FALSE(fs::exists(root_ + "/" + id_));
  EXPECT_TRUE(CgroupsNamed(id_).empty());
  EXPECT_EQ(Cmd({"delete", "--force", id_}).code, 0);  // forced: absent is fine
  EXPECT_NE(Cmd({"delete", id_}).code, 0);
}

TEST_F(Lifecycle, DeleteForceRemovesWhatADeadCreateLeft) {
  // A create killed before it wrote state.json leaves only its directory.
  fs::create_directories(root_ + "/" + id_);
  Ran plain = Cmd({"delete", id_});
  EXPECT_EQ(plain.code, 1);
  EXPECT_NE(plain.err.find("still being created"), std::string::npos) << plain.err;
  EXPECT_EQ(Cmd({"delete", "--force", id_}).code, 0);
  EXPECT_FALSE(fs::exists(root_ + "/" + id_));
}

TEST_F(Lifecycle, CommandsWaitForTheContainersLock) {
  Create({"sleep", "1000"});
  int fd = open((root_ + "/" + id_).c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  Ran state;
  std::atomic<bool> done{false};
  std::thread t([&] {
    state = Cmd({"state", id_});
    done = true;
  });
  usleep(300000);
  EXPECT_FALSE(done) << "state did not wait for the lock";
  flock(fd, LOCK_UN);
  close(fd);
  t.join();
  EXPECT_EQ(state.code, 0);
}

TEST_F(Lifecycle, ListAndIdsInUse) {
  Create({"sleep", "1000"});
  Ran again = Cmd({"create", "--bundle", dir_.path() + "/bundle", id_});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("ALREADY_EXISTS"), std::string::npos) << again.err;
  EXPECT_EQ(Status(), "created");  // the first is intact
  Ran l = Cmd({"list", "--format", "json"});
  ASSERT_EQ(l.code, 0);
  json all = json::parse(l.out);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["id"], id_);
  EXPECT_EQ(all[0]["status"], "created");
}

TEST_F(Lifecycle, FailureIsAJsonLogLine) {
  MakeBundle(dir_.path() + "/bundle", {"sh"},
             [](json& c) { c["process"]["selinuxLabel"] = "system_u:system_r:x"; });
  std::string log = dir_.path() + "/log.json";
  Ran r = Exec({OciBinary(), "--root", root_, "--log", log, "--log-format", "json", "create",
                "--bundle", dir_.path() + "/bundle", id_});
  EXPECT_EQ(r.code, 1);
  std::ifstream f(log);
  std::string line, last_error;
  while (std::getline(f, line)) {
    json j = json::parse(line);  // every line is JSON
    EXPECT_TRUE(j.contains("time"));
    if (j["level"] == "error") last_error = j["msg"];
  }
  EXPECT_NE(last_error.find("process.selinuxLabel"), std::string::npos) << last_error;
}

TEST_F(Lifecycle, GlobalAndCommandRefusals) {
  Ran s = Exec({OciBinary(), "--systemd-cgroup", "--root", root_, "list"});
  EXPECT_EQ(s.code, 1);
  EXPECT_NE(s.err.find("NOT_SUPPORTED: --systemd-cgroup"), std::string::npos) << s.err;
  Create({"sleep", "1000"});
  Ran e = Cmd({"exec", "--apparmor", "unconfined", id_, "true"});
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("NOT_SUPPORTED: exec: --apparmor is not supported"), std::string::npos)
      << e.err;
  EXPECT_EQ(Exec({OciBinary(), "kill", "--nope"}).code, 2);
  EXPECT_EQ(Exec({OciBinary(), "nope"}).code, 2);
  Ran f = Exec({OciBinary(), "features"});
  ASSERT_EQ(f.code, 0);
  EXPECT_EQ(json::parse(f.out)["linux"]["cgroup"]["systemd"], false);
  Ran spec = Exec({OciBinary(), "spec", "--bundle", dir_.path() + "/bundle"});
  EXPECT_NE(spec.code, 0);  // config.json exists: never overwritten
  EXPECT_NE(spec.err.find("already exists"), std::string::npos);
}

TEST_F(Lifecycle, Hooks) {
  std::string out = dir_.path() + "/hook-out";
  std::string script = dir_.path() + "/hook.sh";
  WriteFile(script, "#!/bin/sh\necho \"$1 $(cat)\" >> " + out + "\n");
  chmod(script.c_str(), 0755);
  auto hook = [&](const char* kind) {
    return json::array({{{"path", script}, {"args", {"hook.sh", kind}}, {"timeout", 10}}});
  };
  Create({"sleep", "1000"}, [&](json& c) {
    c["hooks"]["createRuntime"] = hook("createRuntime");
    c["hooks"]["poststart"] = hook("poststart");
    c["hooks"]["poststop"] = hook("poststop");
  });
  ASSERT_EQ(Cmd({"start", id_}).code, 0);
  ASSERT_EQ(Cmd({"delete", "--force", id_}).code, 0);
  std::ifstream f(out);
  std::string line;
  std::vector<std::string> kinds;
  while (std::getline(f, line)) {
    std::string kind = line.substr(0, line.find(' '));
    json state = json::parse(line.substr(line.find(' ') + 1));  // the state on stdin
    EXPECT_EQ(state["id"], id_);
    kinds.push_back(kind + ":" + state["status"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"createRuntime:creating", "poststart:running",
                                             "poststop:stopped"}));
}

TEST_F(Lifecycle, FailingHookUndoesCreate) {
  MakeBundle(dir_.path() + "/bundle", {"sleep", "1000", "marker-9a2c"}, [](json& c) {
    c["hooks"]["createRuntime"] = {{{"path", "/bin/false"}}};
  });
  Ran r = Cmd({"create", "--bundle", dir_.path() + "/bundle", id_});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("hooks.createRuntime[0] /bin/false: exited with status 1"),
            std::string::npos)
      << r.err;
  ReapOrphans();
  EXPECT_TRUE(ProcessesWith("marker-9a2c").empty());
  EXPECT_FALSE(fs::exists(root_ + "/" + id_));
  EXPECT_TRUE(CgroupsNamed(id_).empty());
}

// process.terminal with --console-socket: the master arrives over SCM_RIGHTS
// (with the terminal's name, as runc sends it), the process's fds 0-2 are the
// slave, and what it writes comes out of the master.
TEST_F(Lifecycle, ConsoleSocket) {
  std::string path = dir_.path() + "/console.sock";
  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(server, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(server, 1), 0);
  std::string bundle = MakeBundle(
      dir_.path() + "/bundle",
      {"sh", "-c", "test -t 0 && test -t 1 && echo isatty; read x; echo got $x"}, [](json& c) {
        c["process"]["terminal"] = true;
        c["process"]["consoleSize"] = {{"height", 30}, {"width", 99}};
      });
  Ran missing = Cmd({"create", "--bundle", bundle, id_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("--console-socket is required"), std::string::npos) << missing.err;
  Ran c = Cmd({"create", "--bundle", bundle, "--console-socket", path, id_});
  ASSERT_EQ(c.code, 0) << c.err;
  int conn = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  char name[256] = {};
  iovec iov{name, sizeof name - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_GT(recvmsg(conn, &msg, MSG_CMSG_CLOEXEC), 0);
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(cm, nullptr);
  ASSERT_EQ(cm->cmsg_type, SCM_RIGHTS);
  int master;
  memcpy(&master, CMSG_DATA(cm), sizeof master);
  EXPECT_EQ(std::string(name).rfind("/dev/pts/", 0), 0u) << name;
  winsize ws{};
  ASSERT_EQ(ioctl(master, TIOCGWINSZ, &ws), 0);
  EXPECT_EQ(ws.ws_row, 30);
  EXPECT_EQ(ws.ws_col, 99);
  ASSERT_EQ(Cmd({"start", id_}).code, 0);
  ASSERT_EQ(write(master, "hello\n", 6), 6);
  std::string out;
  for (int i = 0; i < 200 && out.find("got hello") == std::string::npos; ++i) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      char buf[256];
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_NE(out.find("isatty"), std::string::npos) << out;
  EXPECT_NE(out.find("got hello"), std::string::npos) << out;
  close(master);
  close(conn);
  close(server);
}

// CVE-2024-21626: runc leaked an fd of the host's cgroup directory into the
// container, and process.cwd "/proc/self/fd/N" reached the host through it.
// capspawn's container gets exactly fds 0-2 (the library closes the rest),
// and a working directory other than "/" is refused outright.
TEST_F(Lifecycle, Cve2024_21626NoLeakedFdsAndNoCwdEscape) {
  int leaked = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);  // inheritable, as runc's was
  pid_t pid = Create({"sleep", "1000"});
  if (leaked >= 0) close(leaked);
  std::vector<std::string> fds;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    fds.push_back(e.path().filename());
  }
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd"), "/");
  // From inside: nothing but 0-2 (and ls's own directory fd).
  MakeBundle(dir_.path() + "/b2", {"sh", "-c", "ls -l /proc/self/fd; readlink /proc/self/cwd"});
  Ran r = Exec(Oci(root_, {"run", "--bundle", dir_.path() + "/b2", UniqueId("fd")}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("cgroup"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" 4 ->"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1), "/\n");
  // The working directory is a path the library's child resolves in the
  // container's final view: no fd it holds while it sets up (here with a bind
  // of a host directory among the mounts) is a way out.
  for (int fd = 3; fd <= 15; ++fd) {
    MakeBundle(dir_.path() + "/b3", {"sh", "-c", "pwd"}, [&](json& c) {
      c["process"]["cwd"] = "/proc/self/fd/" + std::to_string(fd);
      c["mounts"].push_back({{"destination", "/tmp"},
                             {"type", "bind"},
                             {"source", "/etc"},
                             {"options", {"rbind", "ro"}}});
    });
    Ran cwd = Exec(Oci(root_, {"run", "--bundle", dir_.path() + "/b3", UniqueId("cwd")}));
    EXPECT_EQ(cwd.code, 1) << fd << ": " << cwd.out;
    EXPECT_NE(cwd.err.find("is process.cwd]"), std::string::npos) << cwd.err;
  }
}

// CVE-2019-5736: a container overwrote runc's binary through /proc/self/exe
// of a runc process that had entered it. No capspawn-oci process ever enters
// a container (the library creates the process, which execs the rootfs's
// program), so no /proc/PID/exe inside leads to it, and the binary is intact.
TEST_F(Lifecycle, Cve2019_5736NoRuntimeBinaryInside) {
  std::string before = ReadFile(OciBinary());
  pid_t pid = Create({"sleep", "1000"});
  struct stat exe, busybox;
  ASSERT_EQ(stat(("/proc/" + std::to_string(pid) + "/exe").c_str(), &exe), 0);
  ASSERT_EQ(stat((ImageDir() + "/rootfs/bin/busybox").c_str(), &busybox), 0);
  EXPECT_EQ(exe.st_ino, busybox.st_ino);  // the created process is already the rootfs's program
  EXPECT_EQ(exe.st_dev, busybox.st_dev);
  MakeBundle(dir_.path() + "/b2", {"sh", "-c",
                                   "for p in /proc/[0-9]*; do readlink $p/exe; done; "
                                   "echo x >> /proc/self/exe 2>/dev/null && echo WROTE; "
                                   "echo x >> /proc/1/exe 2>/dev/null && echo WROTE1; echo done"});
  Ran r = Exec(Oci(root_, {"run", "--bundle", dir_.path() + "/b2", UniqueId("exe")}));
  EXPECT_EQ(r.code, 0) << r.err;
  // No process inside is the runtime (its exe is the rootfs's busybox, whose
  // host path may hold any word, "capspawn" too: compare with the binary's).
  EXPECT_EQ(r.out.find(OciBinary()), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("capspawn-oci"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("WROTE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done"), std::string::npos) << r.out;
  EXPECT_EQ(ReadFile(OciBinary()), before);
}

}  // namespace
}  // namespace oci_test
