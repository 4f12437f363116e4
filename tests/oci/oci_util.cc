// SPDX-License-Identifier: Apache-2.0
// Test helpers (see oci_util.h).
#include "oci_util.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace oci_test {
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

Ran Exec(const std::vector<std::string>& argv, const std::string& input, int timeout_s,
         bool own_group) {
  char tmpl[] = "/tmp/oci-run-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string in = dir + "/in", out = dir + "/out", err = dir + "/err";
  WriteFile(in, input);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, input.empty() ? "/dev/null" : in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  Ran r;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (own_group) {
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  int rc = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.err = std::string("spawn ") + argv[0] + ": " + strerror(rc);
    fs::remove_all(dir);
    return r;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      status = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (status == -1) {
    r.code = -1;
  } else {
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  fs::remove_all(dir);
  return r;
}

TempDir::TempDir() {
  const char* base = getenv("OCI_TEST_TMP");
  std::string b = base ? base : "/tmp";
  std::string tmpl = b + "/oci-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  path_ = mkdtemp(buf.data());
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string OciBinary() { return CAPSPAWN_OCI_PATH; }
std::string ImageDir() { return OCI_IMAGE_DIR; }
bool IsRoot() { return geteuid() == 0; }

bool Have(const std::string& program) {
  const char* path = getenv("PATH");
  std::stringstream s(path ? path : "/usr/bin:/bin");
  std::string d;
  while (std::getline(s, d, ':')) {
    if (access((d + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::vector<std::string> Oci(const std::string& root, std::vector<std::string> rest) {
  std::vector<std::string> v = {OciBinary(), "--root", root};
  v.insert(v.end(), rest.begin(), rest.end());
  return v;
}

std::string MakeBundle(const std::string& dir, const std::vector<std::string>& args,
                       const std::function<void(json&)>& edit) {
  fs::create_directories(dir);
  fs::remove(dir + "/config.json");
  std::vector<std::string> spec = {OciBinary(), "spec", "--bundle", dir};
  if (!IsRoot()) spec.push_back("--rootless");
  Ran r = Exec(spec);
  EXPECT_EQ(r.code, 0) << r.err;
  json c = json::parse(ReadFile(dir + "/config.json"));
  c["root"]["path"] = ImageDir() + "/rootfs";
  c["process"]["args"] = args;
  if (edit) edit(c);
  WriteFile(dir + "/config.json", c.dump(2));
  return dir;
}

std::string UniqueId(const std::string& prefix) {
  static int n = 0;
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

void BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

void ReapOrphans() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

namespace {
std::string Cgroup2Mount() {
  std::ifstream f("/proc/self/mountinfo");
  std::string line;
  while (std::getline(f, line)) {
    size_t dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::stringstream s(line);
    std::string id, parent, dev, root, mnt;
    s >> id >> parent >> dev >> root >> mnt;
    return mnt;
  }
  return {};
}
}  // namespace

std::vector<std::string> CgroupsNamed(const std::string& name) {
  std::vector<std::string> out;
  std::string root = Cgroup2Mount();
  if (root.empty()) return out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_directory(ec) && it->path().filename() == name) out.push_back(it->path());
  }
  return out;
}

std::vector<pid_t> ProcessesWith(const std::string& marker) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string n = e.path().filename();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = ReadFile(e.path().string() + "/cmdline");
    for (char& c : cmd) {
      if (c == '\0') c = ' ';
    }
    if (cmd.find(marker) != std::string::npos && std::stoi(n) != getpid()) {
      out.push_back(std::stoi(n));
    }
  }
  return out;
}

std::vector<std::string> MountsBelow(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream f("/proc/self/mountinfo");
  std::string line;
  while (std::getline(f, line)) {
    std::stringstream s(line);
    std::string id, parent, dev, root, mnt;
    s >> id >> parent >> dev >> root >> mnt;
    if (mnt.compare(0, dir.size(), dir) == 0) out.push_back(mnt);
  }
  return out;
}

}  // namespace oci_test
