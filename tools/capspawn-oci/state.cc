// SPDX-License-Identifier: Apache-2.0
// The state store: directories under --root, flock, state.json.
#include "state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <capspawn/job.h>

#include "util.h"

namespace capspawn::oci {
namespace {

using json = nlohmann::json;
constexpr char kStateFile[] = "state.json";

json HooksJson(const std::vector<HookSpec>& hooks) {
  json a = json::array();
  for (const HookSpec& h : hooks) {
    a.push_back({{"path", h.path}, {"args", h.args}, {"env", h.env}, {"timeout", h.timeout}});
  }
  return a;
}

std::vector<HookSpec> HooksFrom(const json& a) {
  std::vector<HookSpec> out;
  for (const json& h : a) {
    out.push_back({h.at("path").get<std::string>(), h.at("args").get<std::vector<std::string>>(),
                   h.at("env").get<std::vector<std::string>>(), h.at("timeout").get<int>()});
  }
  return out;
}

// The state character and start time of /proc/PID/stat ('\0', 0 when gone).
std::pair<char, uint64_t> ProcStat(pid_t pid) {
  std::string text;
  if (!ReadSmallFile("/proc/" + std::to_string(pid) + "/stat", &text).ok()) return {'\0', 0};
  // The command name may hold spaces and ')': fields resume after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return {'\0', 0};
  const char* p = text.c_str() + close + 2;  // field 3, the state
  char state = *p;
  // Field 22 is the start time: 19 more fields after the state.
  for (int field = 3; field < 22 && *p; ++field) {
    p = strchr(p, ' ');
    if (p == nullptr) return {state, 0};
    ++p;
  }
  return {state, strtoull(p, nullptr, 10)};
}

}  // namespace

const char* StatusName(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating:
      return "creating";
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kPaused:
      return "paused";
    case ContainerStatus::kStopped:
      return "stopped";
  }
  return "unknown";
}

Status ValidId(const std::string& id) {
  if (id.empty()) return Error(CAPSPAWN_ERR_INVALID_ARGS, "the container id is empty");
  if (id.size() > 255 || id == "." || id == ".." ||
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+.-") !=
          std::string::npos) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "invalid container id '" + id +
                     "': use letters, digits, '_', '+', '.' and '-' (at most 255 bytes)");
  }
  return {};
}

Result<Store> Store::Open(const std::string& root) {
  if (root.empty()) return Error(CAPSPAWN_ERR_INVALID_ARGS, "--root is empty");
  Status made = MakeDirs(root, 0700);
  if (!made.ok()) return made.error().Context("--root " + root);
  Store s;
  s.root_ = root;
  s.fd_.reset(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!s.fd_) return Error::FromErrno(errno, "open --root " + root);
  return s;
}

Result<Locked> Store::Create(const std::string& id) const {
  if (Status v = ValidId(id); !v.ok()) return v.error();
  if (mkdirat(fd_.get(), id.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return Error(CAPSPAWN_ERR_ALREADY_EXISTS, "container '" + id + "' already exists");
    }
    return Error::FromErrno(errno, "mkdir " + root_ + "/" + id);
  }
  UniqueFd dir(openat(fd_.get(), id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir || flock(dir.get(), LOCK_EX) != 0) {
    int err = errno;
    unlinkat(fd_.get(), id.c_str(), AT_REMOVEDIR);
    return Error::FromErrno(err, "lock " + root_ + "/" + id);
  }
  return Locked(id, root_ + "/" + id, std::move(dir));
}

Result<Locked> Store::Lock(const std::string& id) const {
  if (Status v = ValidId(id); !v.ok()) return v.error();
  UniqueFd dir(openat(fd_.get(), id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) {
      return Error(CAPSPAWN_ERR_NOT_FOUND, "container '" + id + "' does not exist");
    }
    return Error::FromErrno(errno, "open " + root_ + "/" + id);
  }
  if (flock(dir.get(), LOCK_EX) != 0) return Error::FromErrno(errno, "flock " + root_ + "/" + id);
  // A delete that held the lock before us removed the directory.
  struct stat st;
  if (fstat(dir.get(), &st) != 0 || st.st_nlink == 0) {
    return Error(CAPSPAWN_ERR_NOT_FOUND, "container '" + id + "' does not exist");
  }
  return Locked(id, root_ + "/" + id, std::move(dir));
}

Result<std::vector<std::string>> Store::List() const {
  UniqueFd copy(openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* d = copy ? fdopendir(copy.release()) : nullptr;
  if (d == nullptr) return Error::FromErrno(errno, "list " + root_);
  std::vector<std::string> ids;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && ValidId(name).ok()) ids.push_back(name);
  }
  closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<State> Locked::Read() const {
  std::string text;
  Status st = ReadSmallFileAt(dir_.get(), kStateFile, &text);
  if (!st.ok()) {
    if (st.status() == CAPSPAWN_ERR_NOT_FOUND) {
      return Error(CAPSPAWN_ERR_NOT_FOUND, "container '" + id_ + "' is still being created");
    }
    return st.error();
  }
  try {
    json j = json::parse(text);
    State s;
    s.oci_version = j.at("ociVersion").get<std::string>();
    s.id = j.at("id").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.start_time = j.at("startTime").get<uint64_t>();
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.at("rootfs").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.owner = j.at("owner").get<uint32_t>();
    s.started = j.at("started").get<bool>();
    s.job = j.at("job").get<std::string>();
    s.made_cgroups = j.at("madeCgroups").get<std::vector<std::string>>();
    s.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    s.poststart = HooksFrom(j.at("poststart"));
    s.poststop = HooksFrom(j.at("poststop"));
    return s;
  } catch (const json::exception& e) {
    return Error(CAPSPAWN_ERR_IO_INVALID, path_ + "/state.json is damaged: " + e.what());
  }
}

Status Locked::Write(const State& s) const {
  // The version of the runtime spec this state document follows (not the config's).
  json j = {{"ociVersion", "1.0.2"},
            {"id", s.id},
            {"pid", s.pid},
            {"startTime", s.start_time},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", s.owner},
            {"started", s.started},
            {"job", s.job},
            {"madeCgroups", s.made_cgroups},
            {"annotations", s.annotations},
            {"poststart", HooksJson(s.poststart)},
            {"poststop", HooksJson(s.poststop)}};
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return WriteFileAtomically(dir_.get(), kStateFile, text, path_);
}

Status Locked::Remove() {
  unlinkat(dir_.get(), kStateFile, 0);
  unlinkat(dir_.get(), "state.json.tmp", 0);
  if (rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "rmdir " + path_);
  }
  return {};
}

uint64_t ProcessStartTime(pid_t pid) { return ProcStat(pid).second; }

Result<UniqueFd> OpenInit(const State& s) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, s.pid, 0)));
  if (!pidfd) {
    if (errno == ESRCH) return Error(CAPSPAWN_ERR_BAD_STATE, "container '" + s.id + "' is stopped");
    return Error::FromErrno(errno, "pidfd_open " + std::to_string(s.pid));
  }
  // Checked after opening: the pidfd now pins this process, whatever comes next.
  auto [state, start] = ProcStat(s.pid);
  if (start != s.start_time || state == 'Z' || state == 'X' || state == '\0') {
    return Error(CAPSPAWN_ERR_BAD_STATE, "container '" + s.id + "' is stopped");
  }
  return pidfd;
}

ContainerStatus CurrentStatus(const State& s) {
  auto [state, start] = ProcStat(s.pid);
  if (start != s.start_time || state == 'Z' || state == 'X' || state == '\0') {
    return ContainerStatus::kStopped;
  }
  if (!s.job.empty()) {
    Result<capspawn::Job> job = capspawn::Job::Open(s.job);
    if (job.ok()) {
      Result<capspawn::JobInfo> info = job->Info();
      if (info.ok() && info->frozen) return ContainerStatus::kPaused;
    }
  }
  if (!s.started && (state == 'T' || state == 't')) return ContainerStatus::kCreated;
  return ContainerStatus::kRunning;
}

std::string StateJson(const State& s, ContainerStatus status, int indent) {
  // The version of the runtime spec this state document follows (not the config's).
  json j = {{"ociVersion", "1.0.2"},
            {"id", s.id},
            {"pid", status == ContainerStatus::kStopped ? 0 : s.pid},
            {"status", StatusName(status)},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", s.owner == 0 ? std::string() : std::to_string(s.owner)}};
  j["annotations"] = s.annotations;
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace capspawn::oci
