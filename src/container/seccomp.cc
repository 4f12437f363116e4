// SPDX-License-Identifier: Apache-2.0
// Compiling an OCI-shaped seccomp profile with libseccomp (in the parent:
// the child only installs the resulting program).
#include <capspawn/seccomp.h>

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include <capspawn/fd.h>

namespace capspawn::seccomp {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};

uint32_t ToScmp(Action a, int err) {
  switch (a) {
    case Action::kKillThread:
      return SCMP_ACT_KILL;
    case Action::kKillProcess:
      return SCMP_ACT_KILL_PROCESS;
    case Action::kTrap:
      return SCMP_ACT_TRAP;
    case Action::kErrno:
      return SCMP_ACT_ERRNO(static_cast<uint16_t>(err));
    case Action::kTrace:
      return SCMP_ACT_TRACE(static_cast<uint16_t>(err));
    case Action::kAllow:
      return SCMP_ACT_ALLOW;
    case Action::kLog:
      return SCMP_ACT_LOG;
  }
  return SCMP_ACT_KILL_PROCESS;
}

scmp_compare ToScmp(Op op) {
  switch (op) {
    case Op::kNotEqual:
      return SCMP_CMP_NE;
    case Op::kLessThan:
      return SCMP_CMP_LT;
    case Op::kLessEqual:
      return SCMP_CMP_LE;
    case Op::kEqualTo:
      return SCMP_CMP_EQ;
    case Op::kGreaterEqual:
      return SCMP_CMP_GE;
    case Op::kGreaterThan:
      return SCMP_CMP_GT;
    case Op::kMaskedEqual:
      return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

// "SCMP_ARCH_X86_64" or "x86_64" -> libseccomp's token.
uint32_t Arch(const std::string& name) {
  std::string bare = name.rfind("SCMP_ARCH_", 0) == 0 ? name.substr(10) : name;
  for (char& c : bare) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return seccomp_arch_resolve_name(bare.c_str());
}

bool ErrnoInRange(int e) { return e >= 0 && e <= 4095; }

}  // namespace

Result<std::vector<capspawn_sock_filter_t>> Compile(const Profile& p) {
  if (p.default_action == Action::kErrno && !ErrnoInRange(p.default_errno)) {
    return Error(
        CAPSPAWN_ERR_INVALID_ARGS,
        "seccomp profile: default errno " + std::to_string(p.default_errno) + " is not 0..4095");
  }
  std::unique_ptr<void, CtxDeleter> holder(seccomp_init(ToScmp(p.default_action, p.default_errno)));
  scmp_filter_ctx ctx = holder.get();
  if (!ctx) return Error(CAPSPAWN_ERR_NO_MEMORY, "seccomp profile: seccomp_init failed");
  for (const std::string& a : p.architectures) {
    const uint32_t arch = Arch(a);
    if (arch == 0) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "seccomp profile: architecture '" + a + "' is unknown");
    }
    int rc = seccomp_arch_add(ctx, arch);
    if (rc != 0 && rc != -EEXIST) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   "seccomp profile: architecture '" + a + "': " + std::strerror(-rc));
    }
  }
  for (size_t i = 0; i < p.syscalls.size(); ++i) {
    const Rule& r = p.syscalls[i];
    const std::string where = "seccomp profile: syscalls[" + std::to_string(i) + "]";
    if ((r.action == Action::kErrno || r.action == Action::kTrace) && !ErrnoInRange(r.errno_ret)) {
      return Error(CAPSPAWN_ERR_INVALID_ARGS,
                   where + ": errno " + std::to_string(r.errno_ret) + " is not 0..4095");
    }
    if (r.args.size() > 6) return Error(CAPSPAWN_ERR_INVALID_ARGS, where + ": more than 6 args");
    std::vector<scmp_arg_cmp> cmps;
    for (size_t k = 0; k < r.args.size(); ++k) {
      const Arg& a = r.args[k];
      if (a.index > 5) {
        return Error(CAPSPAWN_ERR_INVALID_ARGS, where + ": args[" + std::to_string(k) + "].index " +
                                                    std::to_string(a.index) + " is not 0..5");
      }
      cmps.push_back({a.index, ToScmp(a.op), a.value, a.value_two});
    }
    for (const std::string& name : r.names) {
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        if (p.skip_unknown_syscalls) continue;
        return Error(CAPSPAWN_ERR_INVALID_ARGS, where + ": system call '" + name + "' is unknown");
      }
      const uint32_t action = ToScmp(r.action, r.errno_ret);
      if (action == ToScmp(p.default_action, p.default_errno)) continue;  // libseccomp refuses it
      int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
      if (rc != 0) {
        return Error(CAPSPAWN_ERR_INVALID_ARGS,
                     where + ": '" + name + "': seccomp_rule_add: " + std::strerror(-rc));
      }
    }
  }
  UniqueFd mem(memfd_create("capspawn-seccomp", MFD_CLOEXEC));
  if (!mem) return Error::FromErrno(errno, "seccomp profile: memfd_create");
  int rc = seccomp_export_bpf(ctx, mem.get());
  if (rc != 0) {
    return Error(CAPSPAWN_ERR_INTERNAL,
                 std::string("seccomp profile: seccomp_export_bpf: ") + std::strerror(-rc));
  }
  struct stat st;
  if (fstat(mem.get(), &st) != 0) return Error::FromErrno(errno, "seccomp profile: fstat");
  const size_t n = static_cast<size_t>(st.st_size) / sizeof(capspawn_sock_filter_t);
  if (n == 0 || n > 4096) {
    return Error(CAPSPAWN_ERR_OUT_OF_RANGE, "seccomp profile: the program has " +
                                                std::to_string(n) +
                                                " instructions (the kernel takes 1..4096)");
  }
  std::vector<capspawn_sock_filter_t> prog(n);
  if (pread(mem.get(), prog.data(), n * sizeof prog[0], 0) !=
      static_cast<ssize_t>(n * sizeof prog[0])) {
    return Error::FromErrno(errno, "seccomp profile: read the program");
  }
  return prog;
}

}  // namespace capspawn::seccomp
