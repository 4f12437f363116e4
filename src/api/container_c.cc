// SPDX-License-Identifier: Apache-2.0
// The C API of capability names: wrappers over container's CapabilityFromName,
// CapabilityName and LastCapability.
#include <capspawn/container.h>

#include "api/barrier.h"
#include "container/caps.h"

extern "C" int capspawn_capability_from_name(const char* name) {
  return capspawn::api::GuardValue(-1,
                                   [&] { return capspawn::container::CapabilityFromName(name); });
}

extern "C" const char* capspawn_capability_name(int capability) {
  return capspawn::api::GuardValue<const char*>(
      nullptr, [&] { return capspawn::container::CapabilityName(capability); });
}

extern "C" int capspawn_capability_last(void) {
  return capspawn::api::GuardValue(-1, [] { return capspawn::container::LastCapability(); });
}
