// SPDX-License-Identifier: Apache-2.0
// capspawn-oci features: what this build honours, in the runtime spec's
// features.md format. It lists exactly what plan.cc accepts.
#include <cstdio>

#include <nlohmann/json.hpp>

#include <capspawn/container.h>

#include "commands.h"

namespace capspawn::oci {

int CmdFeatures(const Globals& g, int argc, char** argv) {
  (void)g;
  (void)argv;
  if (argc != 1) return UsageError("features", "takes no argument");
  nlohmann::json caps = nlohmann::json::array();
  for (int c = 0; c <= capspawn_capability_last(); ++c) {
    if (const char* name = capspawn_capability_name(c)) caps.push_back(name);
  }
  nlohmann::json j = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.1.0"},
      {"hooks", {"prestart", "createRuntime", "poststart", "poststop"}},
      // Flags (plan_mounts.cc); any other option of a file system mount is
      // handed to the file system (size=, mode=, newinstance, ptmxmode=...).
      {"mountOptions",
       {"ro", "rw", "bind", "rbind", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "relatime",
        "noatime", "strictatime", "nodiratime", "atime", "diratime", "defaults", "private",
        "rprivate"}},
      {"linux",
       {{"namespaces", {"mount", "pid", "network", "ipc", "uts", "cgroup", "user"}},
        {"capabilities", caps},
        {"cgroup", {{"v1", false}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
            "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}},
          {"operators",
           {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
            "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations", {{"org.capspawn.runtime", "capspawn-oci"}}},
  };
  printf("%s\n", j.dump(4).c_str());
  return 0;
}

}  // namespace capspawn::oci
