// SPDX-License-Identifier: Apache-2.0
// capspawn-oci spec [--bundle DIR] [--rootless]: writes a default config.json
// that this build runs as it is (refuses to overwrite one).
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "util.h"

namespace capspawn::oci {

int CmdSpec(const Globals& g, int argc, char** argv) {
  static const option kOptions[] = {{"bundle", required_argument, nullptr, 'b'},
                                    {"rootless", no_argument, nullptr, 'r'},
                                    {nullptr, 0, nullptr, 0}};
  std::string bundle = ".";
  bool rootless = g.rootless;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+b:", kOptions, nullptr)) != -1) {
    if (c == 'b') {
      bundle = optarg;
    } else if (c == 'r') {
      rootless = true;
    } else {
      return UsageError("spec", std::string("bad option '") + argv[optind - 1] + "'");
    }
  }
  if (optind != argc) return UsageError("spec", "takes no argument");
  using json = nlohmann::json;
  // runc's default (`runc spec`, `runc spec --rootless`), which the library
  // now honours field by field: container root (mapped to the caller when
  // rootless), three capabilities, the usual /dev, /sys and masked paths.
  json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json mounts = {
      {{"destination", "/proc"},
       {"type", "proc"},
       {"source", "proc"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options",
        rootless ? json{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
                 : json{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/dev/mqueue"},
       {"type", "mqueue"},
       {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      // A sysfs needs a network namespace of the user namespace's own: rootless
      // binds the host's (as runc's rootless spec).
      rootless ? json{{"destination", "/sys"},
                      {"type", "none"},
                      {"source", "/sys"},
                      {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}}
               : json{{"destination", "/sys"},
                      {"type", "sysfs"},
                      {"source", "sysfs"},
                      {"options", {"nosuid", "noexec", "nodev", "ro"}}}};
  json namespaces =
      json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  if (!rootless) namespaces.push_back({{"type", "network"}});
  json j = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "capspawn"},
      {"mounts", mounts},
      {"linux",
       {{"namespaces", namespaces},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  if (rootless) {
    j["linux"]["namespaces"].push_back({{"type", "user"}});
    j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", geteuid()}, {"size", 1}}};
    j["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", getegid()}, {"size", 1}}};
  }
  std::string path = bundle + "/config.json";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Fail(Error(CAPSPAWN_ERR_ALREADY_EXISTS, "spec: " + path + " already exists"));
    }
    return Fail(Error::FromErrno(errno, "spec: create " + path));
  }
  std::string text = j.dump(4) + "\n";
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!ok) return Fail(Error::FromErrno(errno, "spec: write " + path));
  return 0;
}

}  // namespace capspawn::oci
