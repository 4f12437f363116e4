// SPDX-License-Identifier: Apache-2.0
#include "seccomp_profile.h"

#include <cerrno>
#include <map>
#include <optional>
#include <string>

#include <capspawn/seccomp.h>

#include "plan.h"

namespace capspawn::oci {
namespace {

namespace sc = capspawn::seccomp;

std::optional<sc::Action> ActionNamed(const std::string& name) {
  static const std::map<std::string, sc::Action> k = {
      {"SCMP_ACT_KILL", sc::Action::kKillThread},
      {"SCMP_ACT_KILL_THREAD", sc::Action::kKillThread},
      {"SCMP_ACT_KILL_PROCESS", sc::Action::kKillProcess},
      {"SCMP_ACT_TRAP", sc::Action::kTrap},
      {"SCMP_ACT_ERRNO", sc::Action::kErrno},
      {"SCMP_ACT_TRACE", sc::Action::kTrace},
      {"SCMP_ACT_ALLOW", sc::Action::kAllow},
      {"SCMP_ACT_LOG", sc::Action::kLog}};
  auto it = k.find(name);
  if (it == k.end()) return std::nullopt;
  return it->second;
}

std::optional<sc::Op> OpNamed(const std::string& name) {
  static const std::map<std::string, sc::Op> k = {
      {"SCMP_CMP_NE", sc::Op::kNotEqual},          {"SCMP_CMP_LT", sc::Op::kLessThan},
      {"SCMP_CMP_LE", sc::Op::kLessEqual},         {"SCMP_CMP_EQ", sc::Op::kEqualTo},
      {"SCMP_CMP_GE", sc::Op::kGreaterEqual},      {"SCMP_CMP_GT", sc::Op::kGreaterThan},
      {"SCMP_CMP_MASKED_EQ", sc::Op::kMaskedEqual}};
  auto it = k.find(name);
  if (it == k.end()) return std::nullopt;
  return it->second;
}

Status CheckAction(const std::string& name, const std::string& field) {
  if (name == "SCMP_ACT_NOTIFY") {
    return NotSupported(field, "SCMP_ACT_NOTIFY: the library has no seccomp listener");
  }
  if (!ActionNamed(name)) return Invalid(field, "unknown seccomp action '" + name + "'");
  return {};
}

}  // namespace

Status CheckSeccomp(const Seccomp& s) {
  if (!s.flags.empty()) {
    return NotSupported("linux.seccomp.flags", "'" + s.flags[0] +
                                                   "': the library installs its filter "
                                                   "without flags");
  }
  if (!s.listener_path.empty()) {
    return NotSupported("linux.seccomp.listenerPath", "the library has no seccomp listener");
  }
  if (Status st = CheckAction(s.default_action, "linux.seccomp.defaultAction"); !st.ok()) return st;
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompRule& r = s.syscalls[i];
    std::string f = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    if (Status st = CheckAction(r.action, f + ".action"); !st.ok()) return st;
    for (size_t a = 0; a < r.args.size(); ++a) {
      if (!OpNamed(r.args[a].op)) {
        return Invalid(f + ".args[" + std::to_string(a) + "].op",
                       "unknown comparison '" + r.args[a].op + "'");
      }
    }
  }
  return {};
}

Result<std::vector<capspawn_sock_filter_t>> CompileSeccomp(const Seccomp& s) {
  if (Status st = CheckSeccomp(s); !st.ok()) return st.error();
  sc::Profile p;
  p.default_action = *ActionNamed(s.default_action);
  p.default_errno = static_cast<int>(s.default_errno_ret.value_or(EPERM));
  p.architectures = s.architectures;
  // As runc: a name this libseccomp does not know is skipped, so that a
  // profile written for a newer kernel loads.
  p.skip_unknown_syscalls = true;
  for (const SeccompRule& r : s.syscalls) {
    sc::Rule rule;
    rule.names = r.names;
    rule.action = *ActionNamed(r.action);
    rule.errno_ret = static_cast<int>(r.errno_ret.value_or(EPERM));
    for (const SeccompArg& a : r.args) {
      rule.args.push_back({a.index, a.value, a.value_two, *OpNamed(a.op)});
    }
    p.syscalls.push_back(std::move(rule));
  }
  Result<std::vector<capspawn_sock_filter_t>> prog = sc::Compile(p);
  if (!prog.ok()) return prog.error().Context("config.json: linux.seccomp");
  return prog;
}

}  // namespace capspawn::oci
