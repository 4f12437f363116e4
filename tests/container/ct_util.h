// SPDX-License-Identifier: Apache-2.0
// Shared by the container tests: the probe run through capspawn_spawn_etc,
// its report parsed, a busybox root directory, leak counts.
#ifndef CAPSPAWN_TESTS_CONTAINER_CT_UTIL_H_
#define CAPSPAWN_TESTS_CONTAINER_CT_UTIL_H_

#include <capspawn/spawn.h>
#include <capspawn/start.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace ct {

inline constexpr const char* kProbe = CAPSPAWN_TEST_CT_PROBE;
inline constexpr uint32_t kAll = CAPSPAWN_CLONE_ALL;
inline constexpr uint32_t kPrivate = CAPSPAWN_CLONE_ALL & ~CAPSPAWN_CLONE_NAMESPACE;

inline bool AsRoot() { return geteuid() == 0; }

struct Report {
  capspawn_status_t code = CAPSPAWN_OK;
  std::string error;  // the spawn's message
  int status = -1000;
  std::map<std::string, std::string> kv;  // "read:/etc/x" for the per-path lines
  std::string out;
  std::string operator[](const std::string& k) const {
    auto it = kv.find(k);
    return it == kv.end() ? "<missing " + k + ">" : it->second;
  }
};

inline std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

inline void Parse(Report* r) {
  std::istringstream in(r->out);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "read" || key == "write" || key == "stat" || key == "lstat" || key == "mount") {
      size_t colon = value.find(':');
      key += ":" + value.substr(0, colon);
      value = colon == std::string::npos ? "" : value.substr(colon + 1);
    }
    r->kv[key] = value;
  }
}

inline capspawn_action_t Act(uint32_t action) {
  capspawn_action_t a{};
  a.action = action;
  return a;
}
inline capspawn_action_t NewNs(uint32_t flags) {
  capspawn_action_t a = Act(CAPSPAWN_ACTION_NEW_NAMESPACES);
  a.new_ns.flags = flags;
  return a;
}
inline capspawn_action_t PathAct(uint32_t action, const char* path) {
  capspawn_action_t a = Act(action);
  a.dir.prefix = path;
  return a;
}
inline capspawn_action_t Mount(const capspawn_mount_t* m) {
  capspawn_action_t a = Act(CAPSPAWN_ACTION_ADD_MOUNT);
  a.mount.spec = m;
  return a;
}
inline capspawn_action_t Root(int fd, bool read_only = false) {
  capspawn_action_t a =
      Act(read_only ? CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY : CAPSPAWN_ACTION_ADD_NS_ENTRY);
  a.ns.prefix = "/";
  a.ns.handle = fd;
  return a;
}
inline capspawn_action_t Map(uint32_t action, uint32_t inside, uint32_t outside, uint32_t count) {
  capspawn_action_t a = Act(action);
  a.idmap.inside = inside;
  a.idmap.outside = outside;
  a.idmap.count = count;
  return a;
}
inline capspawn_action_t Number(uint32_t action, int32_t v) {
  capspawn_action_t a = Act(action);
  a.number.value = v;
  return a;
}

// Spawns the probe with the actions (stdout captured, stderr shared) and waits.
inline Report Spawn(uint32_t flags, std::vector<capspawn_action_t> actions,
                    std::vector<std::string> args = {}, const char* program = kProbe) {
  Report r;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return r;
  int rd = p[0];
  capspawn_action_t out = Act(CAPSPAWN_ACTION_TRANSFER_FD);
  out.fd.local_fd = p[1];
  out.fd.target_fd = 1;
  actions.push_back(out);
  capspawn_action_t err = Act(CAPSPAWN_ACTION_CLONE_FD);
  err.fd.local_fd = 2;
  err.fd.target_fd = 2;
  actions.push_back(err);
  std::vector<const char*> argv{program};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const char* envp[] = {nullptr};
  char msg[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  int process = -1;
  r.code = capspawn_spawn_etc(-1, flags, program, argv.data(), envp, actions.size(), actions.data(),
                              &process, msg);
  if (r.code != CAPSPAWN_OK) {
    r.error = msg;
    close(rd);
    return r;
  }
  r.out = Drain(rd);
  close(rd);
  int64_t rc = 0;
  r.status = capspawn_process_wait(process, -1, &rc) == CAPSPAWN_OK ? static_cast<int>(rc) : -2000;
  close(process);
  Parse(&r);
  return r;
}

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/capspawn-ct-XXXXXX";
    path_ = mkdtemp(t) ? t : "";
    chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string& path() const { return path_; }
  std::string Path(const std::string& n) const { return path_ + "/" + n; }
  void MakeDir(const std::string& rel) const {
    std::system(("mkdir -p '" + Path(rel) + "'").c_str());
  }
  void Write(const std::string& rel, const std::string& text) const {
    std::ofstream(Path(rel)) << text;
  }

 private:
  std::string path_;
};

// A root directory: busybox and a few directories, as an image would have.
class Rootfs : public TempDir {
 public:
  Rootfs() {
    MakeDir("bin");
    MakeDir("etc");
    MakeDir("proc");
    MakeDir("dev");
    std::system(("cp /bin/busybox '" + Path("bin/busybox") + "'").c_str());
    Write("etc/hostname", "image\n");
  }
};

inline int OpenDir(const std::string& p) {
  return open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

inline int CountFds() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd) n += fcntl(fd, F_GETFD) >= 0;
  return n;
}
inline int CountMounts() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}
inline bool HasChildren() {
  siginfo_t info{};
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

inline std::string Hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace ct

#endif  // CAPSPAWN_TESTS_CONTAINER_CT_UTIL_H_
