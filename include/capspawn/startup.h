// SPDX-License-Identifier: Apache-2.0
// For the spawned program: find the typed handles its creator handed it.
//
// Typed handles (every id except PA_FD, which lands at its fd number) arrive as
// consecutive fds from 3, described by systemd's socket-activation variables:
// LISTEN_FDS=N, LISTEN_PID=<the child's pid>, LISTEN_FDNAMES=<name>:<name>...
// Each name is the id spelled "<type>.<arg>" (for example "user0.1",
// "directory_request.0"; "0x<hex type>.<arg>" for types without a name), so
// sd_listen_fds_with_names() reads them too. A creator may give a handle a
// name of its own instead ("http", with CAPSPAWN_ACTION_ADD_NAMED_HANDLE), for
// programs written for systemd's socket units; its id then travels in
// CAPSPAWN_STARTUP_IDS (one id name per fd). See docs/startup-handles.md.
#ifndef CAPSPAWN_STARTUP_H_
#define CAPSPAWN_STARTUP_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Returns the fd handed with `id` and forgets it (a second call returns -1);
// -1 when no handle with that id was handed to this process.
int capspawn_take_startup_handle(uint32_t id);

// Returns the first not yet taken fd whose LISTEN_FDNAMES name is `name`
// (a name of the creator's choosing, or an id's "<type>.<arg>") and forgets
// it; -1 when there is none.
int capspawn_take_startup_handle_by_name(const char* name);

// Formats the LISTEN_FDNAMES name of `id` into buf (NUL-terminated).
// Returns the length, or -1 when buf is too small (32 bytes always suffice).
int capspawn_startup_handle_name(uint32_t id, char* buf, size_t size);

// Parses a LISTEN_FDNAMES name back into an id. Returns 0 and sets *id_out, or -1.
int capspawn_startup_handle_parse_name(const char* name, size_t len, uint32_t* id_out);

// Each of these fails inside the library (-1) only with errno ENOMEM or
// ENOTRECOVERABLE; their ordinary -1 leaves errno unspecified.

#ifdef __cplusplus
}
#endif

#endif  // CAPSPAWN_STARTUP_H_
