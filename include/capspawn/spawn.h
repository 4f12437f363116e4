// SPDX-License-Identifier: Apache-2.0
// capspawn_spawn*: create a process that gets exactly what it is handed.
// The shape of Fuchsia's fdio_spawn; see docs/spawn.md for each flag and action.
#ifndef CAPSPAWN_SPAWN_H_
#define CAPSPAWN_SPAWN_H_

#include <stddef.h>
#include <stdint.h>

#include <capspawn/processargs.h>
#include <capspawn/status.h>

#ifdef __cplusplus
extern "C" {
#endif

// A handle is a file descriptor; -1 is the invalid handle.
#define CAPSPAWN_INVALID_HANDLE (-1)

#define CAPSPAWN_ERR_MSG_MAX_LENGTH 1024
#define CAPSPAWN_MAX_RESOLVE_NAME_SIZE 2048

// Flags: what the child shares with its creator.
#define CAPSPAWN_CLONE_JOB ((uint32_t)0x0001u)
#define CAPSPAWN_DEFAULT_LDSVC ((uint32_t)0x0002u)
#define CAPSPAWN_CLONE_NAMESPACE ((uint32_t)0x0004u)
#define CAPSPAWN_CLONE_STDIO ((uint32_t)0x0008u)
#define CAPSPAWN_CLONE_ENVIRON ((uint32_t)0x0010u)
#define CAPSPAWN_CLONE_UTC_CLOCK ((uint32_t)0x0020u)
#define CAPSPAWN_CLONE_ALL ((uint32_t)0xFFFFu)

// Actions.
#define CAPSPAWN_ACTION_CLONE_FD ((uint32_t)0x0001u)
#define CAPSPAWN_ACTION_TRANSFER_FD ((uint32_t)0x0002u)
#define CAPSPAWN_ACTION_ADD_NS_ENTRY ((uint32_t)0x0003u)
#define CAPSPAWN_ACTION_ADD_HANDLE ((uint32_t)0x0004u)
#define CAPSPAWN_ACTION_SET_NAME ((uint32_t)0x0005u)
#define CAPSPAWN_ACTION_CLONE_DIR ((uint32_t)0x0006u)

// capspawn extensions (not in fdio; numbered from 0x1001 so that fdio's
// future actions never collide). See docs/spawn.md.
// As ADD_NS_ENTRY (ns.prefix, ns.handle, consumed), mounted read-only.
#define CAPSPAWN_ACTION_ADD_NS_ENTRY_READ_ONLY ((uint32_t)0x1001u)
// An empty tmpfs of the child's own at dir.prefix.
#define CAPSPAWN_ACTION_ADD_NS_TMPFS ((uint32_t)0x1002u)
// procfs at dir.prefix, of a new pid namespace in which the program is pid 1.
#define CAPSPAWN_ACTION_ADD_NS_PROC ((uint32_t)0x1003u)
// A read-only directory at dir.prefix holding the device nodes null, zero
// and urandom (bind mounts of the caller's /dev/null, /dev/zero, /dev/urandom).
#define CAPSPAWN_ACTION_ADD_NS_DEV_MINIMAL ((uint32_t)0x1004u)
// Startup-handle extensions (0x11xx).
// As ADD_HANDLE (named.id, named.handle, consumed) for a typed handle, whose
// LISTEN_FDNAMES entry is named.name ("http": 1 to 255 bytes of printable
// ASCII without ':') instead of its id's "<type>.<arg>": the name a program
// written for systemd's socket units looks for. The child still finds it by
// id (capspawn_take_startup_handle) or by name
// (capspawn_take_startup_handle_by_name); see docs/startup-handles.md.
#define CAPSPAWN_ACTION_ADD_NAMED_HANDLE ((uint32_t)0x1101u)

// Container actions (capspawn extensions; see docs/containers.md for the
// order in which the child applies them). Actions that need more than the
// union's 16 bytes point at an option struct, read during the call only.

// New namespaces (new_ns.flags, CAPSPAWN_NEW_NS_*). A user namespace comes
// with any of them for a non-root caller (the caller mapped to itself unless
// ADD_UID_MAP / ADD_GID_MAP say otherwise).
#define CAPSPAWN_ACTION_NEW_NAMESPACES ((uint32_t)0x1005u)
// sethostname(name.data) in a new UTS namespace (implies CAPSPAWN_NEW_NS_UTS).
#define CAPSPAWN_ACTION_SET_HOSTNAME ((uint32_t)0x1006u)
// A mount on top of the child's filesystem (mount.spec), in action order.
#define CAPSPAWN_ACTION_ADD_MOUNT ((uint32_t)0x1007u)
// Hide dir.prefix (OCI maskedPaths): /dev/null over a file, an empty
// read-only tmpfs over a directory; a missing path is skipped.
#define CAPSPAWN_ACTION_MASK_PATH ((uint32_t)0x1008u)
// Make dir.prefix read-only, recursively (OCI readonlyPaths); missing: skipped.
#define CAPSPAWN_ACTION_READ_ONLY_PATH ((uint32_t)0x1009u)
// The default device nodes in directory dir.prefix ("/dev"): null, zero, full,
// random, urandom, tty (bind mounts of the caller's), and the symlinks fd,
// stdin, stdout, stderr, ptmx.
#define CAPSPAWN_ACTION_ADD_DEVICES ((uint32_t)0x100Au)
// The five capability sets (caps.sets).
#define CAPSPAWN_ACTION_SET_CAPABILITIES ((uint32_t)0x100Bu)
// prctl(PR_SET_NO_NEW_PRIVS) before exec (no union member).
#define CAPSPAWN_ACTION_SET_NO_NEW_PRIVS ((uint32_t)0x100Cu)
// One resource limit (rlimit.limit); the last one per resource wins.
#define CAPSPAWN_ACTION_SET_RLIMIT ((uint32_t)0x100Du)
// The uid and gid the program runs as (ids.uid, ids.gid; in the child's user
// namespace when it has one). Supplementary groups: SET_GROUPS (else none).
#define CAPSPAWN_ACTION_SET_IDS ((uint32_t)0x100Eu)
// Supplementary groups (groups.list, groups.count), with SET_IDS.
#define CAPSPAWN_ACTION_SET_GROUPS ((uint32_t)0x100Fu)
// umask(number.value) before exec.
#define CAPSPAWN_ACTION_SET_UMASK ((uint32_t)0x1010u)
// One line of the child's user namespace uid_map / gid_map (idmap); implies
// CAPSPAWN_NEW_NS_USER.
#define CAPSPAWN_ACTION_ADD_UID_MAP ((uint32_t)0x1011u)
#define CAPSPAWN_ACTION_ADD_GID_MAP ((uint32_t)0x1012u)
// A seccomp filter (classic BPF, seccomp.program[seccomp.count]) installed
// last, after a job policy's own filter.
#define CAPSPAWN_ACTION_SET_SECCOMP_FILTER ((uint32_t)0x1013u)
// The working directory (dir.prefix, a path in the child's view).
#define CAPSPAWN_ACTION_SET_CWD ((uint32_t)0x1014u)
// Write sysctl.value to /proc/sys/<sysctl.key, dots as slashes> in the
// child's namespaces (net.*, and the namespaced kernel.* and fs.mqueue.*).
#define CAPSPAWN_ACTION_SET_SYSCTL ((uint32_t)0x1015u)
// /proc/self/oom_score_adj = number.value (-1000..1000).
#define CAPSPAWN_ACTION_SET_OOM_SCORE_ADJ ((uint32_t)0x1016u)
// PR_SET_PDEATHSIG: the child gets signal number.value when the thread that
// spawned it exits (die-with-parent).
#define CAPSPAWN_ACTION_SET_DEATH_SIGNAL ((uint32_t)0x1017u)
// Join an existing namespace: join.fd is a namespace fd (/proc/PID/ns/net,
// borrowed: read during the call only), join.type its kind as setns(2) takes
// it: CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWNS
// (the program's "/" and working directory become that namespace's root; no
// private namespace then), CLONE_NEWPID (the program is a process of that pid
// namespace), CLONE_NEWUSER (only the caller's own: another one is
// NOT_SUPPORTED). One join per kind; not with a new namespace of that kind.
#define CAPSPAWN_ACTION_JOIN_NAMESPACE ((uint32_t)0x1018u)
// setsid() before exec (no union member): the program leads a new session
// and process group, with no controlling terminal (setsid(1), Python's
// start_new_session). A stopped process of its own session is never sent the
// kernel's orphaned-process-group SIGHUP when its creator exits.
#define CAPSPAWN_ACTION_NEW_SESSION ((uint32_t)0x1019u)

// CAPSPAWN_ACTION_NEW_NAMESPACES flags.
#define CAPSPAWN_NEW_NS_PID ((uint32_t)0x01u)
#define CAPSPAWN_NEW_NS_NET ((uint32_t)0x02u)  // loopback brought up
#define CAPSPAWN_NEW_NS_IPC ((uint32_t)0x04u)
#define CAPSPAWN_NEW_NS_UTS ((uint32_t)0x08u)
#define CAPSPAWN_NEW_NS_CGROUP ((uint32_t)0x10u)
#define CAPSPAWN_NEW_NS_USER ((uint32_t)0x20u)
// With CAPSPAWN_NEW_NS_PID: pid 1 is a minimal init that reaps orphans and
// forwards signals to the program (pid 2), and exits with its status
// (128 + N when signal N killed it). The process handed back is the init.
// Not with SET_NAME or capspawn_create_without_starting (NOT_SUPPORTED).
#define CAPSPAWN_NEW_NS_PID_INIT ((uint32_t)0x100u)

// CAPSPAWN_ACTION_ADD_MOUNT.
#define CAPSPAWN_MOUNT_BIND ((uint32_t)1)  // `source`: a directory or file fd, consumed
#define CAPSPAWN_MOUNT_PROC ((uint32_t)2)  // procfs (needs CAPSPAWN_NEW_NS_PID)
#define CAPSPAWN_MOUNT_TMPFS ((uint32_t)3)
#define CAPSPAWN_MOUNT_DEVPTS ((uint32_t)4)
#define CAPSPAWN_MOUNT_MQUEUE ((uint32_t)5)
#define CAPSPAWN_MOUNT_SYSFS ((uint32_t)6)
#define CAPSPAWN_MOUNT_CGROUP2 ((uint32_t)7)
// capspawn_mount_t.flags.
#define CAPSPAWN_MOUNT_RDONLY ((uint32_t)0x01u)
#define CAPSPAWN_MOUNT_NOSUID ((uint32_t)0x02u)
#define CAPSPAWN_MOUNT_NODEV ((uint32_t)0x04u)
#define CAPSPAWN_MOUNT_NOEXEC ((uint32_t)0x08u)
#define CAPSPAWN_MOUNT_RELATIME ((uint32_t)0x10u)
#define CAPSPAWN_MOUNT_NOATIME ((uint32_t)0x20u)
#define CAPSPAWN_MOUNT_STRICTATIME ((uint32_t)0x40u)
#define CAPSPAWN_MOUNT_NODIRATIME ((uint32_t)0x80u)
#define CAPSPAWN_MOUNT_RECURSIVE ((uint32_t)0x100u)  // BIND: with the mounts below (rbind)

typedef struct capspawn_mount {
  uint32_t kind;       // CAPSPAWN_MOUNT_BIND...
  uint32_t flags;      // CAPSPAWN_MOUNT_RDONLY...
  const char* target;  // absolute path in the child's view; missing directories
                       // are created in a root directory entry ("/")
  int source;          // BIND: the directory or file (consumed); else -1
  const char* data;    // file system options ("size=64m,mode=1777"), or NULL
} capspawn_mount_t;

// CAPSPAWN_ACTION_SET_CAPABILITIES: bit n is capability n (CAP_CHOWN = 0...).
typedef struct capspawn_capabilities {
  uint64_t bounding;
  uint64_t effective;
  uint64_t permitted;
  uint64_t inheritable;
  uint64_t ambient;
} capspawn_capabilities_t;

// CAPSPAWN_ACTION_SET_RLIMIT: RLIMIT_* resource; UINT64_MAX is infinity.
typedef struct capspawn_rlimit {
  uint32_t resource;
  uint64_t soft;
  uint64_t hard;
} capspawn_rlimit_t;

// CAPSPAWN_ACTION_SET_SECCOMP_FILTER: struct sock_filter of <linux/filter.h>.
typedef struct capspawn_sock_filter {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
} capspawn_sock_filter_t;

typedef struct capspawn_action {
  uint32_t action;
  union {
    struct {
      int local_fd;
      int target_fd;
    } fd;
    struct {
      const char* prefix;
      int handle;
    } ns;
    struct {
      uint32_t id;
      int handle;
    } h;
    struct {
      uint32_t id;
      int handle;
      const char* name;
    } named;
    struct {
      const char* data;
    } name;
    struct {
      const char* prefix;
    } dir;
    struct {
      uint32_t flags;
    } new_ns;
    struct {
      const capspawn_mount_t* spec;
    } mount;
    struct {
      const capspawn_capabilities_t* sets;
    } caps;
    struct {
      const capspawn_rlimit_t* limit;
    } rlimit;
    struct {
      uint32_t uid;
      uint32_t gid;
    } ids;
    struct {
      const uint32_t* list;
      size_t count;
    } groups;
    struct {
      uint32_t inside;   // first id in the child's user namespace
      uint32_t outside;  // first id in the caller's
      uint32_t count;
    } idmap;
    struct {
      const capspawn_sock_filter_t* program;
      size_t count;
    } seccomp;
    struct {
      const char* key;  // "net.ipv4.ip_forward"
      const char* value;
    } sysctl;
    struct {
      int32_t value;
    } number;
    struct {
      uint32_t type;  // CLONE_NEWNET...
      int fd;         // borrowed
    } join;
  };
} capspawn_action_t;

#if defined(__cplusplus)
static_assert(sizeof(void*) != 8 || sizeof(capspawn_action_t) == 24,
              "capspawn_action_t keeps fdio's size");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(void*) != 8 || sizeof(capspawn_action_t) == 24,
               "capspawn_action_t keeps fdio's size");
#endif

// Spawns `path` in `job` (-1: the caller's own cgroup) with argv. Does not take `job`.
capspawn_status_t capspawn_spawn(int job, uint32_t flags, const char* path, const char* const* argv,
                                 int* process_out);

// As capspawn_spawn, with an environment (NULL: none, or the caller's with
// CLONE_ENVIRON), actions, and an error message buffer of
// CAPSPAWN_ERR_MSG_MAX_LENGTH bytes (may be NULL).
capspawn_status_t capspawn_spawn_etc(int job, uint32_t flags, const char* path,
                                     const char* const* argv, const char* const* environ,
                                     size_t action_count, const capspawn_action_t* actions,
                                     int* process_out, char* err_msg_out);

// As capspawn_spawn_etc, with the program given as an fd. Always consumes executable_fd.
capspawn_status_t capspawn_spawn_vmo(int job, uint32_t flags, int executable_fd,
                                     const char* const* argv, const char* const* environ,
                                     size_t action_count, const capspawn_action_t* actions,
                                     int* process_out, char* err_msg_out);

// Waits for the process (a pidfd) to terminate; timeout_ns < 0 waits forever.
// *return_code: the exit status, or -signo when a signal killed it.
// Works for the parent and for any other holder of the pidfd (kernel >= 6.15).
capspawn_status_t capspawn_process_wait(int process, int64_t timeout_ns, int64_t* return_code);

// Kills the process (SIGKILL through its pidfd). Killing an exited process is OK.
capspawn_status_t capspawn_process_kill(int process);

#ifdef __cplusplus
}
#endif

#endif  // CAPSPAWN_SPAWN_H_
