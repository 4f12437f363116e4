// SPDX-License-Identifier: Apache-2.0
// The layouts of the C API's structures are ABI: a change to one breaks every
// program built against an older header. These fix them for the LP64 targets
// capspawn supports (x86_64, aarch64).
#include <capspawn/spawn.h>
#include <capspawn/start.h>

#include <cstddef>

static_assert(sizeof(void*) == 8, "capspawn's C ABI is defined for LP64 targets");

static_assert(sizeof(capspawn_action_t) == 24 && alignof(capspawn_action_t) == 8);
static_assert(offsetof(capspawn_action_t, action) == 0);
static_assert(offsetof(capspawn_action_t, fd.local_fd) == 8);
static_assert(offsetof(capspawn_action_t, fd.target_fd) == 12);
static_assert(offsetof(capspawn_action_t, ns.prefix) == 8);
static_assert(offsetof(capspawn_action_t, ns.handle) == 16);
static_assert(offsetof(capspawn_action_t, h.id) == 8);
static_assert(offsetof(capspawn_action_t, h.handle) == 12);
static_assert(offsetof(capspawn_action_t, named.id) == 8);
static_assert(offsetof(capspawn_action_t, named.handle) == 12);
static_assert(offsetof(capspawn_action_t, named.name) == 16);
static_assert(offsetof(capspawn_action_t, name.data) == 8);
static_assert(offsetof(capspawn_action_t, dir.prefix) == 8);

static_assert(sizeof(capspawn_start_data_t) == 48 && alignof(capspawn_start_data_t) == 8);
static_assert(offsetof(capspawn_start_data_t, process) == 0);
static_assert(offsetof(capspawn_start_data_t, root_vmar) == 4);
static_assert(offsetof(capspawn_start_data_t, thread) == 8);
static_assert(offsetof(capspawn_start_data_t, entry) == 16);
static_assert(offsetof(capspawn_start_data_t, stack) == 24);
static_assert(offsetof(capspawn_start_data_t, base) == 32);
static_assert(offsetof(capspawn_start_data_t, vdso_base) == 40);
