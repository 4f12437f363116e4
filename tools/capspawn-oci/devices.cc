// SPDX-License-Identifier: Apache-2.0
// The device program: BPF instructions written out here (no BPF compiler in
// the build), one block per rule, the last rule first.
#include "devices.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <capspawn/fd.h>

namespace capspawn::oci {
namespace {

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// bpf_cgroup_dev_ctx: access_type (type in the low 16 bits, access above),
// major, minor.
constexpr int16_t kAccessType = 0, kMajor = 4, kMinor = 8;

uint32_t AccessMask(const std::string& access) {
  if (access.empty()) return BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  uint32_t m = 0;
  for (char c : access) {
    if (c == 'r') m |= BPF_DEVCG_ACC_READ;
    if (c == 'w') m |= BPF_DEVCG_ACC_WRITE;
    if (c == 'm') m |= BPF_DEVCG_ACC_MKNOD;
  }
  return m;
}

// One rule's block. Every "not this rule" jump goes to the block's end,
// patched once its length is known (kNext).
constexpr int16_t kNext = 0x7fff;
std::vector<bpf_insn> Block(const DeviceRule& r) {
  std::vector<bpf_insn> b;
  if (r.type == "c" || r.type == "b") {
    const int32_t t = r.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
    b.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, kNext, t));
  }
  const uint32_t mask = AccessMask(r.access);
  constexpr uint32_t kAll = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  if (mask != kAll) {
    b.push_back(Insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
    b.push_back(Insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, static_cast<int32_t>(mask)));
    if (r.allow) {  // all it asks for is allowed here
      b.push_back(Insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, kNext, 0));
    } else {  // anything it asks for is denied here
      b.push_back(Insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, kNext, 0));
    }
  }
  if (r.major && *r.major >= 0) {
    b.push_back(
        Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, kNext, static_cast<int32_t>(*r.major)));
  }
  if (r.minor && *r.minor >= 0) {
    b.push_back(
        Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, kNext, static_cast<int32_t>(*r.minor)));
  }
  b.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r.allow ? 1 : 0));
  b.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  const int16_t end = static_cast<int16_t>(b.size());
  for (int16_t i = 0; i < end; ++i) {
    if (b[i].off == kNext) b[i].off = static_cast<int16_t>(end - i - 1);
  }
  return b;
}

long Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

}  // namespace

std::vector<DeviceRule> WithDefaultDevices(std::vector<DeviceRule> rules) {
  auto allow = [&](const char* type, int64_t major, int64_t minor, const char* access) {
    DeviceRule r;
    r.allow = true;
    r.type = type;
    r.major = major;
    r.minor = minor;
    r.access = access;
    rules.push_back(r);
  };
  allow("c", -1, -1, "m");
  allow("b", -1, -1, "m");
  // null, zero, full, random, urandom, tty, ptmx
  static constexpr std::pair<int, int> kDefault[] = {{1, 3}, {1, 5}, {1, 7}, {1, 8},
                                                     {1, 9}, {5, 0}, {5, 2}};
  for (auto [major, minor] : kDefault) allow("c", major, minor, "rwm");
  allow("c", 136, -1, "rwm");  // /dev/pts/N
  allow("c", 10, 200, "rwm");  // /dev/net/tun
  return rules;
}

std::vector<bpf_insn> DeviceProgram(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> p = {
      Insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, kAccessType, 0),
      Insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff),
      Insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, kAccessType, 0),
      Insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16),
      Insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, kMajor, 0),
      Insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, kMinor, 0),
  };
  for (auto r = rules.rbegin(); r != rules.rend(); ++r) {
    std::vector<bpf_insn> b = Block(*r);
    p.insert(p.end(), b.begin(), b.end());
    // A rule that matches everything decides: what would follow is
    // unreachable, and the verifier refuses unreachable instructions.
    if (b.size() == 2) return p;
  }
  p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));  // no rule: denied
  p.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

Status AttachDeviceRules(const std::string& cgroup, const std::vector<DeviceRule>& rules) {
  const std::string field = "config.json: linux.resources.devices: ";
  std::vector<bpf_insn> program = DeviceProgram(rules);
  static const char kLicense[] = "Apache-2.0";
  std::vector<char> log(16384);
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  load.log_buf = reinterpret_cast<uint64_t>(log.data());
  load.log_size = static_cast<uint32_t>(log.size());
  load.log_level = 1;
  UniqueFd prog(static_cast<int>(Bpf(BPF_PROG_LOAD, &load)));
  if (!prog) {
    const int err = errno;
    std::string why = field + "loading the device program (bpf BPF_PROG_LOAD)";
    if (log[0] != '\0') why += " (verifier: " + std::string(log.data()) + ")";
    return Error::FromErrno(err, why);
  }
  UniqueFd dir(open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return Error::FromErrno(errno, field + "open " + cgroup);
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(dir.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attach) != 0) {
    return Error::FromErrno(errno, field + "attaching the device program to " + cgroup);
  }
  return {};
}

}  // namespace capspawn::oci
