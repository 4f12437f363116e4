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
  };
} capspawn_action_t;

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
