// capspawn-oci features: what this build honours, in the runtime spec's
// features.md format. It lists exactly what plan.cc accepts.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.h"

namespace capspawn::oci {

int CmdFeatures(const Globals& g, int argc, char** argv) {
  (void)g;
  (void)argv;
  if (argc != 1) return UsageError("features", "takes no argument");
  nlohmann::json j = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.1.0"},
      {"hooks", {"prestart", "createRuntime", "poststart", "poststop"}},
      {"mountOptions",
       {"ro", "rw", "rbind", "nosuid", "nodev", "noexec", "mode=755", "private", "rprivate"}},
      {"linux",
       {{"namespaces", {"mount", "pid", "user"}},
        {"capabilities", nlohmann::json::array()},
        {"cgroup", {{"v1", false}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp", {{"enabled", false}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations", {{"org.capspawn.runtime", "capspawn-oci"}}},
  };
  printf("%s\n", j.dump(4).c_str());
  return 0;
}

}  // namespace capspawn::oci
