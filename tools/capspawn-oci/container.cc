// SPDX-License-Identifier: Apache-2.0
// create, start and destroy over the library.
#include "container.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <capspawn/job.h>
#include <capspawn/start.h>

#include "cgroup.h"
#include "config.h"
#include "console.h"
#include "hooks.h"
#include "launch.h"
#include "log.h"
#include "plan.h"
#include "util.h"

namespace capspawn::oci {
namespace {

// Init's pidfd: `init` when given (from clone, in this process), else the
// state's pid opened with OpenInit into `*opened`.
Result<int> InitPidfd(const State& s, int init, UniqueFd* opened) {
  if (init >= 0) return init;
  Result<UniqueFd> fd = OpenInit(s);
  if (!fd.ok()) return fd.error();
  *opened = std::move(fd.value());
  return opened->get();
}

// SIGKILL to init, and wait (at most 10 s) until it has exited: its pidfd
// turns readable then, whoever its parent is.
void KillProcess(const State& s, int init) {
  UniqueFd opened;
  Result<int> pidfd = InitPidfd(s, init, &opened);
  if (!pidfd.ok()) return;
  if (syscall(SYS_pidfd_send_signal, *pidfd, SIGKILL, nullptr, 0) != 0) return;
  pollfd p{*pidfd, POLLIN, 0};
  while (poll(&p, 1, 10000) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<Locked> LockContainer(const Globals& g, const std::string& id, State* s) {
  Result<Store> store = Store::Open(g.root);
  if (!store.ok()) return store.error();
  Result<Locked> lock = store->Lock(id);
  if (!lock.ok()) return lock.error();
  Result<State> st = lock->Read();
  if (!st.ok()) return st.error();
  *s = std::move(st.value());
  return lock;
}

Result<State> CreateContainer(const Globals& g, const CreateOptions& o, std::optional<Held>* held) {
  std::string bundle = Absolute(o.bundle);
  std::string text;
  if (Status st = ReadSmallFile(bundle + "/config.json", &text, kMaxConfigBytes); !st.ok()) {
    return st.error().Context("--bundle");
  }
  Result<Config> cfg = ParseConfig(text);
  if (!cfg.ok()) return cfg.error();
  Log(LogLevel::kDebug, "create " + o.id + ": config parsed");
  for (const std::string& u : cfg->unknown) {
    Log(LogLevel::kWarning, "config.json: " + u + ": not a runtime-spec property; ignored");
  }
  if (cfg->process.terminal && o.console_socket.empty()) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "config.json: process.terminal is true: --console-socket is required");
  }
  if (!cfg->process.terminal && !o.console_socket.empty()) {
    return Error(CAPSPAWN_ERR_INVALID_ARGS,
                 "--console-socket given but config.json: process.terminal is false");
  }
  PlanOptions po;
  po.bundle = bundle;
  po.rootless = g.rootless;
  // Refusals first: nothing exists yet.
  if (Status st = CheckSupported(*cfg, po); !st.ok()) return st.error();

  Result<Store> store = Store::Open(g.root);
  if (!store.ok()) return store.error();
  Result<Locked> lock = store->Create(o.id);
  if (!lock.ok()) return lock.error();
  // From here every failure removes what was made, in reverse.
  JobSetup job;
  auto undo = [&](const Error& e) -> Result<State> {
    if (job.job.valid()) (void)job.job.Destroy();
    RemoveMadeCgroups(job.made);
    (void)lock->Remove();
    return e;
  };
  Result<LaunchSpec> spec = PlanLaunch(*cfg, po);
  if (!spec.ok()) return undo(spec.error());
  for (const std::string& d : spec->differences) Log(LogLevel::kDebug, "differs from runc: " + d);

  Log(LogLevel::kDebug, "create " + o.id + ": planned");
  Result<JobSetup> js = SetUpJob(*cfg, o.id, g.rootless);
  if (!js.ok()) return undo(js.error());
  job = std::move(js.value());
  if (!job.note.empty()) Log(LogLevel::kWarning, "container " + o.id + ": " + job.note);

  std::optional<Pty> pty;
  if (cfg->process.terminal) {
    Result<Pty> p = OpenPty(cfg->process.console_size);
    if (!p.ok()) return undo(p.error());
    pty = std::move(p.value());
  }
  int stdio[3] = {0, 1, 2};
  if (pty) stdio[0] = stdio[1] = stdio[2] = pty->slave.get();

  State s;
  s.oci_version = cfg->oci_version;
  s.id = o.id;
  s.bundle = bundle;
  s.rootfs = spec->rootfs;
  s.owner = geteuid();
  s.job = job.path;
  s.made_cgroups = job.made;
  s.annotations = cfg->annotations;
  s.poststart = ToHookSpecs(cfg->hooks.poststart);
  s.poststop = ToHookSpecs(cfg->hooks.poststop);

  Log(LogLevel::kDebug, "create " + o.id + ": job ready");
  Result<Launched> l =
      LaunchStopped(*spec, job.job.valid() ? job.job.fd().get() : -1, stdio, !o.no_new_keyring);
  if (!l.ok()) return undo(l.error());
  Log(LogLevel::kDebug, "create " + o.id + ": process created");
  s.pid = l->pid;
  s.start_time = l->start_time;
  s.created = NowRfc3339();
  auto kill_undo = [&](const Error& e) -> Result<State> {
    KillProcess(s, l->process.get());
    return undo(e);
  };
  // prestart (deprecated) and createRuntime: after the process exists, before
  // the state says "created", with the state on stdin (status "creating").
  std::vector<HookSpec> early = ToHookSpecs(cfg->hooks.prestart);
  if (Status st = RunHooks("prestart", early, StateJson(s, ContainerStatus::kCreating)); !st.ok()) {
    return kill_undo(st.error());
  }
  if (Status st = RunHooks("createRuntime", ToHookSpecs(cfg->hooks.create_runtime),
                           StateJson(s, ContainerStatus::kCreating));
      !st.ok()) {
    return kill_undo(st.error());
  }
  if (pty) {
    if (Status st = SendConsole(o.console_socket, pty->master.get(), pty->slave_name); !st.ok()) {
      return kill_undo(st.error());
    }
  }
  if (held == nullptr) {
    if (Status st = lock->Write(s); !st.ok()) return kill_undo(st.error());
  }
  if (!o.pid_file.empty()) {
    if (Status st = WriteFileAtomically(Absolute(o.pid_file), std::to_string(s.pid)); !st.ok()) {
      return kill_undo(st.error().Context("--pid-file"));
    }
  }
  if (held != nullptr) held->emplace(Held{std::move(lock.value()), std::move(l->process)});
  return s;
}

Status StartContainer(Locked& lock, State& s, int init) {
  // A pidfd from clone (run: this process created init) needs no check: it
  // cannot name another process, and no command could have started, paused
  // or deleted a container whose lock we held since; capspawn_start refuses
  // a process that exited. `start` knows only the state's pid, which may have
  // been reused: OpenInit checks its start time.
  if (init < 0) {
    ContainerStatus now = CurrentStatus(s);
    if (now != ContainerStatus::kCreated) {
      return Error(CAPSPAWN_ERR_BAD_STATE, "cannot start container '" + s.id + "': it is " +
                                               StatusName(now) + ", not created");
    }
  }
  UniqueFd opened;
  Result<int> pidfd = InitPidfd(s, init, &opened);
  if (!pidfd.ok()) return pidfd.error();
  capspawn_status_t st = capspawn_start(*pidfd);
  if (st != CAPSPAWN_OK) {
    return Error(st, "start container '" + s.id + "' (pid " + std::to_string(s.pid) + ")");
  }
  s.started = true;
  if (Status w = lock.Write(s); !w.ok()) return w;
  if (Status h = RunHooks("poststart", s.poststart, StateJson(s, ContainerStatus::kRunning));
      !h.ok()) {
    // runc: a failed poststart hook ends the container.
    KillProcess(s, *pidfd);
    return h;
  }
  return {};
}

Status DestroyContainer(Locked& lock, const State& s, int init) {
  if (!s.job.empty()) {
    Result<capspawn::Job> job = capspawn::Job::Open(s.job);
    if (job.ok()) {
      // A frozen job is thawed by the kill (cgroup.kill works on frozen cgroups).
      Status st = job->Destroy(10'000'000'000);
      if (!st.ok()) return st.error().Context("delete container '" + s.id + "': its job");
    } else if (job.status() != CAPSPAWN_ERR_NOT_FOUND) {
      return job.error().Context("delete container '" + s.id + "': its job");
    }
  }
  KillProcess(s, init);  // no job (rootless), or a process that left it
  RemoveMadeCgroups(s.made_cgroups);
  if (Status h = RunHooks("poststop", s.poststop, StateJson(s, ContainerStatus::kStopped));
      !h.ok()) {
    Log(LogLevel::kWarning, h.error().message());
  }
  return lock.Remove();
}

}  // namespace capspawn::oci
