// SPDX-License-Identifier: Apache-2.0
// The C API of typed startup handles: wrappers over startup's TakeHandle,
// TakeHandleByName, HandleName and ParseHandleName.
#include <capspawn/startup.h>

#include <string_view>

#include "api/barrier.h"
#include "startup/handle_names.h"
#include "startup/take_handle.h"

extern "C" int capspawn_take_startup_handle(uint32_t id) {
  return capspawn::api::GuardValue(-1, [&] { return capspawn::startup::TakeHandle(id); });
}

extern "C" int capspawn_take_startup_handle_by_name(const char* name) {
  return capspawn::api::GuardValue(-1, [&] { return capspawn::startup::TakeHandleByName(name); });
}

extern "C" int capspawn_startup_handle_name(uint32_t id, char* buf, size_t size) {
  return capspawn::api::GuardValue(-1,
                                   [&] { return capspawn::startup::HandleName(id, buf, size); });
}

extern "C" int capspawn_startup_handle_parse_name(const char* name, size_t len, uint32_t* id_out) {
  return capspawn::api::GuardValue(-1, [&] {
    return capspawn::startup::ParseHandleName(std::string_view(name, len), id_out) ? 0 : -1;
  });
}
