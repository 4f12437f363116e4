// SPDX-License-Identifier: Apache-2.0
// ProcessBuilder: Fuchsia's process_builder on Linux. Describe a process
// (arguments, environment, namespace entries, typed handles, a loader, a
// minimum stack), build() it — it then exists, has exec'd, and waits before
// its first instruction — look at it or attach a debugger, then start() it.
// See docs/process-builder.md.
//
//   capspawn::ProcessBuilder b("worker", job_fd, std::move(exe));
//   b.add_arguments({"worker", "--flag"});
//   b.add_environment_variables({"LANG=C"});
//   if (auto st = b.add_handles(std::move(handles)); !st.ok()) return st.error();
//   capspawn::Result<capspawn::BuiltProcess> built = b.build();
//   if (!built.ok()) return built.error();
//   printf("entry %#lx\n", built->entry);
//   if (auto st = built->start(); !st.ok()) return st.error();
#ifndef CAPSPAWN_PROCESS_BUILDER_H_
#define CAPSPAWN_PROCESS_BUILDER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <capspawn/elf.h>
#include <capspawn/fd.h>
#include <capspawn/process.h>
#include <capspawn/result.h>
#include <capspawn/spawn.h>

namespace capspawn {

// A mount of the container actions (CAPSPAWN_ACTION_ADD_MOUNT).
struct ContainerMount {
  uint32_t kind = CAPSPAWN_MOUNT_TMPFS;  // CAPSPAWN_MOUNT_*
  uint32_t flags = 0;                    // CAPSPAWN_MOUNT_RDONLY...
  std::string target;                    // absolute
  UniqueFd source;                       // BIND: the directory or file
  std::string data;                      // "size=64m,mode=1777"
};

// A directory mounted at `path` in the process's private namespace.
struct NamespaceEntry {
  std::string path;    // absolute, normalised ("/data")
  UniqueFd directory;  // a directory fd (O_PATH is enough)
  bool read_only = false;
};

// A typed startup handle (CAPSPAWN_PA_HND(type, arg)): CAPSPAWN_PA_FD lands
// at fd `arg`; other types are found by id with capspawn_take_startup_handle().
struct StartupHandle {
  uint32_t id;
  UniqueFd handle;
  // Its LISTEN_FDNAMES name when not the id's own ("http" for a program
  // written for systemd's socket units; CAPSPAWN_ACTION_ADD_NAMED_HANDLE).
  std::string name = {};
};

// A process that exists, has exec'd its program, and is stopped (a group
// stop, untraced) before its first user instruction. Every value is read
// from the real process: registers while it was stopped at its exec, and
// /proc/PID/auxv. Destroying it before start() kills and reaps the process.
class BuiltProcess {
 public:
  BuiltProcess() = default;
  BuiltProcess(BuiltProcess&& other) noexcept;
  BuiltProcess& operator=(BuiltProcess&& other) noexcept;
  BuiltProcess(const BuiltProcess&) = delete;
  BuiltProcess& operator=(const BuiltProcess&) = delete;
  ~BuiltProcess();

  // Lets it run (SIGCONT through the pidfd). BAD_STATE when already started
  // or when `process` was moved out.
  Status start();
  bool started() const { return started_; }

  // Gives up the kill-on-destroy duty without starting: the caller now
  // decides (the C API's capspawn_create_without_starting does this).
  void release() { started_ = true; }

  Process process;         // its pidfd
  pid_t thread = -1;       // its only thread's tid (= its pid)
  UniqueFd root_vmar;      // /proc/PID/mem, read-write: its address space
  uint64_t entry = 0;      // the first instruction: the program's entry, or the
                           // dynamic linker's for a PT_INTERP program
  uint64_t stack = 0;      // the initial stack pointer
  uint64_t base = 0;       // load address of the dynamic linker (AT_BASE) for a
                           // PT_INTERP program, else of the program (its ELF header)
  uint64_t vdso_base = 0;  // AT_SYSINFO_EHDR (0: no vDSO)
  // The program's parsed headers (after #!); absent only for an
  // execute-only file that could not be read.
  std::optional<elf::ElfHeaders> elf_headers;

 private:
  void KillIfNotStarted();
  bool started_ = false;
};

class ProcessBuilder {
 public:
  // `name` becomes the process name (/proc/PID/comm, 15 bytes). `job` is a
  // job (cgroup directory) fd, borrowed (the builder keeps its own copy), or
  // -1 for the caller's own cgroup. `executable` is the program file,
  // consumed. A job or executable that is not an open fd (or a job that is
  // not a directory) is BAD_HANDLE: status() says so, the add_* and set_*
  // calls then do nothing, and build() returns that error.
  ProcessBuilder(std::string name, int job, UniqueFd executable);
  ProcessBuilder(ProcessBuilder&&) = default;
  ProcessBuilder& operator=(ProcessBuilder&&) = default;

  // OK, or why the builder cannot build (the constructor's check).
  const Status& status() const { return status_; }

  // argv, exactly (argv[0] included: nothing is added).
  void add_arguments(std::vector<std::string> args);
  // "NAME=VALUE" entries; the process gets no other variable (typed handles
  // add LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID).
  void add_environment_variables(std::vector<std::string> vars);
  // Mounted in a private mount namespace; without any, the process sees an
  // empty root (plus its loader's directories). Not an open directory:
  // BAD_HANDLE; a relative path: INVALID_ARGS.
  Status add_namespace_entries(std::vector<NamespaceEntry> entries);
  // As Fuchsia's add_handles: types the builder sets itself are INVALID_ARGS
  // (PROC_SELF, THREAD_SELF, VMAR_ROOT, VMAR_LOADED, VMO_STACK,
  // VMO_EXECUTABLE), as are NS_DIR (use add_namespace_entries), a type
  // processargs.h does not define and an id with reserved bits; VMO_VDSO is
  // NOT_SUPPORTED (Linux maps its own vDSO). A LDSVC_LOADER handle is passed
  // to set_loader_service() (it must be a directory). A handle that is not an
  // open fd is BAD_HANDLE. On error none of `handles` is added (all are
  // closed).
  Status add_handles(std::vector<StartupHandle> handles);
  // The library directory a PT_INTERP program loads its dynamic linker and
  // libraries from (read-only in its namespace). BAD_HANDLE if not an open
  // directory. A second loader (from here or add_handles) replaces the first.
  Status set_loader_service(UniqueFd lib_dir);
  // The main thread's stack may grow to at least `size` bytes (an
  // RLIMIT_STACK floor; a higher limit is kept). Above the hard limit, build()
  // fails with OUT_OF_RANGE.
  void set_min_stack_size(size_t size);

  // Container features (docs/containers.md), each the capspawn_action_t of
  // the same name, in call order after the entries, handles and loader; they
  // are validated by build() ("build: action N (SET_HOSTNAME): ..."). A root
  // directory is a namespace entry at "/".
  void set_new_namespaces(uint32_t flags);  // CAPSPAWN_NEW_NS_*
  void set_hostname(std::string hostname);
  void add_mount(ContainerMount mount);
  void add_masked_path(std::string path);
  void add_read_only_path(std::string path);
  void add_devices(std::string dir);  // "/dev"
  void set_capabilities(const capspawn_capabilities_t& sets);
  void set_no_new_privs();
  void set_rlimit(uint32_t resource, uint64_t soft, uint64_t hard);
  void set_ids(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups = {});
  void set_umask(uint32_t mask);
  void add_uid_map(uint32_t inside, uint32_t outside, uint32_t count);
  void add_gid_map(uint32_t inside, uint32_t outside, uint32_t count);
  void set_seccomp_filter(std::vector<capspawn_sock_filter_t> program);
  void set_working_directory(std::string path);
  void add_sysctl(std::string key, std::string value);
  void set_oom_score_adj(int score);
  void set_death_signal(int signal);
  void set_new_session();  // NEW_SESSION: setsid() before exec
  // JOIN_NAMESPACE: `ns` (an nsfs fd, /proc/PID/ns/net) of kind `type`
  // (CLONE_NEWNET...), kept open by the builder until build().
  void join_namespace(uint32_t type, UniqueFd ns);

  // Creates the process, stopped before its first instruction. Once: a
  // second call is BAD_STATE. Statuses as capspawn_spawn_vmo's; a dynamic
  // program without a loader is INVALID_ARGS naming its interpreter.
  Result<BuiltProcess> build();

 private:
  Status status_;
  std::string name_;
  UniqueFd job_;
  UniqueFd executable_;
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::vector<NamespaceEntry> entries_;
  std::vector<StartupHandle> handles_;
  UniqueFd loader_;
  size_t min_stack_size_ = 0;
  bool built_ = false;
  // The container actions, pointing into the stable storage below.
  capspawn_action_t& AddAction(uint32_t action);
  std::vector<capspawn_action_t> container_actions_;
  std::deque<std::string> strings_;
  std::deque<capspawn_mount_t> mounts_;
  std::deque<UniqueFd> mount_fds_;
  std::deque<capspawn_capabilities_t> caps_;
  std::deque<capspawn_rlimit_t> rlimits_;
  std::deque<std::vector<uint32_t>> groups_;
  std::deque<std::vector<capspawn_sock_filter_t>> filters_;
  std::deque<UniqueFd> join_fds_;
};

}  // namespace capspawn

#endif  // CAPSPAWN_PROCESS_BUILDER_H_
