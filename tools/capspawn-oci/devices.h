// SPDX-License-Identifier: Apache-2.0
// linux.resources.devices: the device access rules of a container, as a
// cgroup v2 device program (BPF_PROG_TYPE_CGROUP_DEVICE) on its job.
#ifndef CAPSPAWN_OCI_DEVICES_H_
#define CAPSPAWN_OCI_DEVICES_H_

#include <linux/bpf.h>

#include <string>
#include <vector>

#include <capspawn/result.h>

#include "config.h"

namespace capspawn::oci {

// The program for `rules`: the last rule that matches a request decides
// (OCI's order, as runc's), no match is a denial. An allow rule matches a
// request whose access it covers whole; a deny rule one that asks for any
// access it names.
std::vector<bpf_insn> DeviceProgram(const std::vector<DeviceRule>& rules);

// `rules` followed by what runc always allows after them: mknod of any
// device, and the default devices (null, zero, full, random, urandom, tty,
// ptmx, the pts nodes, tun).
std::vector<DeviceRule> WithDefaultDevices(std::vector<DeviceRule> rules);

// Loads the program and attaches it to the cgroup directory `cgroup`
// (BPF_F_ALLOW_MULTI: what an ancestor enforces still holds). The attachment
// lives as long as the cgroup. Errors name linux.resources.devices.
Status AttachDeviceRules(const std::string& cgroup, const std::vector<DeviceRule>& rules);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_OCI_DEVICES_H_
