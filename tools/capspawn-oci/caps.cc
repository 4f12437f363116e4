// Reading the caller's capability sets.
#include "caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"

namespace capspawn::oci {

std::vector<int> CallerBoundingSet() {
  std::vector<int> out;
  for (int cap = 0; cap < 64; ++cap) {
    int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (r < 0) break;  // past the kernel's last capability
    // Only the capabilities the config can name (the kernel may know more).
    if (r == 1 && !CapabilityName(cap).empty()) out.push_back(cap);
  }
  return out;
}

bool CallerHasInheritable() {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  return d[0].inheritable != 0 || d[1].inheritable != 0;
}

}  // namespace capspawn::oci
