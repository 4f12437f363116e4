// SPDX-License-Identifier: Apache-2.0
#include "api/barrier.h"

namespace capspawn::api {

std::atomic<EntryHook> g_entry_hook{nullptr};

}  // namespace capspawn::api
