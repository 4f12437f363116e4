// SPDX-License-Identifier: Apache-2.0
// Creating the container's process with capspawn_create_without_starting.
#include "launch.h"

#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <capspawn/start.h>

#include "actions.h"
#include "state.h"

namespace capspawn::oci {
namespace {

// The one attribute the library has no action for: a fresh anonymous session
// keyring, as runc gives each container. Joined by this process, which exits
// soon after, so that the container inherits it. Hosts whose seccomp forbids
// keyctl are tolerated, as runc tolerates them.
Status JoinNewKeyring() {
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0 && errno != ENOSYS &&
      errno != EPERM && errno != EACCES) {
    return Error::FromErrno(errno, "keyctl(KEYCTL_JOIN_SESSION_KEYRING)");
  }
  return {};
}

}  // namespace

Result<Launched> LaunchStopped(LaunchSpec& spec, int job, const int stdio[3], bool new_keyring) {
  if (new_keyring) {
    if (Status st = JoinNewKeyring(); !st.ok()) return st.error();
  }
  ActionList list;
  BuildActions(spec, stdio, &list);
  std::vector<const char*> argv, envp;
  for (const std::string& s : spec.argv) argv.push_back(s.c_str());
  argv.push_back(nullptr);
  for (const std::string& s : spec.env) envp.push_back(s.c_str());
  envp.push_back(nullptr);
  capspawn_start_data_t data{};
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = {};
  capspawn_status_t st = capspawn_create_without_starting(
      job, 0, nullptr, spec.executable.release(), argv.data(), envp.data(), list.actions.size(),
      list.actions.data(), &data, err);
  if (st != CAPSPAWN_OK) {
    // The library names the failing action by its index: say which config
    // field that action came from.
    return Error(st, "create the container's process: " + Explain(err, list));
  }
  UniqueFd memory(data.root_vmar);  // not needed: the process is only started
  Launched out;
  out.process.reset(data.process);
  out.pid = data.thread;
  out.start_time = ProcessStartTime(out.pid);
  if (out.start_time == 0) {
    return Error(CAPSPAWN_ERR_INTERNAL,
                 "the container's process " + std::to_string(out.pid) + " vanished after creation");
  }
  return out;
}

}  // namespace capspawn::oci
