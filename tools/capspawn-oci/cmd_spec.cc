// capspawn-oci spec [--bundle DIR] [--rootless]: writes a default config.json
// that this build runs as it is (refuses to overwrite one).
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "caps.h"
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
  uint32_t uid = rootless ? geteuid() : 0, gid = rootless ? getegid() : 0;
  json namespaces = json::array({{{"type", "pid"}}, {{"type", "mount"}}});
  // The sets the library gives (plan.cc, CheckCapabilities): the caller's
  // bounding set; permitted and effective equal to it as root, empty otherwise.
  json bounding = json::array();
  for (int cap : CallerBoundingSet()) bounding.push_back(CapabilityName(cap));
  json granted = rootless ? json::array() : bounding;
  json j = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", uid}, {"gid", gid}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", bounding}, {"effective", granted}, {"permitted", granted}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"mounts",
       {{{"destination", "/proc"},
         {"type", "proc"},
         {"source", "proc"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "mode=755"}}}}},
      {"linux", {{"namespaces", namespaces}}},
  };
  if (rootless) {
    j["linux"]["namespaces"].push_back({{"type", "user"}});
    j["linux"]["uidMappings"] = {{{"containerID", uid}, {"hostID", uid}, {"size", 1}}};
    j["linux"]["gidMappings"] = {{{"containerID", gid}, {"hostID", gid}, {"size", 1}}};
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
