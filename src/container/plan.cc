// SPDX-License-Identifier: Apache-2.0
// Planning the container steps in the parent: every string, number and
// buffer the child uses is made here.
#include "container/plan.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "container/caps.h"
#include "container/pid_init.h"
#include "namespace/namespace.h"

namespace capspawn::container {
namespace {

std::string Label(const char* what, size_t action) {
  std::string l = what;
  if (action != SIZE_MAX) l += " (action " + std::to_string(action) + ")";
  return l;
}

const char* RlimitName(uint32_t r) {
  static constexpr const char* kNames[] = {
      "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
      "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
      "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
      "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
  return r < std::size(kNames) ? kNames[r] : "RLIMIT_?";
}

std::string MapText(const std::vector<IdMapLine>& lines, uint32_t self) {
  if (lines.empty()) return std::to_string(self) + " " + std::to_string(self) + " 1\n";
  std::string t;
  for (const IdMapLine& l : lines) {
    t += std::to_string(l.inside) + " " + std::to_string(l.outside) + " " +
         std::to_string(l.count) + "\n";
  }
  return t;
}

// Whether the child may write its map itself: one line mapping only the
// caller's own id (the gid map then needs setgroups "deny").
bool SelfWritable(const std::vector<IdMapLine>& lines, uint32_t self) {
  return lines.empty() || (lines.size() == 1 && lines[0].count == 1 && lines[0].outside == self);
}

// The parent's side of the id maps: the child says it is ready over a
// socket (its pid arrives as SCM_CREDENTIALS, translated into our pid
// namespace), we write its maps through /proc, and answer with the errno.
void WriteMapsFor(int sock, std::string uid_map, std::string gid_map) {
  char byte;
  char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return;  // the child is gone (it failed before, or the spawn ended)
  pid_t pid = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      pid = cred.pid;
    }
  }
  int result[2] = {ESRCH, 0};
  if (pid > 0) {
    result[0] = 0;
    const std::string base = "/proc/" + std::to_string(pid) + "/";
    const std::pair<const char*, const std::string*> files[] = {{"uid_map", &uid_map},
                                                                {"gid_map", &gid_map}};
    for (int i = 0; i < 2 && result[0] == 0; ++i) {
      int fd = open((base + files[i].first).c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, files[i].second->data(), files[i].second->size()) < 0) {
        result[0] = errno;
        result[1] = i + 1;
      }
      if (fd >= 0) close(fd);
    }
  }
  (void)!send(sock, result, sizeof result, MSG_NOSIGNAL);
}

}  // namespace

Plan::~Plan() {
  // The child's copy closed at its exec or exit; ours closing ends the helper's wait.
  helper_child_end.reset();
  if (helper.joinable()) helper.join();
}

bool NeedsUserNamespace(const Config& c, bool /*mount_ns*/) {
  return c.new_ns != 0 || !c.uid_map.empty() || !c.gid_map.empty();
}

Result<std::unique_ptr<Plan>> PlanContainer(const Config& c, bool mount_ns) {
  auto plan = std::make_unique<Plan>();
  Plan& p = *plan;
  const bool root = geteuid() == 0;
  const uint32_t kinds = c.new_ns & ~(CAPSPAWN_NEW_NS_USER | CAPSPAWN_NEW_NS_PID_INIT);
  if (c.new_ns & CAPSPAWN_NEW_NS_PID) p.clone_flags |= CLONE_NEWPID;
  if (c.new_ns & CAPSPAWN_NEW_NS_NET) p.clone_flags |= CLONE_NEWNET;
  if (c.new_ns & CAPSPAWN_NEW_NS_IPC) p.clone_flags |= CLONE_NEWIPC;
  if (c.new_ns & CAPSPAWN_NEW_NS_UTS) p.clone_flags |= CLONE_NEWUTS;
  if (c.new_ns & CAPSPAWN_NEW_NS_CGROUP) p.clone_flags |= CLONE_NEWCGROUP;
  p.user_ns = (c.new_ns & CAPSPAWN_NEW_NS_USER) || !c.uid_map.empty() || !c.gid_map.empty() ||
              (!root && NeedsUserNamespace(c, mount_ns) && (kinds != 0 || mount_ns));
  if (p.user_ns) p.clone_flags |= CLONE_NEWUSER;
  if (c.new_ns & CAPSPAWN_NEW_NS_PID_INIT) {
    Result<UniqueFd> init = PidInitExecutable(Label("NEW_NAMESPACES", c.new_ns_action));
    if (!init.ok()) return init.error();
    p.init_fd = std::move(init.value());
    p.pid_init = true;
  }

  const size_t ns_action = c.new_ns_action;
  if (c.oom_score_adj) {
    p.early.push_back({StepKind::kOomScoreAdj,
                       p.Keep(Label("set oom_score_adj", c.oom_score_adj->action_index)),
                       p.Keep(std::to_string(c.oom_score_adj->value))});
  }
  // Joins: right after the user namespace's maps (below), before anything
  // that acts in a namespace; the mount namespace last of the early steps
  // so that the sysctls are still written through the caller's /proc.
  auto join = [&](const Join& j) {
    Step s{StepKind::kJoin,
           p.Keep(Label((std::string("join ") + JoinTypeName(j.nstype) + " namespace").c_str(),
                        j.action_index))};
    s.a = static_cast<uint64_t>(j.nstype);
    s.n = static_cast<long>(p.join_count);
    p.join_fd[p.join_count++] = j.fd;
    p.early.push_back(s);
  };
  bool setgroups_denied = false;
  if (p.user_ns) {
    if (!root) {
      Status st = ns::CheckUserNamespaces();
      if (!st.ok()) return st.error();
    }
    size_t map_action = !c.uid_map.empty()   ? c.uid_map[0].action_index
                        : !c.gid_map.empty() ? c.gid_map[0].action_index
                                             : ns_action;
    const char* label = p.Keep(Label("user namespace", map_action));
    const std::string uid_map = MapText(c.uid_map, geteuid());
    const std::string gid_map = MapText(c.gid_map, getegid());
    if (SelfWritable(c.uid_map, geteuid()) && SelfWritable(c.gid_map, getegid()) && !c.groups) {
      setgroups_denied = true;
      Step s{StepKind::kWriteIdMaps, label, p.Keep(uid_map), p.Keep(gid_map)};
      s.text3 = "deny";
      p.early.push_back(s);
    } else {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        return Error::FromErrno(errno, std::string(label) + ": socketpair");
      }
      UniqueFd ours(sv[0]);
      p.helper_child_end.reset(sv[1]);
      int on = 1;
      if (setsockopt(ours.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
        return Error::FromErrno(errno, std::string(label) + ": setsockopt(SO_PASSCRED)");
      }
      p.helper = std::thread([fd = std::move(ours), uid_map, gid_map]() mutable {
        WriteMapsFor(fd.get(), uid_map, gid_map);
      });
      p.early.push_back({StepKind::kHelperIdMaps, label});
    }
  }
  for (const Join& j : c.joins) {
    if (j.nstype == CLONE_NEWPID) {
      p.pid_join_fd = j.fd;
      p.pid_join_label = p.Keep(Label("join pid namespace", j.action_index));
    } else if (j.nstype != CLONE_NEWNS) {
      join(j);
    }
  }
  if (c.hostname) {
    p.early.push_back({StepKind::kHostname, p.Keep(Label("set hostname", c.hostname->action_index)),
                       p.Keep(c.hostname->value)});
  }
  if (c.new_ns & CAPSPAWN_NEW_NS_NET) {
    p.early.push_back({StepKind::kLoopback, p.Keep(Label("bring up the loopback", ns_action))});
  }
  for (const Sysctl& s : c.sysctls) {
    std::string path = s.key;
    for (char& ch : path) ch = ch == '.' ? '/' : ch;
    p.early.push_back({StepKind::kSysctl,
                       p.Keep(Label(("sysctl " + s.key).c_str(), s.action_index)),
                       p.Keep("/proc/sys/" + path), p.Keep(s.value)});
  }
  if (const Join* m = c.Joined(CLONE_NEWNS)) join(*m);

  if (c.new_session) {
    p.late.push_back({StepKind::kNewSession, p.Keep(Label("new session", *c.new_session))});
  }
  for (const Rlimit& r : c.rlimits) {
    Step s{StepKind::kRlimit,
           p.Keep(Label((std::string("set rlimit ") + RlimitName(r.resource)).c_str(),
                        r.action_index))};
    s.n = r.resource;
    s.a = r.soft;
    s.b = r.hard;
    p.late.push_back(s);
  }
  if (c.umask) {
    Step s{StepKind::kUmask, p.Keep(Label("set umask", c.umask->action_index))};
    s.n = c.umask->value;
    p.late.push_back(s);
  }
  const bool switch_ids = c.ids.has_value();
  if (c.cwd) {
    Step s{StepKind::kChdir, p.Keep(Label("set working directory", c.cwd->action_index)),
           p.Keep(c.cwd->value)};
    s.n = switch_ids ? 1 : 0;  // a directory only the new user may enter: again after the switch
    p.late.push_back(s);
  }
  if (c.caps) {
    Step s{StepKind::kBoundingSet, p.Keep(Label("set capabilities", c.caps->action_index))};
    s.a = c.caps->value.bounding;
    s.n = LastCapability();
    p.late.push_back(s);
  }
  if (switch_ids) {
    const char* label = p.Keep(Label("set ids", c.ids->action_index));
    if (c.caps) p.late.push_back({StepKind::kKeepCaps, label, nullptr, nullptr, nullptr, 1});
    if (c.groups) plan->groups_ = c.groups->value;
    Step g{StepKind::kSetGroups,
           c.groups ? p.Keep(Label("set groups", c.groups->action_index)) : label};
    g.groups = plan->groups_.data();
    g.count = plan->groups_.size();
    g.n = setgroups_denied ? 1 : 0;
    p.late.push_back(g);
    Step s{StepKind::kSetIds, label};
    s.a = c.ids->value.first;
    s.b = c.ids->value.second;
    p.late.push_back(s);
    if (c.caps) p.late.push_back({StepKind::kKeepCaps, label, nullptr, nullptr, nullptr, 0});
  }
  if (c.caps) {
    Step s{StepKind::kCapabilities, p.Keep(Label("set capabilities", c.caps->action_index))};
    s.a = c.caps->value.effective;
    s.b = c.caps->value.permitted;
    s.c = c.caps->value.inheritable;
    s.d = c.caps->value.ambient;
    s.n = LastCapability();
    p.late.push_back(s);
  }
  if (c.cwd && switch_ids) {
    p.late.push_back({StepKind::kChdirAgain,
                      p.Keep(Label("set working directory", c.cwd->action_index)),
                      p.Keep(c.cwd->value)});
  }
  if (c.death_signal && c.death_signal->value != 0) {
    Step s{StepKind::kDeathSignal, p.Keep(Label("set death signal", c.death_signal->action_index))};
    s.n = c.death_signal->value;
    p.parent = getpid();
    p.late.push_back(s);
  }
  if (c.no_new_privs) {
    p.late.push_back({StepKind::kNoNewPrivs, p.Keep(Label("set no_new_privs", *c.no_new_privs))});
  }
  if (c.seccomp) {
    plan->filter_ = c.seccomp->value;
    plan->prog_.len = static_cast<unsigned short>(plan->filter_.size());
    plan->prog_.filter = plan->filter_.data();
    p.seccomp = &plan->prog_;
    const std::string l = Label("seccomp filter", c.seccomp->action_index);
    p.seccomp_steps[0] = p.Keep(l + ": seccomp(SECCOMP_SET_MODE_FILTER)");
    p.seccomp_steps[1] = p.Keep(l + ": prctl(PR_SET_NO_NEW_PRIVS)");
  }
  return plan;
}

void ApplyEarly(Plan& plan, engine::LaunchPlan* launch) {
  launch->extra_clone_flags |= plan.clone_flags;
  if (plan.helper_child_end) {
    launch->hook_fds.push_back({plan.helper_child_end.get(), &plan.helper_child_fd});
  }
  for (size_t i = 0; i < plan.join_count; ++i) {
    launch->hook_fds.push_back({plan.join_fd[i], &plan.join_child_fd[i]});
  }
  if (plan.pid_join_fd >= 0) {
    launch->join_pid_ns_fd = plan.pid_join_fd;
    launch->join_pid_ns_label = plan.pid_join_label;
  }
  if (!plan.early.empty()) launch->hooks.push_back({&RunEarly, &plan});
}

void ApplyLate(Plan& plan, engine::LaunchPlan* launch) {
  if (!plan.late.empty()) launch->hooks.push_back({&RunLate, &plan});
  if (plan.init_fd) launch->init_fd = plan.init_fd.get();
  if (plan.seccomp) {
    launch->user_seccomp_filter = plan.seccomp;
    launch->user_seccomp_steps[0] = plan.seccomp_steps[0];
    launch->user_seccomp_steps[1] = plan.seccomp_steps[1];
  }
}

}  // namespace capspawn::container
